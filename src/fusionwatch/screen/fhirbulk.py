"""FHIR Bulk Data export (NDJSON: Patient, Procedure, Condition, Observation) into episode tables.

Each patient's resources go through the FHIR adapter's own mapping (``fhir.caseimport``), so a
patient read in bulk is the same case as that patient read from a Bundle. What the mapping
cannot use is counted by resource type and reason. The mapping validates every resource, so this
source is read patient by patient in Python, not vectorised.
"""

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.errors import CaseError
from fusionwatch.core.scores import Instrument
from fusionwatch.core.vocab import Answer
from fusionwatch.fhir.caseimport import import_resources
from fusionwatch.screen import timeline
from fusionwatch.screen.errors import ScreenInputError, Where
from fusionwatch.screen.history import LEVEL_SEP, history_of
from fusionwatch.screen.registry import Loaded
from fusionwatch.screen.schema import (
    COLLECTIONS,
    EPISODE_ID,
    HISTORY_FAILED,
    LEVEL_FACTS,
    LEVEL_FIELDS,
    NOT_SURE,
    NOT_SURE_SEP,
    OPERATION_COLUMNS,
    STUDY_COLUMNS,
    STUDY_FIELDS,
    VISIT_COLUMNS,
    column,
    episode_columns,
)

READ = ("Patient", "Procedure", "Condition", "Observation")
# Per-level imaging studies that cannot be table rows (study_rows) are not screened: such an
# episode is flagged.
STUDIES_NOT_READ = "not read"
_ARROW = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
    "DATE": pa.date32(),
    "INTEGER": pa.int32(),
}


def episode_row(kb: Knowledge, case: Case, episode: str) -> dict[str, Any]:
    """One episode-table row from a validated case (the inverse of ``episode.case_data``)."""
    row: dict[str, Any] = {EPISODE_ID: episode}
    unsure = []
    for reader in kb.readers:
        value = None if reader.fact in COLLECTIONS else reader.value(case)
        if reader.fact == "imaging.studies" and case.imaging.studies and not study_rows(case, ""):
            value = STUDIES_NOT_READ  # flagged on the worklist: the summary answers were screened
        if isinstance(value, tuple):
            value = LEVEL_SEP.join(str(v) for v in value)
        row[column(reader.fact)] = value
        if reader.answer and reader.get(case) is Answer.NOT_SURE:
            unsure.append(reader.fact)
    history = history_of(case.surgery)
    row |= {column(fact): count for fact, count in zip(LEVEL_FACTS, history.counts, strict=True)}
    row[HISTORY_FAILED] = history.failed_fusion
    row[NOT_SURE] = NOT_SURE_SEP.join(unsure) or None
    return row


def operation_rows(case: Case, episode: str) -> list[dict[str, Any]]:
    """The later operations of a case, in order (the inverse of ``episode._operation``)."""
    return [
        {
            EPISODE_ID: episode,
            "seq": seq,
            "kind": op.kind.value,
            "op_date": op.date,
            "months_since": op.months_since,
            "levels": LEVEL_SEP.join(op.levels) or None,
            "reason": op.reason.value if op.reason else None,
        }
        for seq, op in enumerate(case.surgery.operations)
    ]


def study_rows(case: Case, episode: str) -> list[dict[str, Any]]:
    """The imaging studies of a case as rows of the studies table (the inverse of
    ``episode._studies``); none when a finding cannot be a table cell (landmark points, or an
    answer "not sure", which core.derive.adjacent reads apart from unknown): then the patient is
    flagged and screened on the summary answers."""
    surgery = case.surgery
    fused, adjacent, index = surgery.fused_levels, surgery.adjacent_levels, surgery.levels
    rows: list[dict[str, Any]] = []
    for number, study in enumerate(case.imaging.studies):
        head: dict[str, Any] = {
            EPISODE_ID: episode,
            "study": number,
            "modality": study.modality.value,
            "study_date": study.date,
            "months_since": study.months_since,
        }
        answers = {n: getattr(study, n) for n, _ in STUDY_FIELDS[3:]}
        findings: list[dict[str, Any]] = [{"level": None}]
        if study.levels:
            findings = []
            for f in study.levels:
                if f.landmarks is not None:
                    return []
                found: dict[str, Any] = {"level": f.level}
                for name, _ in LEVEL_FIELDS:
                    value = getattr(f, name)
                    if isinstance(value, Answer):
                        answers[f"{name}@{len(findings)}"] = value
                        value = value.truth
                    elif value is not None and not isinstance(value, float):
                        value = value.value
                    found[name] = value
                findings.append(found)
        if any(a is Answer.NOT_SURE for a in answers.values()):
            return []
        for found in findings:
            level = found["level"]
            rows.append(
                head
                | {n: answers[n].truth for n, _ in STUDY_FIELDS[3:]}
                | found
                | {
                    "seq": len(rows),
                    "adjacent": bool(fused) and level in adjacent,
                    "in_index": level is not None and level in index,
                    "index_levels": len(index) if level is not None else 0,
                }
            )
    return rows


