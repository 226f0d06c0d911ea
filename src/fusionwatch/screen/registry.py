"""Registry extracts (CSV or Parquet) into the episode and visit tables, checked cell by cell.

Layout (docs/screening.md): ``episodes.csv`` or ``episodes.parquet`` with ``episode_id`` and any
case-file field by its dotted name (``signs.mechanical_pain``, ``surgery.levels`` as
``L4-L5;L5-S1``); optionally ``visits.csv``/``visits.parquet``, one row per visit as
``track import`` reads it (``episode_id``, ``when``, score columns), and
``operations.csv``/``operations.parquet``, one row per later operation in order (``episode_id``,
``kind``, ``date`` or ``months_since``, ``levels``, ``reason``). Columns that are not part of the
layout are counted as not used, never dropped in silence.
"""

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from fusionwatch.core.case import Operation
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import FactType
from fusionwatch.core.scores import Analgesics, Instrument, Visit
from fusionwatch.core.spine import parse_level
from fusionwatch.core.vocab import OperationKind, OperationReason, Region, TemperatureUnit
from fusionwatch.screen import timeline
from fusionwatch.screen.columns import Check, numeric, reading, text, unsure
from fusionwatch.screen.compiler import literal
from fusionwatch.screen.dialect import DUCKDB
from fusionwatch.screen.errors import ScreenInputError, Where
from fusionwatch.screen.history import FIELD_SEP, LEVEL_SEP, OP_SEP, judge, message, split_levels
from fusionwatch.screen.lookup import lookup_table
from fusionwatch.screen.months import signed_months_sql
from fusionwatch.screen.schema import (
    COLLECTIONS,
    EPISODE_ID,
    HISTORY_FAILED,
    LEVEL_FACTS,
    NOT_SURE,
    NOT_SURE_SEP,
    OPERATION_COLUMNS,
    VISIT_COLUMNS,
    column,
    episode_columns,
)
from fusionwatch.screen.studies import STEM, empty_studies, load_studies

SUFFIXES = (".parquet", ".csv")
_BASELINE = ("baseline", "pre-op", "preop")


@dataclass
class Loaded:
    """The episode and visit tables are in ``con``; ``not_used`` counts cells left unread."""

    episodes: int
    visits: int
    not_used: dict[str, int] = field(default_factory=dict)
    operations: int = 0
    studies: int = 0


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
    """A view of a source file with its data rows numbered from 1; its column names.

    A Parquet file stays a view over the file (each pass reads only the columns it needs, and
    the dictionary-encoded codes are checked as read); a CSV file is read once into a table.
    """
    if path.suffix == ".parquet":
        # The reader numbers the rows itself: no window over the whole file (which runs on one
        # thread), so a large file is read in parallel.
        numbered = (
            "SELECT CAST(file_row_number + 1 AS BIGINT) AS _row, * EXCLUDE (file_row_number)"
            f" FROM read_parquet({literal(str(path))}, file_row_number = true)"
        )
    else:
        csv = (
            f"read_csv({literal(str(path))}, header = true, all_varchar = true, strict_mode = true)"
        )
        numbered = f"SELECT ROW_NUMBER() OVER () AS _row, * FROM {csv}"
    try:
        kind = "VIEW" if path.suffix == ".parquet" else "TABLE"
        con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {numbered}")
    except duckdb.Error as err:
        raise ScreenInputError(
            Where(str(path), _line(str(err)), None), _first_line(str(err))
        ) from err
    columns = [c for c in con.table(name).columns if c != "_row"]
    if path.suffix != ".parquet":
        _same_width_as_header(path, len(columns))
    return columns


