"""The screening run: source tables in, a ranked worklist and a small-cell-safe summary out.

Ranking: emergencies first, then urgent (same-day) episodes; then episodes whose only reason for
a referral is that emergency questions were never asked, shown as "screen not done" and not
ranked as findings (an episode with a referral finding of its own is ranked with the referrals
and flagged ``screen_not_done``); then prompt referrals and routine episodes, each by suspicion
band, warning signs and time since surgery. Every row names the knowledge version and the site
settings used. Files are written whole or not at all.
"""

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.site import Site
from fusionwatch.screen import timeline
from fusionwatch.screen.compiler import literal, number
from fusionwatch.screen.dialect import DUCKDB
from fusionwatch.screen.query import screening

# Cells with fewer people than this are suppressed in shared summaries (a common disclosure
# control for health statistics; a named setting, not a clinical threshold).
SMALL_CELL = 11
SUPPRESSED = "<11"
NOT_DONE = "screen not done"
# The screened rows in worklist order (the ``screened`` view unordered).
IN_ORDER = "screened_in_order"


@dataclass(frozen=True, slots=True)
class RunInfo:
    knowledge_version: str
    as_of: dt.date
    site: Site
    default_cutoff: float

    def columns(self) -> str:
        """The run's settings as columns, named as the engine names them in a result."""
        named = self.site.named(self.default_cutoff)
        return (
            f"{literal(self.knowledge_version)} AS knowledge_version,"
            f" DATE '{self.as_of.isoformat()}' AS as_of,"
            f" {literal(str(named['stimulator_policy']))} AS site_stimulator_policy,"
            f" {number(float(named['motion_cutoff_deg']))} AS site_motion_cutoff_deg"
        )


# The columns of the screening query that the worklist reads (also what Spark sends back).
WORKLIST_INPUT = (
    "episode_id",
    "triage",
    "screen_not_done",
    "referral_found",
    "suspicion",
    "result__stimulator_candidate",
    "fired",
    "reasons",
    "open_questions",
    "next_check",
    "derived__phase",
    "derived__months_since_surgery",
    "derived__warning_signs",
    "studies_not_read",
)
# Its long texts, built from their codes (screen.packed).
TEXTS = ("reasons", "fired", "open_questions")


