"""OMOP CDM v5.4 tables (CSV or Parquet) into the episode table, in SQL.

Read: ``person``, ``procedure_occurrence`` (required), ``condition_occurrence``, ``measurement``,
``observation``. The index fusion is a person's *first* day with a procedure whose
``procedure_source_value`` is a fusion CPT code (on or before the screening date); each later
such day is a later operation, as the registry layout's ``operations`` file holds them, of kind
``unspecified`` with unknown levels and reason (a CPT code does not say them). Score visits come
from the LOINC codes of total scores the FHIR import reads (``fhir.scoreseries``). Other facts are
matched by their *source* values against the codes the data dictionary gives each fact (LOINC,
SNOMED CT, ICD-10-CM, or the fact id itself), the same index the FHIR adapter uses. Rows and codes
that cannot be mapped are counted, never guessed.
"""

import datetime as dt
from pathlib import Path

import duckdb

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import FactType
from fusionwatch.core.scores import Instrument, Visit
from fusionwatch.core.vocab import OperationKind, Region
from fusionwatch.fhir.codes import fact_index
from fusionwatch.fhir.scoreseries import INSTRUMENT_OF_LOINC, SCORE_UNITS
from fusionwatch.screen import plausible, timeline
from fusionwatch.screen.columns import Check, field_spec, text
from fusionwatch.screen.compiler import literal, number
from fusionwatch.screen.errors import ScreenInputError, Where
from fusionwatch.screen.history import history_key, judge
from fusionwatch.screen.lookup import lookup_table
from fusionwatch.screen.registry import Loaded, check, find, raw_view
from fusionwatch.screen.schema import (
    EPISODE_ID,
    HISTORY_FAILED,
    LEVEL_FACTS,
    VISIT_COLUMNS,
    column,
    episode_columns,
)
from fusionwatch.screen.studies import empty_studies

# Index fusion procedures (CPT), from standards.md: codes seen with fusion claims. The other
# codes standards.md lists are not read as an operation: 22614 is an add-on for each further
# interspace, never reported alone; 22849 is a reinsertion of spinal fixation, not an arthrodesis;
# 20930/20936 are bone graft codes (docs/screening.md cites the sources). Each is counted.
FUSION_CPT = ("22612", "22630")
# A later fusion day: OMOP does not say whether it extended, revised or staged the fusion, nor
# why or at which levels, so its kind is unspecified and its levels and reason stay unknown.
LATER_KIND = OperationKind.UNSPECIFIED.value
# Score visits: total-score LOINC codes → visit field, and the units a score may carry (the FHIR
# import's, docs/interop.md: ODI 97909-6, NDI 82237-9, PROMIS PF T-score 77866-2 and 71959-1).
SCORE_CODES = INSTRUMENT_OF_LOINC
# The disability index must fit the fused region, as core.scores checks a series.
_NOT_IN = {
    "odi": (Region.CERVICAL.value,),
    "ndi": (Region.THORACIC.value, Region.LUMBAR.value, Region.LUMBOSACRAL.value),
}
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
    """Read an OMOP CDM folder into the ``episodes``, ``operations`` and ``visits`` tables."""
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
        if "value_as_number" in columns:
            v = text("value_as_number")
            bad = f"{v} IS NOT NULL AND TRY_CAST({v} AS DOUBLE) IS NULL"
            checks.append(Check("value_as_number", bad, "must be a number"))
        check(con, f"raw_{table}", path, checks)
    codes = _codes(kb)
    lookup_table(
        con, "omop_codes", [(c, "VARCHAR") for c in ("code", "fact", "kind", "unit")], codes
    )
    score_columns = [("code", "VARCHAR"), ("field", "VARCHAR")]
    lookup_table(con, "omop_score_codes", score_columns, list(SCORE_CODES.items()))
    day = f"DATE '{as_of.isoformat()}'"
    _long(con, day)
    _fusion_days(con, day)
    _episodes(con, kb)
    n_ops = _operations(con)
    _history(con)
    con.execute(empty_studies())
    n = con.execute("SELECT COUNT(*) FROM episodes").fetchall()[0][0]
    unused = _unused(con, day) | _unreadable(con, kb) | plausible.set_aside(con, kb)
    n_visits, scores_unused = _visits(con, day)
    unused |= scores_unused
    return Loaded(int(n), n_visits, unused | timeline.set_aside(con, as_of), n_ops)