def _same_width_as_header(path: Path, width: int) -> None:
    """DuckDB's CSV sniffer takes a row wider than the header for the header (then every column
    seems missing): name the first row whose number of fields differs from the header's."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows, [])
        if len(header) == width:
            return
        for number, row in enumerate(rows, start=1):
            if row and len(row) != len(header):
                raise ScreenInputError(
                    Where(str(path), number, None),
                    f"has {len(row)} fields where the header has {len(header)}",
                )
    raise ScreenInputError(Where(str(path), None, None), "cannot be read: its header is unclear")


def _line(message: str) -> int | None:
    found = re.search(r"[Ll]ine:? (\d+)", message)
    return int(found.group(1)) - 1 if found else None


def _first_line(message: str) -> str:
    return "cannot be read: " + message.strip().splitlines()[0][:200]


def check(con: duckdb.DuckDBPyConnection, name: str, path: Path, checks: list[Check]) -> None:
    """One pass over the table for every check; the first failing one names its first row.

    A check with a ``quick`` form is scanned with that form, and with its full form only when
    the quick one found a row (a second pass over those columns alone).
    """
    if not checks:
        return
    flags = ", ".join(f"BOOL_OR(COALESCE({c.quick or c.bad}, FALSE))" for c in checks)
    try:
        found = list(con.execute(f"SELECT {flags} FROM {name}").fetchall()[0])
        again = [i for i, c in enumerate(checks) if found[i] and c.quick is not None]
        if again:
            full = ", ".join(f"BOOL_OR(COALESCE({checks[i].bad}, FALSE))" for i in again)
            second = con.execute(f"SELECT {full} FROM {name}").fetchall()[0]
            for i, failed in zip(again, second, strict=True):
                found[i] = failed
    except (duckdb.IOException, duckdb.InvalidInputException) as err:  # a damaged Parquet page
        raise ScreenInputError(Where(str(path), None, None), _first_line(str(err))) from err
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
    if episodes_path is None:  # pragma: no cover - find() raised already
        raise ScreenInputError(Where(str(source), None, None), "no episodes file")
    loaded = _episodes(con, kb, episodes_path, as_of)
    ops_path = find(source, "operations", required=False) if source.is_dir() else None
    if ops_path is None:
        con.execute(empty_operations())
    else:
        loaded.operations, unused = _operations(con, ops_path, as_of)
        loaded.not_used.update({f"{ops_path.name}:{c}": n for c, n in unused.items()})
    _history(con, episodes_path, ops_path)
    _segments(con)
    studies_path = find(source, STEM, required=False) if source.is_dir() else None
    if studies_path is None:
        con.execute(empty_studies())
    else:
        loaded.studies, unused = load_studies(con, studies_path, as_of)
        loaded.not_used.update({f"{studies_path.name}:{c}": n for c, n in unused.items()})
    if visits_path is None:
        con.execute(_empty_visits())
    else:
        loaded.visits, unused = _visits(con, visits_path, as_of)
        loaded.not_used.update({f"{visits_path.name}:{c}": n for c, n in unused.items()})
    loaded.not_used.update(timeline.set_aside(con, as_of))
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
    not_sure = []
    for col in episode_columns(kb)[1:]:
        if col.fact in facts and col.fact in present:
            raw = raw_types[col.fact]
            r = reading(_quote(col.fact), col.fact, facts[col.fact], raw)
            selects.append(f"{r.value} AS {col.name}")
            checks += r.checks
            if facts[col.fact].type is FactType.ANSWER:
                not_sure.append(unsure(_quote(col.fact), col.fact, raw))
        elif col.name != NOT_SURE:
            selects.append(f"CAST(NULL AS {col.sql_type}) AS {col.name}")
    listed = [u for u in not_sure if u is not None]
    joined = f"concat_ws({literal(NOT_SURE_SEP)}, {', '.join(listed)})" if listed else "''"
    selects.append(f"NULLIF({joined}, '') AS {NOT_SURE}")
    checks += _episode_rules(present, as_of)
    check(con, "raw_episodes", path, checks)
    extra = [c for c in present if c not in facts and c != EPISODE_ID]
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW typed_episodes AS SELECT _row, {', '.join(selects)} FROM raw_episodes"
    )
    _duplicates(
        con, "typed_episodes", path, [EPISODE_ID], EPISODE_ID, "the same episode id appears twice"
    )
    n = con.execute("SELECT COUNT(*) FROM typed_episodes").fetchall()[0]
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
    if "infection.temperature" in present:
        found += _temperature_rules(present)
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


def _temperature_rules(present: list[str]) -> list[Check]:
    """As the case model: a temperature needs its unit and lies in that unit's range."""
    value = f"TRY_CAST({text(_quote('infection.temperature'))} AS DOUBLE)"
    unit = (
        text(_quote("infection.temperature_unit"))
        if "infection.temperature_unit" in present
        else "NULL"
    )
    found = [
        Check(
            "infection.temperature_unit",
            f"{value} IS NOT NULL AND {unit} IS NULL",
            "infection.temperature needs infection.temperature_unit (C or F)",
        )
    ]
    for code, (low, high) in {
        TemperatureUnit.CELSIUS: (30, 45),
        TemperatureUnit.FAHRENHEIT: (86, 113),
    }.items():
        found.append(
            Check(
                "infection.temperature",
                f"{unit} = {literal(code.value)} AND ({value} < {low} OR {value} > {high})",
                f"must be {low}-{high} °{code.value}",
            )
        )
    return found