def screen(
    con: duckdb.DuckDBPyConnection,
    kb: Knowledge,
    as_of: dt.date,
    site: Site,
    computed: str | None = None,
) -> None:
    """Screen the ``episodes`` and ``visits`` tables into a ``screened`` view, ranked (and
    ``screened_in_order``, the same rows in worklist order).

    ``computed`` names a relation that already holds the screening query's output (from Spark).
    Screened here, the table keeps the codes of the long texts (reasons, fired rules, open
    questions) and the ``screened`` view builds the texts from them (``screen.packed``): the
    ranking sort and the table then carry a few integers per row, not the strings.
    """
    if computed is None:
        query = screening(kb, as_of, site, texts=False)
        sql = query.sql
        kept = ", ".join(code for p in query.texts for code in p.code_names())
        texts = {p.name: p.text(DUCKDB) for p in query.texts}
    else:
        sql = f"SELECT * FROM {computed}"
        kept = ", ".join(TEXTS)
        texts = {name: name for name in TEXTS}
    info = RunInfo(kb.version, as_of, site, kb.thresholds["motion.angular"])
    group = (
        "CASE WHEN triage = 'emergency' THEN 'emergency' WHEN triage = 'urgent' THEN 'urgent'"
        f" WHEN screen_not_done AND NOT referral_found THEN {literal(NOT_DONE)}"
        " WHEN triage = 'prompt_referral' THEN 'prompt referral' ELSE 'routine' END"
    )
    order = (
        "CASE grp WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 WHEN 'screen not done' THEN 2"
        " WHEN 'prompt referral' THEN 3 ELSE 4 END,"
        " CASE suspicion WHEN 'high' THEN 0 WHEN 'moderate' THEN 1 WHEN 'cannot_tell' THEN 2"
        " ELSE 3 END,"
        " derived__warning_signs DESC NULLS LAST, derived__months_since_surgery DESC NULLS LAST,"
        " screened_q.episode_id"
    )
    not_done = literal(NOT_DONE)
    # Every later read of the result names its order (the rank, or ORDER BY _order), so DuckDB
    # need not keep rows in arrival order: building the table and writing the worklist then run
    # on every thread. (Set here, after the sources were read: CSV rows are numbered in order.)
    con.execute("SET preserve_insertion_order = false")
    set_aside, join = timeline.worklist_column(con, "screened_q.episode_id")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE screened_rows AS SELECT"
        " grp AS worklist_group, screened_q.episode_id, triage, screen_not_done, suspicion,"
        " derived__months_since_surgery AS months_since_surgery, derived__phase AS phase,"
        f" {kept}, next_check AS next_follow_up,"
        " result__stimulator_candidate AS stimulator_candidate,"
        " studies_not_read AS imaging_studies_not_read,"
        f" {set_aside}, {info.columns()}, ROW_NUMBER() OVER (ORDER BY {order}) AS _order"
        f" FROM (SELECT *, {group} AS grp FROM ({sql})) AS screened_q{join}"
    )
    # One sort ranks every row; the "screen not done" rows sit in one block of that order and
    # are left unranked, so the rows after the block move up by its size.
    block, end = con.execute(
        f"SELECT COUNT(*), MAX(_order) FROM screened_rows WHERE worklist_group = {not_done}"
    ).fetchall()[0]
    columns = (
        f"CASE WHEN worklist_group = {not_done} THEN NULL"
        f" WHEN _order > {'NULL' if end is None else int(end)} THEN _order - {int(block)}"
        " ELSE _order END AS rank,"
        " worklist_group, episode_id, triage, screen_not_done, suspicion, months_since_surgery,"
        f" phase, {texts['reasons']} AS reasons, {texts['fired']} AS fired_rules,"
        f" {texts['open_questions']} AS open_questions, next_follow_up, stimulator_candidate,"
        f" imaging_studies_not_read, {timeline.SET_ASIDE}, knowledge_version, as_of,"
        " site_stimulator_policy, site_motion_cutoff_deg, _order"
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW screened AS SELECT {columns} FROM screened_rows")
    # The same rows in worklist order, the texts built after the sort (which then moves the
    # codes, not the strings); DuckDB keeps a sort's order through the projection above it.
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {IN_ORDER} AS SELECT {columns}"
        " FROM (SELECT * FROM screened_rows ORDER BY _order) AS screened_rows"
    )


def write_worklist(con: duckdb.DuckDBPyConnection, out: Path) -> int:
    """Write the ranked worklist (one row per episode) as Parquet or CSV; returns the rows."""
    query = f"SELECT * EXCLUDE (_order) FROM {IN_ORDER}"
    return _write(con, query, out)


def summary_sql(suppress: bool = True) -> str:
    """Counts by worklist group, triage, suspicion and phase; small cells suppressed."""
    count = (
        f"CASE WHEN COUNT(*) < {SMALL_CELL} THEN {literal(SUPPRESSED)} ELSE CAST(COUNT(*) AS VARCHAR) END"
        if suppress
        else "CAST(COUNT(*) AS VARCHAR)"
    )
    return (
        f"SELECT worklist_group, triage, suspicion, COALESCE(phase, 'unknown') AS time_since_surgery,"
        f" {count} AS episodes FROM screened GROUP BY ALL ORDER BY ALL"
    )


def write_summary(con: duckdb.DuckDBPyConnection, out: Path, suppress: bool = True) -> int:
    return _write(con, summary_sql(suppress), out)


def summary_rows(con: duckdb.DuckDBPyConnection, suppress: bool = True) -> list[tuple[str, ...]]:
    return [tuple(str(c) for c in row) for row in con.execute(summary_sql(suppress)).fetchall()]


def _write(con: duckdb.DuckDBPyConnection, query: str, out: Path) -> int:
    fmt = {".parquet": "PARQUET", ".csv": "CSV, HEADER"}.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"{out}: write .parquet or .csv")
    partial = out.with_name(f".{out.name}.partial")
    try:
        written = con.execute(
            f"COPY ({query}) TO {literal(str(partial))} (FORMAT {fmt})"
        ).fetchall()
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return int(written[0][0])


Step = Callable[[str], None]
