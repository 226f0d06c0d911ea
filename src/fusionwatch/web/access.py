"""Care-team access: a record of another team answers exactly as a record that does not exist.

Every route that takes a patient or assessment id goes through here (a test enumerates the
routes). A refusal is audited in its own transaction, so the request's rollback keeps it.
"""

from typing import NoReturn

from sqlalchemy.orm import Session

from fusionwatch.core.errors import NotFoundError
from fusionwatch.store import records
from fusionwatch.store.accounts import Principal
from fusionwatch.store.tables import AssessmentRecord, Patient
from fusionwatch.web.context import AppContext
from fusionwatch.web.security import ForbiddenError

# Ids are 64-bit signed integers: larger ones cannot exist and are refused as bad input (422).
MAX_ID = 2**63 - 1


def patient(ctx: AppContext, db: Session, who: Principal, patient_id: int) -> Patient:
    found = records.patient(db, who.teams, patient_id)
    if found is None:
        _refuse(ctx, who, "patient", patient_id)
    return found


def writable_patient(ctx: AppContext, db: Session, who: Principal, patient_id: int) -> Patient:
    found = patient(ctx, db, who, patient_id)
    if not who.can_write(found.team_id):
        deny(ctx, who, "patient", patient_id)
        raise ForbiddenError("your role in this patient's team does not allow changes")
    return found


def assessment(
    ctx: AppContext, db: Session, who: Principal, assessment_id: int
) -> AssessmentRecord:
    found = records.assessment(db, who.teams, assessment_id)
    if found is None:
        _refuse(ctx, who, "assessment", assessment_id)
    return found


def deny(
    ctx: AppContext,
    who: Principal | None,
    kind: str,
    object_id: object,
    team_id: int | None = None,
) -> None:
    """Audit a refusal (its own transaction: the request's own work is rolled back)."""
    with ctx.db.session() as db:
        ctx.audit(
            db, who or "(anonymous)", "access", (kind, object_id), outcome="denied", team_id=team_id
        )


def _refuse(ctx: AppContext, who: Principal, kind: str, object_id: int) -> NoReturn:
    # The owning team's administrators see who tried to open their record.
    with ctx.db.session() as db:
        if kind == "patient":
            found = db.get(Patient, object_id)
            team = found.team_id if found is not None else None
        else:
            team = records.team_of_assessment(db, object_id)
    deny(ctx, who, kind, object_id, team)
    raise NotFoundError(kind)