def _operations(
    con: duckdb.DuckDBPyConnection, path: Path, as_of: dt.date
) -> tuple[int, dict[str, int]]:
    """Later operations, checked as the case model checks them, in file order per episode."""
    present = raw_view(con, "raw_operations", path)
    for required in (EPISODE_ID, "kind"):
        if required not in present:
            raise ScreenInputError(Where(str(path), None, required), "required column is missing")
    cell = {
        c: (text(_quote(c)) if c in present else "NULL")
        for c in ("date", "months_since", "levels", "reason")
    }
    kinds = ", ".join(literal(k.value) for k in OperationKind)
    reasons = ", ".join(literal(r.value) for r in OperationReason)
    kind, reason = text(_quote("kind")), cell["reason"]
    on = f"TRY_CAST({cell['date']} AS DATE)"
    months = (
        numeric(_quote("months_since"), "months_since", "months_since", Operation)
        if "months_since" in present
        else None
    )
    checks = [
        Check(EPISODE_ID, f"{text(EPISODE_ID)} IS NULL", "every operation needs an episode id"),
        Check(
            "kind",
            f"{kind} IS NULL OR {kind} NOT IN ({kinds})",
            f"must be one of {kinds.replace(chr(39), '')}",
        ),
        Check("reason", f"{reason} IS NOT NULL AND {reason} NOT IN ({reasons})", "unknown code"),
        Check(
            "reason",
            f"{reason} IS NOT NULL AND {kind} <> 'revision'",
            "an operation's reason is only given for a revision",
        ),
        Check(
            "date", f"{cell['date']} IS NOT NULL AND {on} IS NULL", "must be a date (YYYY-MM-DD)"
        ),
        Check(
            "date", f"{on} > DATE '{as_of.isoformat()}'", f"is after the assessment date {as_of}"
        ),
        Check(
            "months_since",
            f"{on} IS NOT NULL AND {cell['months_since']} IS NOT NULL",
            "give either the operation's date or months_since, not both",
        ),
        *(months.checks if months else ()),
    ]
    check(con, "raw_operations", path, checks)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE typed_operations AS SELECT _row,"
        f" {text(EPISODE_ID)} AS {EPISODE_ID},"
        f" CAST(ROW_NUMBER() OVER (PARTITION BY {text(EPISODE_ID)} ORDER BY _row) - 1 AS INTEGER) AS seq,"
        f" {kind} AS kind, {on} AS op_date, {months.value if months else 'CAST(NULL AS DOUBLE)'} AS months_since,"
        f" {cell['levels']} AS levels, {reason} AS reason FROM raw_operations"
    )
    joined = (
        "SELECT o.*, e.surgery__date AS surgery_date, e.episode_id AS known FROM typed_operations o"
        " LEFT JOIN typed_episodes e ON e.episode_id = o.episode_id"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE checked_operations AS {joined}")
    check(
        con,
        "checked_operations",
        path,
        [
            Check(EPISODE_ID, "known IS NULL", "no episode with this id in the episodes file"),
            Check("date", "op_date < surgery_date", "is before the index fusion (surgery.date)"),
        ],
    )
    names = ", ".join(name for name, _ in OPERATION_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE operations AS SELECT {names} FROM typed_operations")
    extra = [c for c in present if c not in {EPISODE_ID, "kind", *cell}]
    n = con.execute("SELECT COUNT(*) FROM operations").fetchall()[0]
    return (int(n[0]) if n else 0), _not_used(con, "raw_operations", extra)


# The level counts and failed fusion worked out once per distinct history.
HISTORY_COLUMNS = (
    ("levels", "VARCHAR"),
    ("region", "VARCHAR"),
    ("ops", "VARCHAR"),
    *((f"c{i}", "DOUBLE") for i, _ in enumerate(LEVEL_FACTS)),
    ("failed", "BOOLEAN"),
)


def _history(con: duckdb.DuckDBPyConnection, path: Path, ops_path: Path | None) -> None:
    """Level counts and a failed fusion in the history, worked out once per distinct history."""
    op = f"concat_ws({literal(FIELD_SEP)}, kind, COALESCE(reason, ''), COALESCE(levels, ''))"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE history_keys AS SELECT e._row, e.episode_id,"
        " e.surgery__levels AS levels, e.surgery__region AS region, k.ops FROM typed_episodes e"
        f" LEFT JOIN (SELECT episode_id, string_agg({op}, {literal(OP_SEP)} ORDER BY seq) AS ops"
        " FROM operations GROUP BY episode_id) k ON k.episode_id = e.episode_id"
    )
    distinct = con.execute(
        "SELECT levels, region, ops, MIN(_row), MIN(episode_id) FROM history_keys"
        " WHERE levels IS NOT NULL OR ops IS NOT NULL GROUP BY ALL"
    ).fetchall()
    rows = []
    for levels, region, ops, first, episode in distinct:
        try:
            h = judge(levels, region, ops)
        except ValueError as err:
            raise ScreenInputError(
                _history_where(con, path, ops_path, first, episode, ops), message(err)
            ) from err
        rows.append((levels, region, ops, *h.counts, h.failed_fusion))
    lookup_table(con, "history_facts", HISTORY_COLUMNS, rows)
    # Each episode's row of history keys takes its facts once, so the episodes view (read
    # several times by the screening query) joins on the row number alone.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE history_keys AS SELECT k.*, {_counts('h')},"
        " COALESCE(h.failed, FALSE) AS failed FROM history_keys k"
        " LEFT JOIN history_facts h ON h.levels IS NOT DISTINCT FROM k.levels"
        " AND h.region IS NOT DISTINCT FROM k.region AND h.ops IS NOT DISTINCT FROM k.ops"
    )
    # A view: the wide table is not copied again, only joined to the narrow history keys.
    counted = ", ".join(column(fact) for fact in LEVEL_FACTS)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW episodes AS SELECT e.* EXCLUDE (_row, {counted},"
        f" {HISTORY_FAILED}), {_counts('k', named=True)}, k.failed AS {HISTORY_FAILED}"
        " FROM typed_episodes e JOIN history_keys k ON k._row = e._row"
    )


