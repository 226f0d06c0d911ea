"""Registry extracts (CSV or Parquet) into the episode and visit tables, checked cell by cell.

Layout (docs/screening.md): ``episodes.csv`` or ``episodes.parquet`` with ``episode_id`` and any
case-file field by its dotted name (``signs.mechanical_pain``, ``surgery.levels`` as
``L4-L5;L5-S1``); optionally ``visits.csv``/``visits.parquet``, one row per visit as
``track import`` reads it (``episode_id``, ``when``, score columns). Columns that are not part
of the layout are counted as not used, never dropped in silence.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from fusionwatch.core.case import Surgery
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.scores import Analgesics, Instrument, Visit
from fusionwatch.core.spine import vertebrae_of
from fusionwatch.core.vocab import Region
from fusionwatch.screen.columns import Check, numeric, reading, text
from fusionwatch.screen.compiler import literal
from fusionwatch.screen.errors import ScreenInputError, Where
from fusionwatch.screen.schema import COLLECTIONS, EPISODE_ID, episode_columns

SUFFIXES = (".parquet", ".csv")
_BASELINE = ("baseline", "pre-op", "preop")


@dataclass
class Loaded:
    """The episode and visit tables are in ``con``; ``not_used`` counts cells left unread."""

    episodes: int
    visits: int
    not_used: dict[str, int] = field(default_factory=dict)


def find(folder: Path, stem: str, required: bool) -> Path | None:
    for suffix in SUFFIXES:
        path = folder / f"{stem}{suffix}"
        if path.exists():
            return path
    if required:
        raise ScreenInputError(
            Where(str(folder), None, None), f"holds no {stem}.csv or {stem}.parquet"
        )
    return None


def raw_view(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> list[str]:
    """A view of a source file with its data rows numbered from 1; its column names."""
    source = (
        f"read_parquet({literal(str(path))})"
        if path.suffix == ".parquet"
        else (
            f"read_csv({literal(str(path))}, header = true, all_varchar = true, strict_mode = true)"
        )
    )
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT ROW_NUMBER() OVER () AS _row, * FROM {source}"
        )
    except duckdb.Error as err:
        raise ScreenInputError(
            Where(str(path), _line(str(err)), None), _first_line(str(err))
        ) from err
    return [c for c in con.table(name).columns if c != "_row"]


def _line(message: str) -> int | None:
    found = re.search(r"[Ll]ine:? (\d+)", message)
    return int(found.group(1)) - 1 if found else None


def _first_line(message: str) -> str:
    return "cannot be read: " + message.strip().splitlines()[0][:200]


def check(con: duckdb.DuckDBPyConnection, name: str, path: Path, checks: list[Check]) -> None:
    """One pass over the table for every check; the first failing one names its first row."""
    if not checks:
        return
    flags = ", ".join(f"BOOL_OR(COALESCE({c.bad}, FALSE))" for c in checks)
    found = con.execute(f"SELECT {flags} FROM {name}").fetchall()[0]
    for failed, c in zip(found, checks, strict=True):
        if failed:
            row = con.execute(
                f"SELECT MIN(_row) FROM {name} WHERE COALESCE({c.bad}, FALSE)"
            ).fetchall()[0]
            raise ScreenInputError(Where(str(path), row[0] if row else None, c.column), c.message)


def _not_used(con: duckdb.DuckDBPyConnection, name: str, columns: list[str]) -> dict[str, int]:
    if not columns:
        return {}
    counts = ", ".join(f"COUNT({text(_quote(c))})" for c in columns)
    found = con.execute(f"SELECT {counts} FROM {name}").fetchall()[0]
    return {c: int(n) for c, n in zip(columns, found, strict=True) if n}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_registry(
    con: duckdb.DuckDBPyConnection, kb: Knowledge, source: Path, as_of: dt.date
) -> Loaded:
    """Read a registry folder (or a lone episodes file) into ``episodes`` and ``visits``."""
    if source.is_dir():
        episodes_path = find(source, "episodes", required=True)
        visits_path = find(source, "visits", required=False)
    else:
        episodes_path, visits_path = source, None
    assert episodes_path is not None
    loaded = _episodes(con, kb, episodes_path, as_of)
    if visits_path is None:
        con.execute(_empty_visits())
    else:
        loaded.visits, unused = _visits(con, visits_path, as_of)
        loaded.not_used.update({f"{visits_path.name}:{c}": n for c, n in unused.items()})
    return loaded


def _episodes(con: duckdb.DuckDBPyConnection, kb: Knowledge, path: Path, as_of: dt.date) -> Loaded:
    present = raw_view(con, "raw_episodes", path)
    relation = con.table("raw_episodes")
    raw_types = {c: str(t) for c, t in zip(relation.columns, relation.types, strict=True)}
    if EPISODE_ID not in present:
        raise ScreenInputError(Where(str(path), None, EPISODE_ID), "required column is missing")
    facts = {f.id: f for f in kb.data.facts if not f.derived and f.id not in COLLECTIONS}
    selects, checks = (
        [f"{text(EPISODE_ID)} AS {EPISODE_ID}"],
        [Check(EPISODE_ID, f"{text(EPISODE_ID)} IS NULL", "every row needs an episode id")],
    )
    for col in episode_columns(kb)[1:]:
        if col.fact in facts and col.fact in present:
            r = reading(_quote(col.fact), col.fact, facts[col.fact], raw_types[col.fact])
            selects.append(f"{r.value} AS {col.name}")
            checks += r.checks
        else:
            selects.append(f"CAST(NULL AS {col.sql_type}) AS {col.name}")
    checks += _episode_rules(present, as_of)
    check(con, "raw_episodes", path, checks)
    extra = [c for c in present if c not in facts and c != EPISODE_ID]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE typed_episodes AS SELECT _row, {', '.join(selects)} FROM raw_episodes"
    )
    _duplicates(
        con, "typed_episodes", path, [EPISODE_ID], EPISODE_ID, "the same episode id appears twice"
    )
    _levels(con, path)
    n = con.execute("SELECT COUNT(*) FROM episodes").fetchall()[0]
    return Loaded(
        int(n[0]) if n else 0,
        0,
        {f"{path.name}:{c}": v for c, v in _not_used(con, "raw_episodes", extra).items()},
    )


def _episode_rules(present: list[str], as_of: dt.date) -> list[Check]:
    found = []
    day = f"DATE '{as_of.isoformat()}'"
    if "surgery.date" in present:
        surgery = f"TRY_CAST({text(_quote('surgery.date'))} AS DATE)"
        found.append(
            Check("surgery.date", f"{surgery} > {day}", f"is after the assessment date {as_of}")
        )
        if "surgery.months_since" in present:
            both = f"{surgery} IS NOT NULL AND {text(_quote('surgery.months_since'))} IS NOT NULL"
            found.append(
                Check(
                    "surgery.months_since",
                    both,
                    "give either surgery.date or surgery.months_since, not both",
                )
            )
    if "risk.nicotine_quit_date" in present:
        quit_date = text(_quote("risk.nicotine_quit_date"))
        former = text(_quote("risk.nicotine")) if "risk.nicotine" in present else "NULL"
        found.append(
            Check(
                "risk.nicotine_quit_date",
                f"{quit_date} IS NOT NULL AND {former} IS DISTINCT FROM 'former'",
                "is only allowed with nicotine 'former'",
            )
        )
    return found


def _duplicates(  # noqa: PLR0917
    con: duckdb.DuckDBPyConnection, name: str, path: Path, keys: list[str], col: str, message: str
) -> None:
    key = ", ".join(keys)
    row = con.execute(
        f"SELECT MIN(_row) FROM (SELECT _row, COUNT(*) OVER (PARTITION BY {key}) AS n FROM {name}) WHERE n > 1"
    ).fetchall()[0]
    if row and row[0] is not None:
        raise ScreenInputError(Where(str(path), int(row[0]), col), message)


def _levels(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Level counts worked out once per distinct levels text, then joined to every row."""
    distinct = con.execute(
        "SELECT surgery__levels, surgery__region, MIN(_row) FROM typed_episodes"
        " WHERE surgery__levels IS NOT NULL GROUP BY ALL"
    ).fetchall()
    rows = []
    for levels, region, first in distinct:
        segments = _segments(str(levels), region, Where(str(path), int(first), "surgery.levels"))
        rows.append(
            (
                levels,
                region,
                float(len(segments)) or None,
                float(len(vertebrae_of(segments))) or None,
            )
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE level_counts (levels VARCHAR, region VARCHAR, n DOUBLE, v DOUBLE)"
    )
    if rows:
        con.executemany("INSERT INTO level_counts VALUES (?, ?, ?, ?)", rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE episodes AS SELECT e.* EXCLUDE (_row, derived__level_count, derived__vertebra_count),"
        " l.n AS derived__level_count, l.v AS derived__vertebra_count FROM typed_episodes e"
        " LEFT JOIN level_counts l ON l.levels = e.surgery__levels"
        " AND l.region IS NOT DISTINCT FROM e.surgery__region"
    )


