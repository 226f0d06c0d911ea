"""The imaging studies child table of a registry (``imaging_studies.csv|parquet``), checked cell by
cell as the case model checks ``core.imaging.Study`` and ``LevelFindings``.

One row per episode, study and level: ``episode_id``, ``study`` (any text naming the study within
its episode; rows with the same name are one study, in file order), the study's ``modality``,
``date`` or ``months_since``, ``nerve_compression``, ``infection_signs``, ``collection`` (the same
on every row of the study), then ``level`` (one motion segment; empty for a study without
per-level findings) and that level's findings by their case-file names. Landmark points are not
read from a table (give the angle and translation). Each level's place (fused, or next to the
fused span) is judged by the case model once per distinct history and level (screen.history).
"""

import datetime as dt
from functools import lru_cache
from pathlib import Path

import duckdb

from fusionwatch.core.imaging import Brantigan, Bridwell, LevelFindings, Mayfield, Modality, Study
from fusionwatch.core.spine import parse_level
from fusionwatch.screen.columns import Check, answer, numeric, text
from fusionwatch.screen.compiler import literal
from fusionwatch.screen.errors import ScreenInputError, Where
from fusionwatch.screen.history import message, surgery_of
from fusionwatch.screen.lookup import lookup_table
from fusionwatch.screen.schema import EPISODE_ID, LEVEL_FIELDS, STUDY_COLUMNS, STUDY_FIELDS

STEM = "imaging_studies"
_CHOICES = {"bridwell": Bridwell, "brantigan": Brantigan, "mayfield": Mayfield}
# The study's own cells (the same on every row of one study), by their name in the source.
_STUDY_CELLS = ("modality", "date", "months_since", *(n for n, _ in STUDY_FIELDS[3:]))