def visit_rows(case: Case, episode: str) -> list[dict[str, Any]]:
    rows = []
    for visit in case.follow_up:
        row: dict[str, Any] = {EPISODE_ID: episode, "baseline": visit.baseline}
        row["visit_date"], row["month"] = visit.date, visit.month
        row.update({i.value: getattr(visit, i.value) for i in Instrument})
        rows.append(row)
    return rows


def _patient_of(resource: dict[str, Any]) -> str | None:
    if resource.get("resourceType") == "Patient":
        found = resource.get("id")
        return found if isinstance(found, str) else None
    subject = resource.get("subject") or resource.get("patient")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if isinstance(reference, str) and reference.startswith("Patient/"):
        return reference.removeprefix("Patient/")
    return None


def read_ndjson(folder: Path) -> tuple[dict[str, list[dict[str, Any]]], Counter[str]]:
    """Resources grouped by patient, and the lines not used (by file and reason)."""
    patients: dict[str, list[dict[str, Any]]] = {}
    unused: Counter[str] = Counter()
    files = sorted(folder.glob("*.ndjson"))
    if not files:
        raise ScreenInputError(Where(str(folder), None, None), "holds no .ndjson files")
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    resource = json.loads(line)
                except json.JSONDecodeError as err:
                    where = Where(str(path), number, None)
                    raise ScreenInputError(where, f"line is not JSON ({err.msg})") from err
                if not isinstance(resource, dict) or "resourceType" not in resource:
                    where = Where(str(path), number, "resourceType")
                    raise ScreenInputError(where, "line is not a FHIR resource")
                kind = str(resource["resourceType"])
                patient = _patient_of(resource)
                if kind not in READ:
                    unused[f"{path.name}: {kind} (resource type not read)"] += 1
                elif patient is None:
                    unused[f"{path.name}: {kind} without a Patient reference"] += 1
                else:
                    patients.setdefault(patient, []).append(resource)
    return patients, unused


def load_fhir_bulk(
    con: duckdb.DuckDBPyConnection, kb: Knowledge, folder: Path, as_of: dt.date
) -> Loaded:
    """Read a Bulk Data export folder into the ``episodes`` and ``visits`` tables."""
    patients, unused = read_ndjson(folder)
    rows, visits, operations, studies = [], [], [], []
    for patient, resources in patients.items():
        try:
            imported = import_resources(resources, kb, as_of, timeline=False)
        except CaseError as err:
            problems = "; ".join(f"{p.field}: {p.message}" for p in err.problems)
            raise ScreenInputError(
                Where(str(folder), None, None), f"Patient/{patient}: {problems}"
            ) from err
        for note in imported.notes:
            unused[f"{note.source.split('/')[0]}: {note.reason.split(':')[0]}"] += 1
        imaged = study_rows(imported.case, patient)
        if imported.case.imaging.studies and not imaged:
            unused["Observation: imaging studies per level (not screened)"] += 1
        studies += imaged
        rows.append(episode_row(kb, imported.case, patient))
        visits += visit_rows(imported.case, patient)
        operations += operation_rows(imported.case, patient)
    for name, table, columns in (
        ("episodes", rows, [(c.name, c.sql_type) for c in episode_columns(kb)]),
        ("visits", visits, VISIT_COLUMNS),
        ("operations", operations, OPERATION_COLUMNS),
        ("studies", studies, STUDY_COLUMNS),
    ):
        schema = pa.schema([(n, _ARROW[t]) for n, t in columns])
        con.register(f"bulk_{name}", pa.Table.from_pylist(table, schema=schema))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM bulk_{name}")
    unused.update(timeline.set_aside(con, as_of))
    return Loaded(len(rows), len(visits), dict(unused), len(operations), len(studies))