def _segments(levels: str, region: str | None, where: Where) -> tuple[str, ...]:
    parts = [p.strip() for p in levels.replace(",", ";").split(";") if p.strip()]
    try:
        surgery = Surgery.model_validate_json(
            json.dumps({"levels": parts, **({"region": region} if region else {})})
        )
    except ValueError as err:
        message = str(err).splitlines()[-2].strip() if "\n" in str(err) else str(err)
        raise ScreenInputError(where, message) from err
    return surgery.levels


def _empty_visits() -> str:
    cols = ", ".join(
        f"CAST(NULL AS {t}) AS {n}"
        for n, t in (
            (EPISODE_ID, "VARCHAR"),
            ("baseline", "BOOLEAN"),
            ("visit_date", "DATE"),
            ("month", "DOUBLE"),
            *((i.value, "DOUBLE") for i in Instrument),
        )
    )
    return f"CREATE OR REPLACE TEMP TABLE visits AS SELECT {cols} WHERE FALSE"


def _visits(
    con: duckdb.DuckDBPyConnection, path: Path, as_of: dt.date
) -> tuple[int, dict[str, int]]:
    present = raw_view(con, "raw_visits", path)
    for required in (EPISODE_ID, "when"):
        if required not in present:
            raise ScreenInputError(Where(str(path), None, required), "required column is missing")
    when = f"LOWER({text(_quote('when'))})"
    baseline = f"({when} IN ({', '.join(literal(b) for b in _BASELINE)}))"
    as_date, as_month = f"TRY_CAST({when} AS DATE)", f"TRY_CAST({when} AS DOUBLE)"
    checks = [
        Check(EPISODE_ID, f"{text(EPISODE_ID)} IS NULL", "every visit needs an episode id"),
        Check(
            "when",
            f"NOT {baseline} AND {as_date} IS NULL AND ({as_month} IS NULL OR {as_month} < 0 OR {as_month} > 600)",
            "must be 'baseline', a date (YYYY-MM-DD) or months after the fusion (0-600)",
        ),
        Check(
            "when",
            f"{as_date} > DATE '{as_of.isoformat()}'",
            f"is after the assessment date {as_of}",
        ),
    ]
    scores, any_score = [], []
    for instrument in Instrument:
        if instrument.value in present:
            r = numeric(_quote(instrument.value), instrument.value, instrument.value, Visit)
            checks += r.checks
            scores.append(f"{r.value} AS {instrument.value}")
            any_score.append(f"{r.value} IS NOT NULL")
        else:
            scores.append(f"CAST(NULL AS DOUBLE) AS {instrument.value}")
    checks.append(
        Check(
            "when", f"NOT ({' OR '.join(any_score) or 'FALSE'})", "a visit needs at least one score"
        )
    )
    if "analgesics" in present:
        codes = ", ".join(literal(a.value) for a in Analgesics)
        a = text(_quote("analgesics"))
        checks.append(
            Check("analgesics", f"{a} IS NOT NULL AND {a} NOT IN ({codes})", "unknown code")
        )
    check(con, "raw_visits", path, checks)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE typed_visits AS SELECT _row, {text(EPISODE_ID)} AS {EPISODE_ID},"
        f" {baseline} AS baseline, CASE WHEN NOT {baseline} THEN {as_date} END AS visit_date,"
        f" CASE WHEN NOT {baseline} AND {as_date} IS NULL THEN {as_month} END AS month, {', '.join(scores)}"
        " FROM raw_visits"
    )
    _visit_rules(con, path)
    con.execute("CREATE OR REPLACE TEMP TABLE visits AS SELECT * EXCLUDE (_row) FROM typed_visits")
    extra = [c for c in present if c not in {EPISODE_ID, "when", *(i.value for i in Instrument)}]
    n = con.execute("SELECT COUNT(*) FROM visits").fetchall()[0]
    return (int(n[0]) if n else 0), _not_used(con, "raw_visits", extra)


