"""Care-team access: a record of another team answers exactly as a record that does not exist.

Every route that takes a patient or assessment id goes through here (a test enumerates the
routes). A clinician who broke the glass (``web/glass.py``) reads that one patient here, in a
browser session only, until the access ends; each such read is audited with the reason.
A refusal travels in the exception (``RefusedError``, or ``ForbiddenError`` with a ``Denial``)
and the error handler audits it in a unit of work of its own once the request's own has ended:
the request's work is rolled back, the refusal is kept, and no unit of work waits for another
one (on SQLite each holds the write lock; see ``Database.session``).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusionwatch.core.errors import NotFoundError
from fusionwatch.store import glass, records
from fusionwatch.store.accounts import Principal
from fusionwatch.store.tables import AssessmentRecord, Patient, ScreeningRun, Team
from fusionwatch.web.context import AppContext
from fusionwatch.web.security import Denial, ForbiddenError

# Ids are 64-bit signed integers: larger ones cannot exist and are refused as bad input (422).
MAX_ID = 2**63 - 1


class RefusedError(NotFoundError):
    """Another team's record (or none): a 404 like any missing record, audited as a denial."""

    def __init__(self, denial: Denial) -> None:
        super().__init__(denial.kind)
        self.denial = denial


def patient(ctx: AppContext, db: Session, who: Principal, patient_id: int) -> Patient:
    found = records.patient(db, who.teams, patient_id) or _through_glass(
        ctx, db, who, ("patient", patient_id), patient_id
    )
    if found is None:
        raise RefusedError(Denial(who, "patient", patient_id))
    return found


def writable_patient(ctx: AppContext, db: Session, who: Principal, patient_id: int) -> Patient:
    found = patient(ctx, db, who, patient_id)
    if not who.can_write(found.team_id):
        reason = (
            "your role in this patient's team does not allow changes"
            if found.team_id in who.teams
            else "emergency access (break the glass) is read only: ask the patient's team"
        )
        raise ForbiddenError(reason, denial=Denial(who, "patient", patient_id))
    return found


def assessment(
    ctx: AppContext, db: Session, who: Principal, assessment_id: int
) -> AssessmentRecord:
    found = records.assessment(db, who.teams, assessment_id)
    if found is None and who.via == "web":
        patient_id = db.scalar(
            select(AssessmentRecord.patient_id).where(AssessmentRecord.id == assessment_id)
        )
        if patient_id is not None and _through_glass(
            ctx, db, who, ("assessment", assessment_id), patient_id
        ):
            found = db.get(AssessmentRecord, assessment_id)
    if found is None:
        raise RefusedError(Denial(who, "assessment", assessment_id))
    return found


def _through_glass(
    ctx: AppContext, db: Session, who: Principal, target: tuple[str, int], patient_id: int
) -> Patient | None:
    """The patient, when the user broke the glass for them and the access still lasts.

    Browser sessions only: an API token neither breaks the glass nor reads through it.
    """
    if who.via != "web":
        return None
    grant = glass.active_grant(db, who.user_id, patient_id, ctx.clock())
    found = db.get(Patient, patient_id) if grant is not None else None
    if grant is None or found is None or found.team_id != grant.team_id:
        return None  # no access, or the patient has moved to another team since
    ctx.audit(
        db,
        who,
        glass.ACCESS_ACTION,
        target,
        team_id=found.team_id,
        detail=glass.detail(grant.category, grant.reason, grant.id),
    )
    return found


def record(ctx: AppContext, denial: Denial) -> None:
    """Audit a refusal, marked with the owning team so that its administrators see who tried."""
    with ctx.db.session() as db:
        ctx.audit(
            db,
            denial.who or "(anonymous)",
            "access",
            (denial.kind, denial.object_id),
            outcome="denied",
            team_id=_owner(db, denial.kind, denial.object_id),
        )


def _owner(db: Session, kind: str, object_id: object) -> int | None:
    if not isinstance(object_id, int):
        return None
    if kind == "patient":
        found = db.get(Patient, object_id)
        return found.team_id if found is not None else None
    if kind == "assessment":
        return records.team_of_assessment(db, object_id)
    if kind == "team_admin":
        return object_id if db.get(Team, object_id) is not None else None
    if kind == "screening_run":
        run = db.get(ScreeningRun, object_id)
        return run.team_id if run is not None else None
    return None
