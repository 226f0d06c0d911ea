"""Making an assessment for a saved patient and storing it as an immutable record.

Shared by the clinician pages and the JSON API, so both store exactly the same thing.
"""

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from fusionwatch.core.engine import assess
from fusionwatch.core.serialize import to_data
from fusionwatch.files.case import parse_data
from fusionwatch.store import records
from fusionwatch.store.access import Scope
from fusionwatch.store.accounts import Principal
from fusionwatch.store.tables import AssessmentRecord, Patient
from fusionwatch.web.context import AppContext


def evaluate(
    ctx: AppContext,
    db: Session,
    *,
    patient_id: int,
    data: dict[str, Any],
    who: Principal,
    as_of: dt.date | None = None,
) -> AssessmentRecord:
    """Validate (CaseError names each bad field), assess, store and audit; returns the record."""
    day = as_of or ctx.today
    case = parse_data(data, day)
    result = to_data(assess(case, ctx.kb, day, ctx.site))
    record = records.add_assessment(
        db,
        AssessmentRecord(
            patient_id=patient_id,
            created_at=ctx.clock(),
            created_by=who.user_id,
            as_of=day,
            knowledge_version=ctx.kb.data.manifest.version,
            triage=result["triage"]["level"],
            suspicion=result["suspicion"]["level"],
            case_data=case.model_dump(mode="json", exclude_defaults=True),
            result=result,
        ),
    )
    patient = db.get(Patient, patient_id)
    team = patient.team_id if patient is not None else None
    ctx.audit(db, who, "create", ("assessment", record.id), team_id=team)
    return record


def team_for_new_patient(who: Principal, asked: int | None) -> int | None:
    """The team a new patient joins: the one asked for, or the user's only team that may write."""
    writable = who.writable_teams if Scope.WRITE in who.scopes else []
    if asked is not None:
        return asked if asked in writable else None
    return writable[0] if len(writable) == 1 else None


def patient_problems(
    db: Session, team_id: int | None, name: str, reference: str | None
) -> dict[str, str]:
    """The same checks for the page's form and the API: field -> message."""
    problems = {}
    if team_id is None:
        problems["team_id"] = "Choose one of your teams where you may add patients."
    if not name or len(name) > 200:
        problems["display_name"] = "Give a name or label of 1 to 200 characters."
    if reference and len(reference) > 80:
        problems["reference"] = "Keep the reference to 80 characters or fewer."
    elif (
        reference
        and team_id is not None
        and records.patients_with_reference(db, [team_id], reference)
    ):
        problems["reference"] = "Another patient of this team already has this reference."
    return problems


def summary(record: AssessmentRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "patient_id": record.patient_id,
        "created_at": record.created_at.isoformat(),
        "as_of": record.as_of.isoformat(),
        "knowledge_version": record.knowledge_version,
        "triage": record.triage,
        "suspicion": record.suspicion,
    }


def full(record: AssessmentRecord) -> dict[str, Any]:
    return {**summary(record), "case": record.case_data, "result": record.result}
