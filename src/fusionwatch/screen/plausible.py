"""Values a coded extract (OMOP) can carry but a case file cannot: set aside, counted, in SQL.

The registry reader refuses such cells with the file, row and column (the registry is written
for fusionwatch and can be corrected). An OMOP extract is read through code mappings, where a
value outside the case file's plausible range (a pain score of 15), a fraction where the case
file takes whole numbers, a temperature without its unit, or months since surgery given with a
surgery date is not an error of the extract's own format. Such a cell is set aside: read as
unknown, counted under "Not used" by fact and reason, so that every screened episode is a case
the single-case reader accepts (its worklist row opens in the workspace). Bounds and whole
numbers come from the case model (``screen.columns.field_spec``), never written here.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import FactType
from fusionwatch.core.vocab import TemperatureUnit
from fusionwatch.screen.columns import field_spec
from fusionwatch.screen.compiler import literal, number
from fusionwatch.screen.schema import COLLECTIONS, column

_UNIT_RANGE = {TemperatureUnit.CELSIUS: (30.0, 45.0), TemperatureUnit.FAHRENHEIT: (86.0, 113.0)}


@dataclass(frozen=True, slots=True)
class Implausible:
    fact: str
    bad: str
    reason: str

    @property
    def note(self) -> str:
        return f"{self.fact}: {self.reason} (set aside as unknown)"


def checks(kb: Knowledge) -> Iterator[Implausible]:
    """Every cell check the case model makes that a mapped value can fail."""
    for fact in kb.data.facts:
        if fact.derived or fact.id in COLLECTIONS or fact.type is not FactType.NUMBER:
            continue
        kind, low, high = field_spec(fact.id)
        cell = column(fact.id)
        if low is not None or high is not None:
            out = " OR ".join(
                f"{cell} {op} {number(bound)}"
                for op, bound in (("<", low), (">", high))
                if bound is not None
            )
            yield Implausible(
                fact.id,
                f"({out})",
                f"outside {low:g}-{high:g}"
                if low is not None and high is not None
                else "outside the case file's range",
            )
        if kind is int:
            yield Implausible(fact.id, f"({cell} <> ROUND({cell}))", "not a whole number")
    temp, unit = column("infection.temperature"), column("infection.temperature_unit")
    yield Implausible(
        "infection.temperature", f"({temp} IS NOT NULL AND {unit} IS NULL)", "no unit"
    )
    for code, (low, high) in _UNIT_RANGE.items():
        yield Implausible(
            "infection.temperature",
            f"({unit} = {literal(code.value)} AND ({temp} < {low} OR {temp} > {high}))",
            f"outside {low:g}-{high:g} °{code.value}",
        )
    yield Implausible(
        "surgery.months_since",
        f"({column('surgery.date')} IS NOT NULL AND {column('surgery.months_since')} IS NOT NULL)",
        "given with a surgery date",
    )


def set_aside(
    con: duckdb.DuckDBPyConnection, kb: Knowledge, table: str = "episodes"
) -> dict[str, int]:
    """Set the implausible cells of ``table`` (a table) to NULL; counts by note."""
    found = list(checks(kb))
    sums = ", ".join(f"COUNT(*) FILTER (WHERE COALESCE({c.bad}, FALSE))" for c in found)
    counts = con.execute(f"SELECT {sums} FROM {table}").fetchall()[0]
    noted: dict[str, int] = {}
    for check, n in zip(found, counts, strict=True):
        if n:
            noted[check.note] = noted.get(check.note, 0) + int(n)
    if not noted:
        return {}
    by_fact: dict[str, list[str]] = {}
    for check, n in zip(found, counts, strict=True):
        if n:
            by_fact.setdefault(check.fact, []).append(f"COALESCE({check.bad}, FALSE)")
    replaced = ", ".join(
        f"CASE WHEN {' OR '.join(bad)} THEN NULL ELSE {column(fact)} END AS {column(fact)}"
        for fact, bad in by_fact.items()
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * REPLACE ({replaced}) FROM {table}"
    )
    return noted