def _fusion_days(con: duckdb.DuckDBPyConnection, day: str) -> None:
    """Each person's distinct days with a fusion procedure on or before the screening date; the
    first is the index fusion, each later one a later operation (several codes on one day are
    one operation)."""
    cpt = ", ".join(literal(c) for c in FUSION_CPT)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE omop_fusion_days AS SELECT DISTINCT"
        f" {text('person_id')} AS person_id, TRY_CAST({text('procedure_date')} AS DATE) AS day"
        f" FROM raw_procedure_occurrence WHERE {text('procedure_source_value')} IN ({cpt})"
        f" AND TRY_CAST({text('procedure_date')} AS DATE) <= {day}"
    )


def _operations(con: duckdb.DuckDBPyConnection) -> int:
    """Later fusion days as later operations, in date order (``operations`` child table, its
    columns as ``schema.OPERATION_COLUMNS``)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE operations AS SELECT f.person_id AS {EPISODE_ID},"
        " CAST(ROW_NUMBER() OVER (PARTITION BY f.person_id ORDER BY f.day) - 1 AS INTEGER) AS seq,"
        f" {literal(LATER_KIND)} AS kind, f.day AS op_date, CAST(NULL AS DOUBLE) AS months_since,"
        " CAST(NULL AS VARCHAR) AS levels, CAST(NULL AS VARCHAR) AS reason"
        " FROM omop_fusion_days f JOIN episodes e ON e.episode_id = f.person_id"
        " WHERE f.day > e.surgery__date"
    )
    return int(con.execute("SELECT COUNT(*) FROM operations").fetchall()[0][0])


def _history(con: duckdb.DuckDBPyConnection) -> None:
    """Level counts and a failed fusion in the history, by the case model (``screen.history``),
    once per distinct history (levels, region, number of later operations), as for the
    registry layout."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE omop_history_keys AS SELECT e.episode_id,"
        " e.surgery__levels AS levels, e.surgery__region AS region, COALESCE(k.n, 0) AS n"
        " FROM episodes e LEFT JOIN (SELECT episode_id, COUNT(*) AS n FROM operations"
        " GROUP BY ALL) k ON k.episode_id = e.episode_id"
    )
    later = (LATER_KIND, None, None)
    rows = []
    for levels, region, n in con.execute(
        "SELECT DISTINCT levels, region, n FROM omop_history_keys"
    ).fetchall():
        h = judge(levels, region, history_key([later] * int(n)) if n else None)
        rows.append((levels, region, n, *h.counts, h.failed_fusion))
    columns = [("levels", "VARCHAR"), ("region", "VARCHAR"), ("n", "BIGINT")]
    columns += [(f"c{i}", "DOUBLE") for i, _ in enumerate(LEVEL_FACTS)] + [("failed", "BOOLEAN")]
    lookup_table(con, "omop_history", columns, rows)
    counts = ", ".join(f"h.c{i} AS {column(fact)}" for i, fact in enumerate(LEVEL_FACTS))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE episodes AS SELECT e.* REPLACE ({counts},"
        f" COALESCE(h.failed, FALSE) AS {HISTORY_FAILED})"
        " FROM episodes e JOIN omop_history_keys k ON k.episode_id = e.episode_id"
        " LEFT JOIN omop_history h ON h.levels IS NOT DISTINCT FROM k.levels"
        " AND h.region IS NOT DISTINCT FROM k.region AND h.n = k.n"
    )