def empty_studies() -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in STUDY_COLUMNS)
    return f"CREATE OR REPLACE TEMP TABLE studies AS SELECT {cols} WHERE FALSE"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_studies(
    con: duckdb.DuckDBPyConnection, path: Path, as_of: dt.date
) -> tuple[int, dict[str, int]]:
    """Read and check the studies file into ``studies``; the rows and the not-used counts.

    Needs ``typed_episodes`` and ``history_keys`` (the registry reader's earlier steps).
    """
    from fusionwatch.screen.registry import _not_used, check, raw_view  # noqa: PLC0415

    present = raw_view(con, "raw_studies", path)
    relation = con.table("raw_studies")
    raw = {c: str(t) for c, t in zip(relation.columns, relation.types, strict=True)}
    for required in (EPISODE_ID, "study", "modality"):
        if required not in present:
            raise ScreenInputError(Where(str(path), None, required), "required column is missing")
    values, checks = _cells(present, raw, as_of)
    check(con, "raw_studies", path, checks)
    study_id = text(_quote("study"))
    typed = {n for n, _ in (*STUDY_FIELDS[2:], *LEVEL_FIELDS)}
    select = ", ".join(f"{sql} AS {name}" for name, sql in values.items())
    con.execute(
        "CREATE OR REPLACE TEMP TABLE typed_studies AS SELECT _row,"
        f" {text(EPISODE_ID)} AS {EPISODE_ID}, {study_id} AS study_name, {select},"
        f" MIN(_row) OVER (PARTITION BY {text(EPISODE_ID)}, {study_id}) AS first_row"
        " FROM raw_studies"
    )
    _same_within_study(con, path)
    joined = (
        "SELECT s.*, e.episode_id AS known FROM typed_studies s"
        " LEFT JOIN typed_episodes e ON e.episode_id = s.episode_id"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE checked_studies AS {joined}")
    check(
        con,
        "checked_studies",
        path,
        [Check(EPISODE_ID, "known IS NULL", "no episode with this id in the episodes file")],
    )
    _levels(con, path)
    from fusionwatch.screen.registry import _duplicates  # noqa: PLC0415

    _duplicates(
        con,
        "(SELECT * FROM placed_studies WHERE segment IS NOT NULL)",
        path,
        [EPISODE_ID, "first_row", "segment"],
        "level",
        "each level may appear once per study",
    )
    names = ", ".join(
        "segment AS level"
        if n == "level"
        else f"CAST(DENSE_RANK() OVER (PARTITION BY {EPISODE_ID} ORDER BY first_row) - 1 AS INTEGER) AS study"
        if n == "study"
        else f"CAST(ROW_NUMBER() OVER (PARTITION BY {EPISODE_ID} ORDER BY _row) - 1 AS INTEGER) AS seq"
        if n == "seq"
        else n
        for n, _ in STUDY_COLUMNS
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE studies AS SELECT {names} FROM placed_studies")
    read = {EPISODE_ID, "study", "date", "level", *typed, *_STUDY_CELLS}
    extra = [c for c in present if c not in read]
    n = con.execute("SELECT COUNT(*) FROM studies").fetchall()[0]
    return (int(n[0]) if n else 0), _not_used(con, "raw_studies", extra)


def _cells(
    present: list[str], raw: dict[str, str], as_of: dt.date
) -> tuple[dict[str, str], list[Check]]:
    """Each column's typed value as SQL over the raw cell, and the checks of every cell."""
    cell = {c: (text(_quote(c)) if c in present else "NULL") for c in ("date", "level")}
    modalities = ", ".join(literal(m.value) for m in Modality)
    modality, on = text(_quote("modality")), f"TRY_CAST({cell['date']} AS DATE)"
    checks = [
        Check(EPISODE_ID, f"{text(EPISODE_ID)} IS NULL", "every study row needs an episode id"),
        Check("study", f"{text(_quote('study'))} IS NULL", "every study row names its study"),
        Check(
            "modality",
            f"{modality} IS NULL OR {modality} NOT IN ({modalities})",
            f"must be one of {modalities.replace(chr(39), '')}",
        ),
        Check(
            "date", f"{cell['date']} IS NOT NULL AND {on} IS NULL", "must be a date (YYYY-MM-DD)"
        ),
        Check(
            "date",
            f"{on} > DATE '{as_of.isoformat()}'",
            f"study date is after the assessment date {as_of}",
        ),
    ]
    values = {
        "modality": modality,
        "study_date": on,
        "level": cell["level"],
    }
    typed = {**dict.fromkeys((n for n, _ in STUDY_FIELDS[2:]), ""), **dict(LEVEL_FIELDS)}
    for name in typed:
        if name not in present:
            sql_type = dict(STUDY_COLUMNS)[name]
            values[name] = f"CAST(NULL AS {sql_type})"
            continue
        if name in _CHOICES:
            codes = ", ".join(literal(c.value) for c in _CHOICES[name])
            v = text(_quote(name))
            checks.append(
                Check(
                    name,
                    f"{v} IS NOT NULL AND {v} NOT IN ({codes})",
                    f"unknown code; expected one of: {codes.replace(chr(39), '')}",
                )
            )
            values[name] = v
        elif dict(STUDY_COLUMNS)[name] == "BOOLEAN":
            r = answer(_quote(name), name, raw[name])
            checks += r.checks
            values[name] = r.value
        else:
            model = Study if name == "months_since" else LevelFindings
            r = numeric(_quote(name), name, name, model, raw[name])
            checks += r.checks
            values[name] = r.value
    if "months_since" in present:
        checks.append(
            Check(
                "months_since",
                f"{on} IS NOT NULL AND {text(_quote('months_since'))} IS NOT NULL",
                "give either the study date or months_since, not both",
            )
        )
    level_cells = [n for n, _ in LEVEL_FIELDS if n in present]
    if level_cells:
        given = " OR ".join(f"{text(_quote(n))} IS NOT NULL" for n in level_cells)
        checks.append(
            Check("level", f"{cell['level']} IS NULL AND ({given})", "findings need a level")
        )
    return values, checks


def _same_within_study(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The study's own cells must be the same on every row of that study."""
    from fusionwatch.screen.registry import check  # noqa: PLC0415

    names = ("modality", "study_date", *(n for n, _ in STUDY_FIELDS[2:]))
    firsts = ", ".join(
        f"FIRST_VALUE({n}) OVER (PARTITION BY {EPISODE_ID}, study_name ORDER BY _row) AS first_{n}"
        for n in names
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE study_firsts AS SELECT _row, {', '.join(names)}, {firsts}"
        " FROM typed_studies"
    )
    source = {"study_date": "date"}
    check(
        con,
        "study_firsts",
        path,
        [
            Check(
                source.get(n, n),
                f"{n} IS DISTINCT FROM first_{n}",
                "differs from an earlier row of the same study (a study's own cells are the same"
                " on each of its rows)",
            )
            for n in names
        ],
    )


@lru_cache(maxsize=65536)
def place(
    levels: str | None, region: str | None, operations: str | None, level: str
) -> tuple[str, bool, bool, int]:
    """The one motion segment ``level`` names, and whether it is next to the fused span (not in
    it); ``ValueError`` with the case model's words when it is neither fused nor adjacent."""
    segments = parse_level(level)
    if len(segments) != 1:
        raise ValueError(f"give one motion segment per entry, not the span {level!r}")
    surgery = surgery_of(levels, region, operations)
    fused, adjacent, segment = surgery.fused_levels, surgery.adjacent_levels, segments[0]
    if fused and segment not in fused and segment not in adjacent:
        allowed = ", ".join([*fused, *(f"{s} (adjacent)" for s in adjacent)])
        raise ValueError(
            f"{segment} is neither fused nor adjacent to the fusion; allowed levels are {allowed}"
        )
    index = surgery.levels
    return segment, bool(fused) and segment in adjacent, segment in index, len(index)


def _levels(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Each level as one segment, and fused or adjacent, judged once per history and level."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE study_keys AS SELECT s._row, k.levels, k.region, k.ops,"
        " s.level FROM checked_studies s JOIN history_keys k ON k.episode_id = s.episode_id"
        " WHERE s.level IS NOT NULL"
    )
    distinct = con.execute(
        "SELECT levels, region, ops, level, MIN(_row) FROM study_keys GROUP BY ALL"
    ).fetchall()
    rows = []
    for levels, region, ops, level, first in distinct:
        try:
            placed = place(levels, region, ops, level)
        except ValueError as err:
            raise ScreenInputError(Where(str(path), int(first), "level"), message(err)) from err
        rows.append((levels, region, ops, level, *placed))
    columns = [(c, "VARCHAR") for c in ("levels", "region", "ops", "level", "segment")]
    columns += [("adjacent", "BOOLEAN"), ("in_index", "BOOLEAN"), ("index_levels", "INTEGER")]
    lookup_table(con, "study_places", columns, rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE placed_studies AS SELECT s.*, p.segment,"
        " COALESCE(p.adjacent, FALSE) AS adjacent, COALESCE(p.in_index, FALSE) AS in_index,"
        " COALESCE(p.index_levels, 0) AS index_levels FROM checked_studies s"
        " LEFT JOIN study_keys k ON k._row = s._row"
        " LEFT JOIN study_places p ON p.levels IS NOT DISTINCT FROM k.levels"
        " AND p.region IS NOT DISTINCT FROM k.region AND p.ops IS NOT DISTINCT FROM k.ops"
        " AND p.level = k.level"
    )