def _visit_rules(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The series checks of core.scores.visit_problems, against each visit's episode."""
    neck, not_neck = (
        literal(Region.CERVICAL.value),
        ", ".join(literal(r.value) for r in (Region.THORACIC, Region.LUMBAR, Region.LUMBOSACRAL)),
    )
    joined = (
        "SELECT v.*, e.surgery__date AS surgery_date, e.surgery__region AS region, e.episode_id AS known"
        " FROM typed_visits v LEFT JOIN episodes e ON e.episode_id = v.episode_id"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE checked_visits AS {joined}")
    checks = [
        Check(EPISODE_ID, "known IS NULL", "no episode with this id in the episodes file"),
        Check(
            "when",
            "visit_date IS NOT NULL AND surgery_date IS NULL",
            "a dated visit needs surgery.date; give months instead, or the surgery date",
        ),
        Check(
            "when",
            "NOT baseline AND visit_date < surgery_date",
            "is before the surgery; mark it baseline if pre-operative",
        ),
        Check(
            "odi",
            f"odi IS NOT NULL AND region = {neck}",
            "does not fit a cervical fusion; use ndi for this region",
        ),
        Check(
            "ndi",
            f"ndi IS NOT NULL AND region IN ({not_neck})",
            "does not fit this region; use odi",
        ),
    ]
    check(con, "checked_visits", path, checks)
    slot = "CASE WHEN baseline THEN 'baseline' ELSE CAST(COALESCE(month, -1) AS VARCHAR) || '|' || COALESCE(CAST(visit_date AS VARCHAR), '') END"
    _duplicates(
        con,
        "checked_visits",
        path,
        [EPISODE_ID, slot],
        "when",
        "the same time point as an earlier visit",
    )