def _score_rows(con: duckdb.DuckDBPyConnection) -> str:
    """Every measurement and observation row with a score code, as (table, person, field,
    value, unit, day)."""
    parts = []
    for table in ("measurement", "observation"):
        raw = f"raw_{table}"
        if not _has(con, raw, "value_as_number"):
            continue
        unit = text("unit_source_value") if _has(con, raw, "unit_source_value") else "NULL"
        parts.append(
            f"SELECT {literal(table)} AS source, {text('person_id')} AS person_id, c.field,"
            f" TRY_CAST({text('value_as_number')} AS DOUBLE) AS value, {unit} AS unit,"
            f" TRY_CAST({text(table + '_date')} AS DATE) AS day FROM {raw}"
            f" JOIN omop_score_codes c ON c.code = {text(table + '_source_value')}"
        )
    empty = (
        "SELECT CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS person_id,"
        " CAST(NULL AS VARCHAR) AS field, CAST(NULL AS DOUBLE) AS value,"
        " CAST(NULL AS VARCHAR) AS unit, CAST(NULL AS DATE) AS day WHERE FALSE"
    )
    return " UNION ALL ".join(parts) or empty


def _visits(con: duckdb.DuckDBPyConnection, day: str) -> tuple[int, dict[str, int]]:
    """Scores into the ``visits`` child table, placed as ``fhir.scoreseries`` places them: one
    visit per day after the index fusion, the latest day before it as the baseline; every
    score not used is counted by table, score and reason."""
    out_of_scale = " OR ".join(
        f"(field = {literal(f)} AND (value < {number(low)} OR value > {number(high)}))"
        for f in sorted(set(SCORE_CODES.values()))
        for _, low, high in [field_spec(f, Visit)]
        if low is not None and high is not None
    )
    units = " OR ".join(
        f"(field = {literal(f)} AND unit IN ({', '.join(literal(u) for u in sorted(found))}))"
        for f, found in SCORE_UNITS.items()
    )
    region_misfit = " OR ".join(
        f"(field = {literal(f)} AND region IN ({', '.join(literal(r) for r in regions)}))"
        for f, regions in _NOT_IN.items()
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE omop_scores AS SELECT s.*, e.episode_id AS episode,"
        " e.surgery__date AS fusion, e.surgery__region AS region, CAST(NULL AS VARCHAR) AS reason"
        f" FROM ({_score_rows(con)}) s LEFT JOIN episodes e ON e.episode_id = s.person_id"
    )
    # Each step sees only the scores no earlier step has left out, in this order.
    steps = (
        ("of a person with no fusion procedure", "episode IS NULL"),
        ("without value_as_number", "value IS NULL"),
        ("in a unit that is not a score unit", f"unit IS NOT NULL AND NOT ({units or 'FALSE'})"),
        ("without a date", "day IS NULL"),
        ("dated after the screening date", f"day > {day}"),
        ("outside its scale", out_of_scale or "FALSE"),
        ("on the day of the fusion (before or after it unknown)", "day = fusion"),
        (
            "earlier than the latest pre-operative score",
            "day < fusion AND day < (SELECT MAX(p.day) FROM omop_scores p WHERE p.reason IS NULL"
            " AND p.person_id = omop_scores.person_id AND p.day < p.fusion)",
        ),
        ("that does not fit the fused region", region_misfit),
        (
            "with a different value of the same score on the same day",
            "EXISTS (SELECT 1 FROM omop_scores p WHERE p.reason IS NULL"
            " AND p.person_id = omop_scores.person_id AND p.field = omop_scores.field"
            " AND (p.day = omop_scores.day OR (p.day < p.fusion AND omop_scores.day"
            " < omop_scores.fusion)) AND p.value <> omop_scores.value)",
        ),
        (
            "odi and ndi in one series without surgery.region",
            "region IS NULL AND field IN ('odi', 'ndi') AND (SELECT COUNT(DISTINCT p.field)"
            " FROM omop_scores p WHERE p.reason IS NULL AND p.person_id = omop_scores.person_id"
            " AND p.field IN ('odi', 'ndi')) = 2",
        ),
    )
    for reason, bad in steps:
        # The marks of one step are made together, from the scores before it.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE omop_marked AS SELECT rowid AS id FROM omop_scores"
            f" WHERE reason IS NULL AND COALESCE({bad}, FALSE)"
        )
        con.execute(
            f"UPDATE omop_scores SET reason = {literal(reason)}"
            " WHERE rowid IN (SELECT id FROM omop_marked)"
        )
    fields = ", ".join(
        f"MAX(CASE WHEN field = {literal(i.value)} THEN value END) AS {i.value}" for i in Instrument
    )
    names = ", ".join(name for name, _ in VISIT_COLUMNS)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE visits AS SELECT {names} FROM (SELECT person_id AS"
        f" {EPISODE_ID}, day < fusion AS baseline, CASE WHEN day > fusion THEN day END AS"
        f" visit_date, CAST(NULL AS DOUBLE) AS month, {fields} FROM omop_scores"
        " WHERE reason IS NULL GROUP BY ALL) ORDER BY episode_id, baseline DESC, visit_date"
    )
    counts = con.execute(
        "SELECT source, field, reason, COUNT(*) FROM omop_scores WHERE reason IS NOT NULL"
        " GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    n = con.execute("SELECT COUNT(*) FROM visits").fetchall()[0][0]
    noted = {
        f"{source}.value_as_number: {field} score {reason}": int(k)
        for source, field, reason, k in counts
    }
    return int(n), noted


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


def _episodes(con: duckdb.DuckDBPyConnection, kb: Knowledge) -> None:
    # The index fusion is the first fusion day (later ones are later operations: _operations).
    fusion = "SELECT person_id, MIN(day) AS surgery_date FROM omop_fusion_days GROUP BY ALL"
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
    lookup_table(con, "omop_accepted", [("fact", "VARCHAR"), ("value", "VARCHAR")], accepted)
    rows = con.execute(
        "SELECT v.fact, COUNT(*) FROM omop_latest v WHERE v.kind IN ('answer', 'choice')"
        " AND v.person_id IN (SELECT episode_id FROM episodes) AND NOT EXISTS (SELECT 1 FROM"
        " omop_accepted a WHERE a.fact = v.fact AND a.value = CASE v.kind WHEN 'answer'"
        " THEN LOWER(v.value) ELSE v.value END) GROUP BY v.fact ORDER BY v.fact"
    ).fetchall()
    return {f"{fact}: value not an answer or code of the fact": int(n) for fact, n in rows}


def _unused(con: duckdb.DuckDBPyConnection, day: str) -> dict[str, int]:
    """Rows not used, by table and reason (score rows are counted by ``_visits``)."""
    counts = {}
    cpt = "/".join(FUSION_CPT)
    codes = ", ".join(literal(c) for c in FUSION_CPT)
    procedure = text("procedure_source_value")

    def scored(cell: str) -> str:
        return f"COALESCE({text(cell)} NOT IN (SELECT code FROM omop_score_codes), TRUE)"

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
            f" AND {scored('m.measurement_source_value')}"
        ),
        "observation.observation_source_value: code not mapped": (
            f"SELECT COUNT(*) FROM raw_observation WHERE ({text('observation_source_value')} NOT IN (SELECT code FROM omop_codes) OR {text('observation_source_value')} IS NULL)"
            f" AND {scored('observation_source_value')}"
        ),
        f"procedure_occurrence.procedure_source_value: not a fusion code ({cpt})": (
            f"SELECT COUNT(*) FROM raw_procedure_occurrence WHERE {procedure} IS NULL"
            f" OR {procedure} NOT IN ({codes})"
        ),
        "procedure_occurrence: fusion procedures dated after the screening date": (
            f"SELECT COUNT(*) FROM raw_procedure_occurrence WHERE {procedure} IN ({codes})"
            f" AND TRY_CAST({text('procedure_date')} AS DATE) > {day}"
        ),
        "values dated after the screening date": f"SELECT COUNT(*) FROM omop_values WHERE day > {day}",
        "person.gender_concept_id: not 8507 or 8532 (sex left unknown)": _unmapped_gender(con),
    }
    for label, sql in queries.items():
        n = int(con.execute(sql).fetchall()[0][0])
        if n:
            counts[label] = n
    return counts
