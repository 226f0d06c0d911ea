"""The facts the engine derives in code before any rule runs, as SQL over the episode tables.

Each one mirrors a named step of ``core.engine._Run._derive``: time since the last operation
(index fusion and later operations, unknown when any of them has no timing), a revision for
nonunion in the history, the temperature in °C, how many emergency questions were answered "not
sure", and what the record holds (``screen.record``: which tests are on record and when, from the
imaging studies table). The other facts derived from per-level studies are not in SQL yet: they
stay unknown (NULL), and an episode whose studies could set them is flagged and screened as one
without studies (``screen.record.not_read_sql``).
"""

from collections.abc import Iterable

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.derive.record import record_facts
from fusionwatch.core.vocab import TemperatureUnit
from fusionwatch.screen.compiler import literal, number
from fusionwatch.screen.dialect import Dialect
from fusionwatch.screen.months import months_sql
from fusionwatch.screen.record import LEVEL_DERIVED, RECORD_SQL, SUMMARY
from fusionwatch.screen.schema import (
    EPISODE_ID,
    HISTORY_FAILED,
    NOT_SURE,
    NOT_SURE_SEP,
    SQL_TYPE,
    column,
)

# Facts the engine derives from per-level imaging studies that are not in SQL yet (none now:
# screen.record derives them all); an episode whose studies could set one would be flagged and
# screened as one without studies.
STUDY_FACTS: tuple[str, ...] = ()
# What the record holds when the case has no per-level studies.
RECORD = record_facts((), (), ())
_FROM_LEVELS = {"derived.months_without_progress", "derived.adjacent_segment_change"}
if set(RECORD) != {*RECORD_SQL, *LEVEL_DERIVED} - _FROM_LEVELS:  # pragma: no cover
    raise ImportError("screen.record does not derive every record fact of core.derive.record")
TIMING = "derived.months_since_surgery"
PRIOR_FAILED = "surgery.prior_failed_fusion_same_site"


# Not a fact: the trajectories' months restart after a later operation by this many months.
SCORE_SHIFT = "score_shift"


def not_sure(fact: str, table: str = "") -> str:
    """True when the answer to ``fact`` was given as "not sure" (never NULL)."""
    held = f"{table}.{NOT_SURE}" if table else NOT_SURE
    listed = f"concat({literal(NOT_SURE_SEP)}, COALESCE({held}, ''), {literal(NOT_SURE_SEP)})"
    return f"(instr({listed}, {literal(NOT_SURE_SEP + fact + NOT_SURE_SEP)}) > 0)"


def operations_cte(dialect: Dialect, today: str, operations: str) -> tuple[str, str]:
    """Per episode with later operations: how many, how many without timing, the latest."""
    ago = f"CASE WHEN op_date IS NULL THEN months_since ELSE {months_sql(dialect, 'op_date', today)} END"
    return (
        "ops",
        f"SELECT {EPISODE_ID}, COUNT(*) AS n_ops,"
        " SUM(CASE WHEN ago IS NULL THEN 1 ELSE 0 END) AS n_untimed, MIN(ago) AS last_ago"
        f" FROM (SELECT {EPISODE_ID}, {ago} AS ago FROM {operations}) GROUP BY {EPISODE_ID}",
    )


def timing_sql(dialect: Dialect, today: str) -> str:
    """Months since the last operation (core.derive.timing.last_operation), over ``e`` and ``o``."""
    index = (
        "CASE WHEN e.surgery__date IS NULL THEN e.surgery__months_since"
        f" ELSE {months_sql(dialect, 'e.surgery__date', today)} END"
    )
    return (
        f"CASE WHEN ({index}) IS NULL OR COALESCE(o.n_untimed, 0) > 0 THEN NULL"
        f" WHEN o.last_ago IS NULL THEN ({index})"
        f" WHEN o.last_ago < ({index}) THEN o.last_ago ELSE ({index}) END"
    )


def score_shift_sql(dialect: Dialect, today: str) -> str:
    """Months from the index fusion to a later last operation (core.engine._restart), else NULL.

    Score months restart there (decision 0004): NULL when the index fusion is the last operation
    or when any timing is unknown.
    """
    index = (
        "CASE WHEN e.surgery__date IS NULL THEN e.surgery__months_since"
        f" ELSE {months_sql(dialect, 'e.surgery__date', today)} END"
    )
    return (
        f"CASE WHEN ({index}) IS NULL OR COALESCE(o.n_untimed, 0) > 0 THEN NULL"
        f" WHEN o.last_ago < ({index}) THEN ({index}) - o.last_ago END"
    )


