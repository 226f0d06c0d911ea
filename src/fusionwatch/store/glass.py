"""Break the glass: recorded, time-limited read access to one patient outside one's teams.

A clinician who must open another team's patient in an emergency names the patient by the
reference the team stored (the MRN) and gives a reason; the reason is checked before anything
about patients is looked up, so the form never tells whether a patient exists to someone who
has not recorded why they ask. Every request, found or not, is audited with the reason.
"""

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusionwatch.store.tables import AuditEvent, BreakGlass, Patient, User

ACTION = "break_glass"
ACCESS_ACTION = "break_glass_access"
END_ACTION = "break_glass_end"

REASON_MIN = 10
REASON_MAX = 500
REFERENCE_MAX = 80
CATEGORIES = {
    "emergency": "Emergency treatment",
    "on_call": "On call or covering for the patient's team",
    "urgent_consult": "Urgent consultation",
    "other": "Other (say which in the reason)",
}


class Outcome(StrEnum):
    GRANTED = "granted"
    OWN_TEAM = "own_team"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class Request:
    reference: str
    category: str
    reason: str

    @classmethod
    def of(cls, reference: str, category: str, reason: str) -> "Request":
        # Line breaks and runs of spaces are kept short: the reason is shown in audit tables.
        return cls(reference.strip(), category.strip(), " ".join(reason.split()))

    def problems(self) -> dict[str, str]:
        found = {}
        if not self.reference:
            found["reference"] = "Enter the patient's reference (MRN) as their team recorded it."
        elif len(self.reference) > REFERENCE_MAX:
            found["reference"] = f"A reference has at most {REFERENCE_MAX} characters."
        if self.category not in CATEGORIES:
            found["category"] = "Choose the kind of reason."
        if not self.reason:
            found["reason"] = "Give the reason for emergency access: it is required."
        elif len(self.reason) < REASON_MIN:
            found["reason"] = (
                f"Say why in at least {REASON_MIN} characters: the patient's team reviews it."
            )
        elif len(self.reason) > REASON_MAX:
            found["reason"] = f"Keep the reason to at most {REASON_MAX} characters."
        return found


@dataclass(frozen=True, slots=True)
class Active:
    """An access that still lasts, as the banner shows it."""

    grant_id: int
    patient_id: int
    display_name: str
    reference: str | None
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class GrantRow:
    """A break-the-glass event as the patient's team administrators review it."""

    id: int
    username: str
    patient_id: int
    reference: str | None
    category: str
    reason: str
    created_at: dt.datetime
    expires_at: dt.datetime
    active: bool


def request_access(
    db: Session,
    *,
    user_id: int,
    own_teams: Collection[int],
    asked: Request,
    now: dt.datetime,
    lasts: dt.timedelta,
) -> tuple[Outcome, Patient | None, BreakGlass | None]:
    """Look the reference up (the caller has checked the request) and grant access to one
    patient of another team. Several matches are refused: access is to one patient only."""
    matches = db.scalars(
        select(Patient).where(Patient.reference == asked.reference).order_by(Patient.id).limit(20)
    ).all()
    own = [p for p in matches if p.team_id in own_teams]
    if own:
        return Outcome.OWN_TEAM, own[0], None
    if not matches:
        return Outcome.NOT_FOUND, None, None
    if len(matches) > 1:
        return Outcome.AMBIGUOUS, None, None
    patient = matches[0]
    grant = BreakGlass(
        user_id=user_id,
        patient_id=patient.id,
        team_id=patient.team_id,
        category=asked.category,
        reason=asked.reason,
        created_at=now,
        expires_at=now + lasts,
    )
    db.add(grant)
    db.flush()
    return Outcome.GRANTED, patient, grant


def requests_since(db: Session, user_id: int, since: dt.datetime) -> int:
    """How many break-the-glass requests (audited, found or not) the user made since then."""
    count = db.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.actor_id == user_id,
            AuditEvent.action == ACTION,
            AuditEvent.at > since,
        )
    )
    return int(count or 0)


def active_grant(db: Session, user_id: int, patient_id: int, now: dt.datetime) -> BreakGlass | None:
    """The user's access to the patient that lasts longest, when one still lasts."""
    return db.scalar(
        select(BreakGlass)
        .where(
            BreakGlass.user_id == user_id,
            BreakGlass.patient_id == patient_id,
            BreakGlass.expires_at > now,
        )
        .order_by(BreakGlass.expires_at.desc())
        .limit(1)
    )


def active_for(db: Session, user_id: int, now: dt.datetime) -> list[Active]:
    """Every access of the user that still lasts, one per patient (for the banner)."""
    rows = db.execute(
        select(BreakGlass, Patient.display_name, Patient.reference)
        .join(Patient, Patient.id == BreakGlass.patient_id)
        .where(BreakGlass.user_id == user_id, BreakGlass.expires_at > now)
        .order_by(BreakGlass.expires_at.desc())
        .limit(20)
    ).all()
    found: dict[int, Active] = {}
    for grant, name, reference in rows:
        found.setdefault(
            grant.patient_id,
            Active(grant.id, grant.patient_id, name, reference, grant.expires_at),
        )
    return list(found.values())


def end_all(db: Session, user_id: int, now: dt.datetime) -> list[BreakGlass]:
    """End the user's accesses that still last, now (their end time becomes now)."""
    lasting = db.scalars(
        select(BreakGlass).where(BreakGlass.user_id == user_id, BreakGlass.expires_at > now)
    ).all()
    for grant in lasting:
        grant.expires_at = now
    return list(lasting)


def of_teams(
    db: Session, team_ids: Collection[int], now: dt.datetime, limit: int = 50
) -> Sequence[GrantRow]:
    """The latest break-the-glass grants to the teams' patients, newest first."""
    rows = db.execute(
        select(BreakGlass, User.username, Patient.reference)
        .join(User, User.id == BreakGlass.user_id)
        .join(Patient, Patient.id == BreakGlass.patient_id)
        .where(BreakGlass.team_id.in_(list(team_ids)))
        .order_by(BreakGlass.id.desc())
        .limit(limit)
    ).all()
    return [
        GrantRow(
            id=g.id,
            username=username,
            patient_id=g.patient_id,
            reference=reference,
            category=g.category,
            reason=g.reason,
            created_at=g.created_at,
            expires_at=g.expires_at,
            active=g.expires_at > now,
        )
        for g, username, reference in rows
    ]


def detail(category: str, reason: str, grant_id: int | None = None) -> str:
    """The audit event's text: which grant, the kind of reason and the reason itself."""
    prefix = f"grant {grant_id} " if grant_id is not None else ""
    return f"{prefix}[{category}] {reason}"
