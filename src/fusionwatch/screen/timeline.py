"""The single-case reader's timeline checks (``core.timeline``) over a whole episode table, in SQL.

A case file whose answers contradict each other in time is refused by ``assess`` and the
workspace ("cannot be assessed as one case"): rehab weeks longer than the time since surgery,
pain coming back at a month later than the time since surgery, a smoking quit date after the
assessment date. A screen cannot ask the person to correct one row of a registry, and refusing
the whole run for one contradictory cell would leave every other episode unscreened; so the
offending cell is **set aside**: read as unknown (never as "no"), counted under "Not used" by
column and reason, and named on the episode's worklist row (``set_aside``). The episode is then
screened, saved and opened in the workspace as the case without that cell, which the
single-case reader accepts, so every worklist row opens as one case.

The checks are the core's own, with its constants (one week and one month of slack for rounded
answers) and the time since the last operation computed by the screen's SQL (``screen.derived``),
which equals ``core.derive.timing`` (the equivalence test compares them through the rules).
"""

import datetime as dt
from dataclasses import dataclass

import duckdb

from fusionwatch.core.timeline import SLACK_MONTHS, SLACK_WEEKS, WEEKS_PER_MONTH
from fusionwatch.screen.compiler import literal, number
from fusionwatch.screen.derived import operations_cte, timing_sql
from fusionwatch.screen.dialect import DUCKDB
from fusionwatch.screen.schema import EPISODE_ID, column

# The worklist column naming the cells an episode was screened without (';'-separated fact ids).
SET_ASIDE = "set_aside"
# The per-episode table of set-aside cells (episode_id, set_aside), empty when none.
TABLE = "timeline_set_aside"
SEP = ";"
_MONTHS = "m"  # the months-since-surgery column inside the check query


@dataclass(frozen=True, slots=True)
class Contradiction:
    """One timeline check: the fact whose cell is set aside, when it fails, and why."""

    fact: str
    reason: str

    def bad(self, today: str) -> str:
        """SQL, TRUE when the episode row ``e`` fails the check (with ``m`` its months)."""
        cell = f"e.{column(self.fact)}"
        if self.fact == "risk.nicotine_quit_date":
            return f"({cell} > {today})"
        if self.fact == "care.rehab_weeks":
            weeks = f"{_MONTHS} * {number(WEEKS_PER_MONTH)}"
            return f"({cell} > {weeks} + {number(SLACK_WEEKS)})"
        if self.fact == "signs.worsening_began_month":
            return f"({cell} > {_MONTHS} + {number(SLACK_MONTHS)})"
        raise ValueError(f"no timeline check for {self.fact}")  # pragma: no cover


# The same checks, in the same order, as core.timeline.timeline_problems.
CHECKS = (
    Contradiction("risk.nicotine_quit_date", "the quit date is after the screening date"),
    Contradiction("care.rehab_weeks", "longer than the time since surgery"),
    Contradiction("signs.worsening_began_month", "later than the time since surgery"),
)


def note(check: Contradiction) -> str:
    """How a set-aside cell is counted under "Not used"."""
    return f"{check.fact}: {check.reason} (set aside as unknown)"


def set_aside(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    episodes: str = "episodes",
    operations: str = "operations",
) -> dict[str, int]:
    """Set aside every cell of ``episodes`` that fails a timeline check; the counts by note.

    ``episodes`` (a table or view) is replaced by a view of itself without those cells when any
    fails (the rows as read stay in ``<episodes>_as_read``); ``timeline_set_aside`` always exists
    and lists each episode with cells set aside.
    """
    today = DUCKDB.date_literal(as_of.isoformat())
    ops_name, ops_sql = operations_cte(DUCKDB, today, operations)
    checked = (
        f"WITH {ops_name} AS ({ops_sql}) SELECT e.{EPISODE_ID},"
        + ", ".join(f" COALESCE({c.bad(today)}, FALSE) AS bad{i}" for i, c in enumerate(CHECKS))
        + f" FROM (SELECT e.*, {timing_sql(DUCKDB, today)} AS {_MONTHS} FROM {episodes} e"
        f" LEFT JOIN {ops_name} o ON o.{EPISODE_ID} = e.{EPISODE_ID}) e"
    )
    any_bad = " OR ".join(f"bad{i}" for i in range(len(CHECKS)))
    cells = ", ".join(f"CASE WHEN bad{i} THEN {literal(c.fact)} END" for i, c in enumerate(CHECKS))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {TABLE} AS SELECT {EPISODE_ID},"
        f" concat_ws({literal(SEP)}, {cells}) AS {SET_ASIDE}, {', '.join(f'bad{i}' for i in range(len(CHECKS)))}"
        f" FROM ({checked}) WHERE {any_bad}"
    )
    sums = ", ".join(f"COUNT(*) FILTER (WHERE bad{i})" for i in range(len(CHECKS)))
    found = con.execute(f"SELECT {sums} FROM {TABLE}").fetchall()[0]
    counts = {note(c): int(n) for c, n in zip(CHECKS, found, strict=True) if n}
    if counts:
        _without_set_aside(con, episodes)
    return counts


def _without_set_aside(con: duckdb.DuckDBPyConnection, episodes: str) -> None:
    """``episodes`` becomes a view of the rows as read with the set-aside cells as NULL."""
    as_read = f"{episodes}_as_read"
    left = _kind(con, as_read)  # from an earlier read on this connection
    if left is not None:
        con.execute(f"DROP {left} {as_read}")
    con.execute(f"ALTER {_kind(con, episodes)} {episodes} RENAME TO {as_read}")
    replaced = ", ".join(
        f"CASE WHEN s.bad{i} THEN NULL ELSE e.{column(c.fact)} END AS {column(c.fact)}"
        for i, c in enumerate(CHECKS)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {episodes} AS SELECT e.* REPLACE ({replaced})"
        f" FROM {as_read} e LEFT JOIN {TABLE} s ON s.{EPISODE_ID} = e.{EPISODE_ID}"
    )


def _kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    found = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    if not found:
        return None
    return "VIEW" if found[0][0] == "VIEW" else "TABLE"


def worklist_column(con: duckdb.DuckDBPyConnection, key: str) -> tuple[str, str]:
    """(select, join) that add the ``set_aside`` column to a query over episodes keyed ``key``."""
    exists = con.execute(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [TABLE]
    ).fetchall()[0][0]
    if not exists:
        return f"CAST(NULL AS VARCHAR) AS {SET_ASIDE}", ""
    return (
        f"{TABLE}.{SET_ASIDE} AS {SET_ASIDE}",
        f" LEFT JOIN {TABLE} ON {TABLE}.{EPISODE_ID} = {key}",
    )
