"""Compiles the knowledge base's conditions, tables and counts into SQL over the episode table.

SQL's NULL is the engine's unknown: ``AND``/``OR``/``NOT`` on NULL follow the same Kleene tables
as ``core.logic``, a comparison with NULL is NULL, and ``at least n of`` is spelled out with the
same true/unknown counts. Nothing here is hand-written per rule: a new rule, table or count in the
knowledge base compiles without code, and anything the compiler cannot express raises
``CompileError`` instead of being skipped.
"""

from collections.abc import Callable, Collection

from fusionwatch.core.compiled import CompiledTable, Knowledge
from fusionwatch.core.knowledge import (
    AllOf,
    AnyOf,
    AtLeast,
    Compare,
    Condition,
    Equals,
    FactType,
    Is,
    Known,
    NoneOf,
    OneOf,
)
from fusionwatch.screen.schema import SQL_TYPE, column

_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class CompileError(ValueError):
    """A condition or fact the SQL compiler cannot express (never silently skipped)."""


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def number(value: float) -> str:
    return f"CAST({float(value)!r} AS DOUBLE)"


class ConditionCompiler:
    """Turns one condition into a SQL boolean expression (NULL = unknown)."""

    def __init__(self, kb: Knowledge, available: Callable[[str], str]) -> None:
        # ``available`` maps a fact id to the SQL that reads it at this stage, or raises.
        self.kb, self.read = kb, available

    def sql(self, cond: Condition) -> str:  # noqa: PLR0911
        if isinstance(cond, Is):
            self._expect(cond.fact, {FactType.ANSWER}, "is")
            return f"({self.read(cond.fact)} = {'TRUE' if cond.is_ == 'yes' else 'FALSE'})"
        if isinstance(cond, Equals):
            self._expect(cond.fact, {FactType.CHOICE, FactType.TEXT}, "equals")
            return f"({self.read(cond.fact)} = {literal(cond.equals)})"
        if isinstance(cond, OneOf):
            self._expect(cond.fact, {FactType.CHOICE, FactType.TEXT}, "in")
            values = ", ".join(literal(v) for v in cond.in_)
            return f"({self.read(cond.fact)} IN ({values}))"
        if isinstance(cond, Known):
            return f"({self.read(cond.known)} IS NOT NULL)"
        if isinstance(cond, Compare):
            self._expect(cond.fact, {FactType.NUMBER}, "compare")
            value = self.read(cond.fact)
            tests = [f"{value} {_OPS[op]} {self._threshold(ref)}" for op, ref in cond.bounds()]
            return "(" + " AND ".join(tests) + ")"
        if isinstance(cond, AllOf):
            return "(" + " AND ".join(self.sql(p) for p in cond.all) + ")"
        if isinstance(cond, AnyOf):
            return "(" + " OR ".join(self.sql(p) for p in cond.any) + ")"
        if isinstance(cond, NoneOf):
            return "(NOT (" + " OR ".join(self.sql(p) for p in cond.none) + "))"
        if isinstance(cond, AtLeast):
            return self._at_least(cond)
        raise CompileError(f"no SQL for condition {type(cond).__name__}")

    def _at_least(self, cond: AtLeast) -> str:
        parts = [self.sql(p) for p in cond.of]
        true = " + ".join(f"(CASE WHEN {p} IS TRUE THEN 1 ELSE 0 END)" for p in parts)
        possible = " + ".join(f"(CASE WHEN {p} IS NOT FALSE THEN 1 ELSE 0 END)" for p in parts)
        n = cond.at_least
        return f"(CASE WHEN ({true}) >= {n} THEN TRUE WHEN ({possible}) >= {n} THEN NULL ELSE FALSE END)"

    def _threshold(self, ref: str) -> str:
        if ref not in self.kb.thresholds:
            raise CompileError(f"unknown threshold {ref}")
        return number(self.kb.thresholds[ref])

    def _expect(self, fact: str, types: Collection[FactType], test: str) -> None:
        known = self.kb.facts.get(fact)
        if known is None:
            raise CompileError(f"unknown fact {fact}")
        if known.type not in types:
            raise CompileError(f"'{test}' on {fact} ({known.type.value}) has no SQL form")


def table_sql(table: CompiledTable, read: Callable[[str], str], *, kb: Knowledge) -> str:
    """A first-hit banding table as CASE (NULL when the input is unknown or no row matches)."""
    compiler = ConditionCompiler(kb, read)
    arms = []
    for row in table.table.rows:
        bounds = {k: getattr(row, k) for k in ("gt", "gte", "lt", "lte")}
        test = compiler.sql(Compare(fact=table.table.input, **bounds))
        arms.append(f"WHEN {test} THEN {literal(row.output)}")
    return "(CASE " + " ".join(arms) + " ELSE NULL END)"


def count_sql(parts: tuple[Condition, ...], read: Callable[[str], str], *, kb: Knowledge) -> str:
    """How many parts are known to hold (a count is never unknown, as in the engine)."""
    compiler = ConditionCompiler(kb, read)
    terms = [f"(CASE WHEN {compiler.sql(p)} IS TRUE THEN 1 ELSE 0 END)" for p in parts]
    return "CAST(" + " + ".join(terms) + " AS DOUBLE)"


def plain_reader(
    kb: Knowledge, ready: Collection[str], null: Collection[str] = ()
) -> Callable[[str], str]:
    """Reads facts that already have columns; facts in ``null`` are not set yet (unknown)."""

    def read(fact: str) -> str:
        if fact in ready:
            return column(fact)
        if fact in null:
            return f"CAST(NULL AS {SQL_TYPE[kb.facts[fact].type]})"
        raise CompileError(f"fact {fact} has no column in the screen (no SQL derivation for it)")

    return read
