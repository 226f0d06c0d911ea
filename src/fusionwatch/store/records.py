"""Patients, their immutable assessments, and the audit trail of who touched which record."""

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusionwatch.store.tables import AssessmentRecord, AuditEvent, CdsFeedback, Patient


def add_patient(
    db: Session, display_name: str, reference: str | None, user_id: int, now: dt.datetime
) -> Patient:
    patient = Patient(
        display_name=display_name, reference=reference, created_at=now, created_by=user_id
    )
    db.add(patient)
    db.flush()
    return patient


def patients(db: Session) -> Sequence[tuple[Patient, AssessmentRecord | None]]:
    """Every patient with their latest assessment (if any), newest patients first."""
    latest = (
        select(AssessmentRecord.patient_id, func.max(AssessmentRecord.id).label("last"))
        .group_by(AssessmentRecord.patient_id)
        .subquery()
    )
    rows = db.execute(
        select(Patient, AssessmentRecord)
        .outerjoin(latest, latest.c.patient_id == Patient.id)
        .outerjoin(AssessmentRecord, AssessmentRecord.id == latest.c.last)
        .order_by(Patient.id.desc())
    ).all()
    return [(p, a) for p, a in rows]


def patient(db: Session, patient_id: int) -> Patient | None:
    return db.get(Patient, patient_id)


def add_assessment(db: Session, record: AssessmentRecord) -> AssessmentRecord:
    db.add(record)
    db.flush()
    return record


def assessments_of(db: Session, patient_id: int) -> Sequence[AssessmentRecord]:
    return db.scalars(
        select(AssessmentRecord)
        .where(AssessmentRecord.patient_id == patient_id)
        .order_by(AssessmentRecord.id.desc())
    ).all()


def assessment(db: Session, assessment_id: int) -> AssessmentRecord | None:
    return db.get(AssessmentRecord, assessment_id)


def audit(
    db: Session,
    *,
    actor: str,
    action: str,
    target: tuple[str, object | None],
    now: dt.datetime,
    outcome: str = "ok",
) -> None:
    object_type, object_id = target
    db.add(
        AuditEvent(
            at=now,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            outcome=outcome,
        )
    )


def audit_trail(db: Session, limit: int = 200) -> Sequence[AuditEvent]:
    return db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all()


def add_feedback(db: Session, feedback: CdsFeedback) -> CdsFeedback:
    db.add(feedback)
    db.flush()
    return feedback


def feedback_for(db: Session, service_id: str) -> Sequence[CdsFeedback]:
    query = select(CdsFeedback).where(CdsFeedback.service_id == service_id)
    return db.scalars(query.order_by(CdsFeedback.id)).all()
