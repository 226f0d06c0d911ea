"""OMOP CDM v5.4 tables (CSV or Parquet) into the episode table, in SQL.

Read: ``person``, ``procedure_occurrence`` (required), ``condition_occurrence``, ``measurement``,
``observation``. The index fusion is a person's latest procedure whose ``procedure_source_value``
is a fusion CPT code; other facts are matched by their *source* values against the codes the
data dictionary gives each fact (LOINC, SNOMED CT, ICD-10-CM, or the fact id itself), the same
index the FHIR adapter uses. Rows and codes that cannot be mapped are counted, never guessed.
"""

import datetime as dt
from pathlib import Path

import duckdb

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import FactType
from fusionwatch.fhir.codes import fact_index
from fusionwatch.screen import plausible, timeline
from fusionwatch.screen.columns import Check, text
from fusionwatch.screen.compiler import literal
from fusionwatch.screen.errors import ScreenInputError, Where
from fusionwatch.screen.registry import (
    Loaded,
    _empty_visits,
    check,
    empty_operations,
    find,
    raw_view,
)
from fusionwatch.screen.schema import EPISODE_ID, episode_columns
from fusionwatch.screen.studies import empty_studies

# Index fusion procedures (CPT), from standards.md: codes seen with fusion claims.
FUSION_CPT = ("22612", "22630")
# The Gender domain's only two standard concepts: 8507 MALE, 8532 FEMALE (OHDSI Vocabulary-v5.0
# wiki, "Vocab. GENDER"; the same ids in HL7's FHIR-to-OMOP ConceptMap GenderClass). Other ids
# (0, 8551 unknown, 44814653 other) leave person.sex unknown and are counted as not used.
GENDER = {"8507": "male", "8532": "female"}
TABLES = {
    "person": ("person_id",),
    "procedure_occurrence": ("person_id", "procedure_date", "procedure_source_value"),
    "condition_occurrence": ("person_id", "condition_start_date", "condition_source_value"),
    "measurement": ("person_id", "measurement_date", "measurement_source_value", "value_as_number"),
    "observation": ("person_id", "observation_date", "observation_source_value"),
}


def _codes(kb: Knowledge) -> list[tuple[str, str, str, str | None]]:
    """(source value, fact id, fact type, expected unit) for every coded input fact."""
    rows = []
    for (_, code), fact in fact_index(kb).items():
        rows.append((code, fact.id, fact.type.value, fact.codes.get("ucum")))
    return rows


def load_omop(
    con: duckdb.DuckDBPyConnection, kb: Knowledge, folder: Path, as_of: dt.date
) -> Loaded:
    """Read an OMOP CDM folder into the ``episodes`` table (no score visits or later operations)."""
    present: dict[str, Path] = {}
    for table, required in TABLES.items():
        path = find(folder, table, required=table in ("person", "procedure_occurrence"))
        if path is None:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE raw_{table} AS SELECT {', '.join(f'CAST(NULL AS VARCHAR) AS {c}' for c in required)}, 0 AS _row WHERE FALSE"
            )
            continue
        present[table] = path
        columns = raw_view(con, f"raw_{table}", path)
        for name in required:
            if name not in columns:
                raise ScreenInputError(Where(str(path), None, name), "required column is missing")
        date_col = next((c for c in required if c.endswith("_date")), None)
        checks = [Check("person_id", f"{text('person_id')} IS NULL", "every row needs a person_id")]
        if date_col:
            bad = f"{text(date_col)} IS NOT NULL AND TRY_CAST({text(date_col)} AS DATE) IS NULL"
            checks.append(Check(date_col, bad, "must be a date (YYYY-MM-DD)"))
        check(con, f"raw_{table}", path, checks)
    codes = _codes(kb)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE omop_codes (code VARCHAR, fact VARCHAR, kind VARCHAR, unit VARCHAR)"
    )
    con.executemany("INSERT INTO omop_codes VALUES (?, ?, ?, ?)", codes)
    day = f"DATE '{as_of.isoformat()}'"
    _long(con, day)
    _episodes(con, kb, day)
    con.execute(_empty_visits())
    con.execute(empty_operations())
    con.execute(empty_studies())
    n = con.execute("SELECT COUNT(*) FROM episodes").fetchall()[0][0]
    unused = _unused(con, day) | _unreadable(con, kb) | plausible.set_aside(con, kb)
    return Loaded(int(n), 0, unused | timeline.set_aside(con, as_of))


