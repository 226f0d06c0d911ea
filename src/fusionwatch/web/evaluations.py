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
from fusionwatch.store.accounts import Principal
from fusionwatch.store.tables import AssessmentRecord
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
    ctx.audit(db, who.actor, "create", ("assessment", record.id))
    return record


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