def timing_columns(dialect: Dialect, today: str) -> list[tuple[str, str]]:
    """(column, SQL) of the facts derived from the index fusion and the later operations, over
    ``e`` (the episode) and ``o`` (its row of ``operations_cte``); a narrow step that the score
    trajectories read as well."""
    return [
        (column(TIMING), timing_sql(dialect, today)),
        (SCORE_SHIFT, score_shift_sql(dialect, today)),
        ("surgery__operations", "CASE WHEN o.n_ops > 0 THEN 'given' END"),
    ]


def base_columns(kb: Knowledge) -> list[tuple[str, str]]:
    """(column, SQL) of the facts derived from the episode row ``e`` alone."""
    emergency = sorted(kb.emergency_unsure, key=lambda f: kb.fact_order[f])
    unsure = " + ".join(f"(CASE WHEN {not_sure(f, 'e')} THEN 1 ELSE 0 END)" for f in emergency)
    celsius, fahrenheit = (literal(u.value) for u in TemperatureUnit)
    temp = "e.infection__temperature"
    return [
        (
            column(PRIOR_FAILED),
            f"CASE WHEN e.{HISTORY_FAILED} THEN TRUE ELSE e.{column(PRIOR_FAILED)} END",
        ),
        (
            "derived__temperature_c",
            f"CASE WHEN e.infection__temperature_unit = {celsius} THEN {temp}"
            f" WHEN e.infection__temperature_unit = {fahrenheit}"
            f" THEN ROUND(({temp} - 32) * 5 / 9, 2) END",
        ),
        ("derived__emergency_not_sure", f"CAST({unsure or '0'} AS DOUBLE)"),
        *(
            (
                column(fact),
                f"CASE WHEN e.{column(fact)} IS NULL AND NOT {not_sure(fact, 'e')}"
                f" AND e.{column(broader)} IS FALSE THEN FALSE ELSE e.{column(fact)} END",
            )
            for fact, broader in kb.implied_no.items()
        ),
    ]


def constant_columns(kb: Knowledge) -> list[tuple[str, str]]:
    """The study facts not derived in SQL yet, as NULL (the engine's value for every episode
    that ``screen.record`` does not flag)."""
    return [(column(f), _constant(kb, f, None)) for f in STUDY_FACTS if f in kb.facts]


def record_columns(kb: Knowledge, flag: str) -> list[tuple[str, str]]:
    """The facts derived from the studies (``screen.record``) unless ``flag`` holds; then, and
    without studies, as the engine sets them for a case without studies: the record facts, the
    summary answers the judged levels fill where none was given (``given__<column>``), and
    ``ct_solid_fusion`` and months without progress."""
    found = []
    for i, fact in enumerate(RECORD_SQL):
        empty = _constant(kb, fact, RECORD[fact])
        found.append(
            (column(fact), f"CASE WHEN {flag} THEN {empty} ELSE COALESCE(rf_{i}, {empty}) END")
        )
    for fact, derived in SUMMARY.items():
        given = f"given__{column(fact)}"
        found.append(
            (column(fact), f"CASE WHEN {flag} THEN {given} ELSE COALESCE({given}, {derived}) END")
        )
    for fact, derived in LEVEL_DERIVED.items():
        # As the engine without studies: a record fact's own value (no lucency on record), else NULL.
        empty = _constant(kb, fact, RECORD.get(fact))
        found.append(
            (column(fact), f"CASE WHEN {flag} THEN {empty} ELSE COALESCE({derived}, {empty}) END")
        )
    return found


def _constant(kb: Knowledge, fact: str, value: object) -> str:
    if value is None:
        return f"CAST(NULL AS {SQL_TYPE[kb.facts[fact].type]})"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return number(value)
    raise TypeError(f"no SQL constant for {fact} = {value!r}")


def derived_facts(kb: Knowledge) -> frozenset[str]:
    """Every fact this module derives (the query marks them ready for the rules)."""
    named: Iterable[str] = (
        TIMING,
        PRIOR_FAILED,
        "surgery.operations",
        "derived.temperature_c",
        "derived.emergency_not_sure",
        *RECORD_SQL,
        *LEVEL_DERIVED,
        *(f for f in STUDY_FACTS if f in kb.facts),
    )
    return frozenset(named)