def _long(con: duckdb.DuckDBPyConnection, day: str) -> None:
    """Every mapped value as (person, fact, value, date), the latest kept per person and fact."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE omop_values AS"
        f" SELECT {text('person_id')} AS person_id, c.fact, c.kind, 'yes' AS value,"
        f" TRY_CAST({text('condition_start_date')} AS DATE) AS day FROM raw_condition_occurrence o"
        f" JOIN omop_codes c ON c.code = {text('condition_source_value')} AND c.kind = 'answer'"
        " UNION ALL"
        f" SELECT {text('person_id')}, c.fact, c.kind, CAST(TRY_CAST({text('value_as_number')} AS DOUBLE) AS VARCHAR),"
        f" TRY_CAST({text('measurement_date')} AS DATE) FROM raw_measurement m"
        f" JOIN omop_codes c ON c.code = {text('measurement_source_value')} AND c.kind = 'number'"
        f" AND (c.unit IS NULL OR c.unit = {text('unit_source_value') if _has(con, 'raw_measurement', 'unit_source_value') else 'NULL'})"
        " UNION ALL"
        f" SELECT {text('person_id')}, c.fact, c.kind, {_observed(con)},"
        f" TRY_CAST({text('observation_date')} AS DATE) FROM raw_observation o"
        f" JOIN omop_codes c ON c.code = {text('observation_source_value')}"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE omop_latest AS SELECT person_id, fact, kind,"
        f" arg_max(value, day) AS value FROM omop_values WHERE value IS NOT NULL AND day <= {day}"
        " GROUP BY ALL"
    )


def _unit(con: duckdb.DuckDBPyConnection) -> str:
    has = _has(con, "raw_measurement", "unit_source_value")
    return text("m.unit_source_value") if has else "NULL"


def _has(con: duckdb.DuckDBPyConnection, table: str, name: str) -> bool:
    return name in con.table(table).columns


def _observed(con: duckdb.DuckDBPyConnection) -> str:
    parts = [
        c for c in ("value_source_value", "value_as_string") if _has(con, "raw_observation", c)
    ]
    return f"COALESCE({', '.join(text(p) for p in parts)})" if parts else "NULL"


def _episodes(con: duckdb.DuckDBPyConnection, kb: Knowledge, day: str) -> None:
    cpt = ", ".join(literal(c) for c in FUSION_CPT)
    fusion = (
        f"SELECT {text('person_id')} AS person_id, MAX(TRY_CAST({text('procedure_date')} AS DATE)) AS surgery_date"
        f" FROM raw_procedure_occurrence WHERE {text('procedure_source_value')} IN ({cpt})"
        f" AND TRY_CAST({text('procedure_date')} AS DATE) <= {day} GROUP BY ALL"
    )
    facts = {f.id: f for f in kb.data.facts}
    selects = []
    for col in episode_columns(kb)[1:]:
        fact = facts.get(col.fact)
        pick = f"MAX(CASE WHEN v.fact = {literal(col.fact)} THEN v.value END)"
        if col.fact == "surgery.date":
            value = "MAX(f.surgery_date)"
        elif col.fact == "person.sex" and _has(con, "raw_person", "gender_concept_id"):
            arms = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in GENDER.items())
            value = f"MAX(CASE {text('p.gender_concept_id')} {arms} END)"
        elif fact is None or col.fact in {"derived.level_count", "derived.vertebra_count"}:
            value = "NULL"
        elif fact.type is FactType.ANSWER:
            value = f"(CASE LOWER({pick}) WHEN 'yes' THEN TRUE WHEN 'no' THEN FALSE END)"
        elif fact.type is FactType.NUMBER:
            value = f"TRY_CAST({pick} AS DOUBLE)"
        elif fact.type is FactType.CHOICE:
            codes = {code: value for value, code in fact.value_codes.items()} | {
                v: v for v in fact.values
            }
            arms = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in codes.items())
            value = f"(CASE {pick} {arms} END)"
        else:
            value = "NULL"
        selects.append(f"CAST({value} AS {col.sql_type}) AS {col.name}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE episodes AS SELECT f.person_id AS {EPISODE_ID}, {', '.join(selects)}"
        f" FROM ({fusion}) f LEFT JOIN raw_person p ON {text('p.person_id')} = f.person_id"
        " LEFT JOIN omop_latest v ON v.person_id = f.person_id GROUP BY f.person_id"
    )
    missing = con.execute(
        f"SELECT MIN(f.person_id) FROM ({fusion}) f LEFT JOIN raw_person p ON {text('p.person_id')} = f.person_id"
        " WHERE p.person_id IS NULL"
    ).fetchall()[0][0]
    if missing is not None:
        raise ScreenInputError(
            Where("procedure_occurrence", None, "person_id"), f"person {missing} is not in person"
        )


def _unmapped_gender(con: duckdb.DuckDBPyConnection) -> str:
    if not _has(con, "raw_person", "gender_concept_id"):
        return "SELECT 0"
    codes = ", ".join(literal(c) for c in GENDER)
    gender = text("p.gender_concept_id")
    return (
        f"SELECT COUNT(*) FROM raw_person p WHERE {text('p.person_id')} IN"
        f" (SELECT {EPISODE_ID} FROM episodes) AND ({gender} IS NULL OR {gender} NOT IN ({codes}))"
    )


def _unreadable(con: duckdb.DuckDBPyConnection, kb: Knowledge) -> dict[str, int]:
    """Latest values of yes/no and choice facts that are not an answer or a code of the fact
    (read as unknown, as ``_episodes`` reads them), counted by fact."""
    accepted = [(f.id, "yes") for f in kb.data.facts if f.type is FactType.ANSWER]
    accepted += [(f.id, "no") for f in kb.data.facts if f.type is FactType.ANSWER]
    for fact in kb.data.facts:
        if fact.type is FactType.CHOICE:
            accepted += [(fact.id, v) for v in (*fact.values, *fact.value_codes.values())]
    con.execute("CREATE OR REPLACE TEMP TABLE omop_accepted (fact VARCHAR, value VARCHAR)")
    con.executemany("INSERT INTO omop_accepted VALUES (?, ?)", accepted)
    rows = con.execute(
        "SELECT v.fact, COUNT(*) FROM omop_latest v WHERE v.kind IN ('answer', 'choice')"
        " AND v.person_id IN (SELECT episode_id FROM episodes) AND NOT EXISTS (SELECT 1 FROM"
        " omop_accepted a WHERE a.fact = v.fact AND a.value = CASE v.kind WHEN 'answer'"
        " THEN LOWER(v.value) ELSE v.value END) GROUP BY v.fact ORDER BY v.fact"
    ).fetchall()
    return {f"{fact}: value not an answer or code of the fact": int(n) for fact, n in rows}


def _unused(con: duckdb.DuckDBPyConnection, day: str) -> dict[str, int]:
    """Rows not used, by table and reason."""
    counts = {}
    queries = {
        "person: no fusion procedure (CPT 22612/22630) by the screening date": (
            f"SELECT COUNT(*) FROM raw_person p WHERE {text('p.person_id')} NOT IN (SELECT {EPISODE_ID} FROM episodes)"
        ),
        "condition_occurrence.condition_source_value: code not mapped": (
            f"SELECT COUNT(*) FROM raw_condition_occurrence WHERE {text('condition_source_value')} NOT IN (SELECT code FROM omop_codes WHERE kind = 'answer') OR {text('condition_source_value')} IS NULL"
        ),
        "measurement.measurement_source_value: code or unit not mapped": (
            f"SELECT COUNT(*) FROM raw_measurement m WHERE NOT EXISTS (SELECT 1 FROM omop_codes c"
            f" WHERE c.code = {text('m.measurement_source_value')} AND c.kind = 'number'"
            f" AND (c.unit IS NULL OR c.unit = {_unit(con)}))"
        ),
        "observation.observation_source_value: code not mapped": (
            f"SELECT COUNT(*) FROM raw_observation WHERE {text('observation_source_value')} NOT IN (SELECT code FROM omop_codes) OR {text('observation_source_value')} IS NULL"
        ),
        "values dated after the screening date": f"SELECT COUNT(*) FROM omop_values WHERE day > {day}",
        "person.gender_concept_id: not 8507 or 8532 (sex left unknown)": _unmapped_gender(con),
    }
    for label, sql in queries.items():
        n = int(con.execute(sql).fetchall()[0][0])
        if n:
            counts[label] = n
    return counts
