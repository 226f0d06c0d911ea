"""Patients, their immutable assessments, and the audit trail of who touched which record."""

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, load_only

from fusionwatch.store.tables import (
    AssessmentRecord,
    AuditEvent,
    CdsFeedback,
    Membership,
    Patient,
    PatientNameWord,
)

WORD = re.compile(r"\w+")
LAST_CHARACTER = "\U0010ffff"  # sorts after every character a folded word can hold
MAX_SEARCH_WORDS = 8
MAX_WORD_LENGTH = 200
NARROW = 2_000  # a name word this few patients have is looked up first


def name_words(text: str) -> list[str]:
    """The words of a name as the search stores and looks them up: case-folded, accents
    dropped (NFKD without combining marks), split at anything that is not a letter or digit.
    "José O'Brien-Smith" gives jose, o, brien, smith. The 0005 migration has a copy of this."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return sorted({w[:MAX_WORD_LENGTH] for w in WORD.findall(plain)})


def add_patient(
    db: Session,
    *,
    display_name: str,
    reference: str | None,
    user_id: int,
    now: dt.datetime,
    team_id: int,
) -> Patient:
    patient = Patient(
        display_name=display_name,
        reference=reference,
        created_at=now,
        created_by=user_id,
        team_id=team_id,
    )
    db.add(patient)
    db.flush()
    words = name_words(display_name)
    if words:
        db.execute(insert(PatientNameWord), [{"word": w, "patient_id": patient.id} for w in words])
    return patient


def patient_page(
    db: Session,
    teams: Collection[int],
    *,
    before: int | None = None,
    limit: int = 50,
    text: str | None = None,
    triage: str | None = None,
) -> Sequence[Patient]:
    """One page of the teams' patients, newest first, from the summary columns only.

    Keyset paging (``before`` = the last id of the previous page) costs the same on page 1 and
    page 2,000; ``limit + 1`` rows are read so the caller knows whether there is a next page.
    ``text`` finds the patients whose reference is exactly ``text``, and those whose name has,
    for every word of ``text``, a word that starts with it (case and accents ignored: "jo smi"
    finds "José Smith"), each word looked up in an index rather than by scanning the names.
    """
    query = select(Patient).where(Patient.team_id.in_(list(teams)))
    if before is not None:
        query = query.where(Patient.id < before)
    if triage:
        query = query.where(Patient.latest_triage == triage)
    newest = Patient.id.desc()
    if not text:
        return db.scalars(query.order_by(newest).limit(limit + 1)).all()
    by_reference = db.scalars(
        query.where(Patient.reference == text).order_by(newest).limit(limit + 1)
    ).all()
    by_name = _by_name(db, query, name_words(text)[:MAX_SEARCH_WORDS], limit + 1)
    merged = {p.id: p for p in (*by_reference, *by_name)}
    return [merged[i] for i in sorted(merged, reverse=True)[: limit + 1]]


def _by_name(db: Session, query: Select[Any], words: list[str], count: int) -> Sequence[Patient]:
    """The newest ``count`` patients of ``query`` whose name has a word starting with each of
    ``words``. A word that few names have gives the candidates (at most ``NARROW`` ids from
    the index), checked for the other words; when every word is common, the patients are read
    newest first and each checked in the index (patient, word) until ``count`` match."""
    if not words:
        return []

    def starts(word: str) -> ColumnElement[bool]:
        return and_(PatientNameWord.word >= word, PatientNameWord.word < word + LAST_CHARACTER)

    def has(word: str) -> ColumnElement[bool]:
        return (
            select(PatientNameWord.patient_id)
            .where(PatientNameWord.patient_id == Patient.id, starts(word))
            .exists()
        )

    # How many names have each word, counted up to NARROW + 1 in the index (no ids fetched).
    counts = {
        word: db.scalar(
            select(func.count()).select_from(
                select(PatientNameWord.patient_id).where(starts(word)).limit(NARROW + 1).subquery()
            )
        )
        or 0
        for word in words
    }
    rarest = min(words, key=lambda word: counts[word])
    if counts[rarest] == 0:
        return []
    if counts[rarest] <= NARROW:
        ids = db.scalars(select(PatientNameWord.patient_id).where(starts(rarest))).all()
        query = query.where(Patient.id.in_(ids))
    for word in words:
        query = query.where(has(word))
    return db.scalars(query.order_by(Patient.id.desc()).limit(count)).all()


def patients_with_reference(
    db: Session, teams: Collection[int], reference: str
) -> Sequence[Patient]:
    query = select(Patient).where(Patient.team_id.in_(list(teams)), Patient.reference == reference)
    return db.scalars(query.order_by(Patient.id.desc()).limit(20)).all()


def patient(db: Session, teams: Collection[int], patient_id: int) -> Patient | None:
    """The patient, only when one of ``teams`` holds them (another team's patient is None)."""
    found = db.get(Patient, patient_id)
    return found if found is not None and found.team_id in teams else None


def add_assessment(db: Session, record: AssessmentRecord) -> AssessmentRecord:
    """Store an assessment and copy its summary onto the patient (what the lists read)."""
    db.add(record)
    db.flush()
    db.execute(
        update(Patient)
        .where(Patient.id == record.patient_id)
        .values(
            latest_assessment_id=record.id,
            latest_triage=record.triage,
            latest_suspicion=record.suspicion,
            latest_as_of=record.as_of,
        )
    )
    return record


SUMMARY = (
    AssessmentRecord.id,
    AssessmentRecord.patient_id,
    AssessmentRecord.created_at,
    AssessmentRecord.as_of,
    AssessmentRecord.knowledge_version,
    AssessmentRecord.triage,
    AssessmentRecord.suspicion,
)


def assessments_of(
    db: Session, patient_id: int, *, before: int | None = None, limit: int = 100
) -> Sequence[AssessmentRecord]:
    """A patient's assessments, newest first; summary columns only (input and result deferred)."""
    query = (
        select(AssessmentRecord)
        .options(load_only(*SUMMARY))
        .where(AssessmentRecord.patient_id == patient_id)
    )
    if before is not None:
        query = query.where(AssessmentRecord.id < before)
    return db.scalars(query.order_by(AssessmentRecord.id.desc()).limit(limit)).all()


def latest_input(db: Session, patient: Patient) -> dict[str, object]:
    """The input of the patient's latest assessment (to prefill a new evaluation)."""
    if patient.latest_assessment_id is None:
        return {}
    data = db.scalar(
        select(AssessmentRecord.case_data).where(
            AssessmentRecord.id == patient.latest_assessment_id
        )
    )
    return dict(data or {})


def assessment(db: Session, teams: Collection[int], assessment_id: int) -> AssessmentRecord | None:
    """The assessment, only when its patient belongs to one of ``teams``."""
    row = db.execute(
        select(AssessmentRecord, Patient.team_id)
        .join(Patient, Patient.id == AssessmentRecord.patient_id)
        .where(AssessmentRecord.id == assessment_id)
    ).first()
    return row[0] if row is not None and row[1] in teams else None


def team_of_assessment(db: Session, assessment_id: int) -> int | None:
    return db.scalar(
        select(Patient.team_id)
        .join(AssessmentRecord, AssessmentRecord.patient_id == Patient.id)
        .where(AssessmentRecord.id == assessment_id)
    )


def audit(
    db: Session,
    *,
    actor: str,
    action: str,
    target: tuple[str, object | None],
    now: dt.datetime,
    outcome: str = "ok",
    actor_id: int | None = None,
    team_id: int | None = None,
    detail: str | None = None,
) -> None:
    object_type, object_id = target
    db.add(
        AuditEvent(
            at=now,
            actor=actor[:120],
            actor_id=actor_id,
            team_id=team_id,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id)[:40],
            outcome=outcome,
            detail=detail,
        )
    )


def audit_trail(
    db: Session, admin_teams: Collection[int], limit: int = 200
) -> Sequence[AuditEvent]:
    """The latest events an administrator of ``admin_teams`` may see: their teams' records, and
    the events without a record (sign-ins, lists, refusals) of their teams' members."""
    teams = list(admin_teams)
    if not teams:
        return []
    team_members = select(Membership.user_id).where(Membership.team_id.in_(teams))
    query = select(AuditEvent).where(
        or_(
            AuditEvent.team_id.in_(teams),
            and_(AuditEvent.team_id.is_(None), AuditEvent.actor_id.in_(team_members)),
        )
    )
    return db.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)).all()


def add_feedback(db: Session, feedback: CdsFeedback) -> CdsFeedback:
    db.add(feedback)
    db.flush()
    return feedback


def feedback_for(db: Session, service_id: str) -> Sequence[CdsFeedback]:
    query = select(CdsFeedback).where(CdsFeedback.service_id == service_id)
    return db.scalars(query.order_by(CdsFeedback.id)).all()