def _counts(table: str, named: bool = False) -> str:
    """The history's level facts (``HISTORY_COLUMNS`` c0, c1, ...), named as the episode
    columns of ``LEVEL_FACTS`` or as they are."""
    return ", ".join(
        f"{table}.c{i}" + (f" AS {column(fact)}" if named else "")
        for i, fact in enumerate(LEVEL_FACTS)
    )


def _segments(con: duckdb.DuckDBPyConnection) -> None:
    """Operation levels as ';'-separated segments (spans expanded, as the case model reads them),
    so that a study's level is matched against them in SQL; once per distinct levels text."""
    distinct = con.execute(
        "SELECT DISTINCT levels FROM operations WHERE levels IS NOT NULL"
    ).fetchall()
    rows = [(levels, LEVEL_SEP.join(_segments_of(levels))) for (levels,) in distinct]
    if all(a == b for a, b in rows):
        return
    lookup_table(con, "op_segments", (("levels", "VARCHAR"), ("segments", "VARCHAR")), rows)
    con.execute(
        "UPDATE operations SET levels = (SELECT s.segments FROM op_segments s"
        " WHERE s.levels = operations.levels) WHERE levels IS NOT NULL"
    )


def _segments_of(levels: str) -> list[str]:
    segments: list[str] = []
    for item in split_levels(levels):
        segments.extend(s for s in parse_level(item) if s not in segments)
    return segments


def _history_where(  # noqa: PLR0917
    con: duckdb.DuckDBPyConnection,
    path: Path,
    ops_path: Path | None,
    first: int,
    episode: str,
    ops: str | None,
) -> Where:
    """The episode row when its own levels are refused, else its first operation's row."""
    if ops is None or ops_path is None:
        return Where(str(path), int(first), "surgery.levels")
    row = con.execute(
        "SELECT MIN(_row) FROM typed_operations WHERE episode_id = ?", [episode]
    ).fetchall()[0][0]
    return Where(str(ops_path), row, "levels")


def empty_operations() -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in OPERATION_COLUMNS)
    return f"CREATE OR REPLACE TEMP TABLE operations AS SELECT {cols} WHERE FALSE"


def _empty_visits() -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in VISIT_COLUMNS)
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
    con.execute("CREATE OR REPLACE TEMP VIEW visits AS SELECT * EXCLUDE (_row) FROM typed_visits")
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
        "SELECT v.*, e.surgery__date AS surgery_date, e.surgery__region AS region, e.episode_id AS known,"
        " s.any_odi, s.any_ndi, s.first_row"
        " FROM typed_visits v LEFT JOIN episodes e ON e.episode_id = v.episode_id"
        " LEFT JOIN (SELECT episode_id, BOOL_OR(odi IS NOT NULL) AS any_odi,"
        " BOOL_OR(ndi IS NOT NULL) AS any_ndi, MIN(_row) AS first_row FROM typed_visits"
        " GROUP BY episode_id) s ON s.episode_id = v.episode_id"
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
        Check(
            "odi",
            "region IS NULL AND any_odi AND any_ndi AND _row = first_row",
            "odi and ndi in one series: give surgery.region or keep the one that fits",
        ),
    ]
    check(con, "checked_visits", path, checks)
    # One visit per time point, the point as the case model places it (a dated visit at the same
    # month as an undated one is the same point: core.scores.visit_problems).
    placed = signed_months_sql(DUCKDB, "surgery_date", "visit_date")
    slot = f"CASE WHEN NOT baseline THEN COALESCE(month, {placed}) END"
    _duplicates(
        con,
        "checked_visits",
        path,
        [EPISODE_ID, "baseline", slot],
        "when",
        "the same time point as an earlier visit",
    )
