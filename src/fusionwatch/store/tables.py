"""The database tables. Assessments are written once and never updated."""

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# 64-bit ids (BIGINT on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit).
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Compared code point by code point (SQLite's BINARY; PostgreSQL's "C" collation), so that the
# words that start with a prefix are one range of the index on both databases.
SearchWord = String(200).with_variant(String(200, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {int: BigId}


class Team(Base):
    """A care team: patients belong to one team; users reach them through a membership."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[dt.datetime]


class Membership(Base):
    """A user's role in a team: clinician, read_only or administrator."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    active: Mapped[bool] = mapped_column(default=True)


class LoginSession(Base):
    """A browser session; only a hash of the cookie value is kept."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime | None]


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is kept, and it carries its scopes."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)


class Patient(Base):
    """A patient of one care team, with a summary of the latest assessment (kept at write time)."""

    __tablename__ = "patients"
    __table_args__ = (
        Index("ix_patients_team", "team_id", "id"),
        Index("ix_patients_team_reference", "team_id", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    display_name: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    latest_assessment_id: Mapped[int | None]
    latest_triage: Mapped[str | None] = mapped_column(String(40))
    latest_suspicion: Mapped[str | None] = mapped_column(String(40))
    latest_as_of: Mapped[dt.date | None]


class PatientNameWord(Base):
    """One word of a patient's name, folded for search (``records.name_words``): what a name
    search looks up, as a range of this table's primary key, instead of scanning the names."""

    __tablename__ = "patient_name_words"
    __table_args__ = (Index("ix_patient_name_words_patient", "patient_id", "word"),)

    word: Mapped[str] = mapped_column(SearchWord, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )


class AssessmentRecord(Base):
    """One assessment as it was made: the input, the knowledge version and the result."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_patient", "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    as_of: Mapped[dt.date]
    knowledge_version: Mapped[str] = mapped_column(String(40))
    triage: Mapped[str] = mapped_column(String(40))
    suspicion: Mapped[str] = mapped_column(String(40))
    case_data: Mapped[dict[str, object]] = mapped_column(JSON)
    result: Mapped[dict[str, object]] = mapped_column(JSON)


class AuditEvent(Base):
    """Who did what to which record, and when. Holds ids only, never clinical content."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id"),
        # A user's recent events of one kind (break-the-glass requests per day).
        Index("ix_audit_actor_action", "actor_id", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(120))
    # Who (a user id, when known) and the team of the record, so team administrators see theirs.
    actor_id: Mapped[int | None]
    team_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    detail: Mapped[str | None] = mapped_column(Text)


class BreakGlass(Base):
    """Emergency read access ("break the glass") of one user to one patient outside their teams.

    Kept for good: the reason is what the patient's team administrators review. ``team_id`` is
    the patient's team when the glass was broken (the team that sees the event).
    """

    __tablename__ = "break_glass"
    __table_args__ = (
        Index("ix_break_glass_user", "user_id", "patient_id", "expires_at"),
        Index("ix_break_glass_team", "team_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    category: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class CdsFeedback(Base):
    """What a clinician did with a CDS Hooks card: accepted, or overridden with a reason."""

    __tablename__ = "cds_feedback"
    __table_args__ = (Index("ix_cds_feedback_card", "service_id", "card_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[dt.datetime]
    service_id: Mapped[str] = mapped_column(String(80))
    card_uuid: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    outcome_at: Mapped[dt.datetime | None]
    accepted_suggestions: Mapped[list[str]] = mapped_column(JSON)
    override_code: Mapped[str | None] = mapped_column(String(120))
    override_comment: Mapped[str | None] = mapped_column(Text)
    issuer: Mapped[str | None] = mapped_column(String(200))


class CdsTokenUse(Base):
    """JWT ids (jti) already seen, kept until the token expires: replay memory for all workers."""

    __tablename__ = "cds_token_uses"
    __table_args__ = (Index("ix_cds_token_uses_expires", "expires_at"),)

    issuer: Mapped[str] = mapped_column(String(200), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[dt.datetime]


class LoginThrottle(Base):
    """Failed sign-ins per client address in the current window (throttling, not lockout)."""

    __tablename__ = "login_throttle"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[dt.datetime]
    failures: Mapped[int] = mapped_column(Integer, default=0)


class ScreeningRun(Base):
    """A cohort screening saved for one care team: its settings, its size, its summary counts."""

    __tablename__ = "screening_runs"
    __table_args__ = (Index("ix_screening_runs_team", "team_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The input's file or folder name only (never a full path), and its layout.
    source: Mapped[str] = mapped_column(String(200))
    input_format: Mapped[str] = mapped_column(String(20))
    engine: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[dt.date]
    knowledge_version: Mapped[str] = mapped_column(String(40))
    settings: Mapped[dict[str, object]] = mapped_column(JSON)
    episodes: Mapped[int]
    # Counts by worklist group ({"emergency": 3, ...}), for the list of runs.
    groups: Mapped[dict[str, int]] = mapped_column(JSON)


class ScreeningRow(Base):
    """One episode of a saved run, as ranked, with the case data that opens its full assessment."""

    __tablename__ = "screening_rows"
    __table_args__ = (Index("ix_screening_rows_run", "run_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id", ondelete="CASCADE"))
    # The order of the worklist (1 = first); ``rank`` is empty for "screen not done" rows.
    position: Mapped[int]
    rank: Mapped[int | None]
    worklist_group: Mapped[str] = mapped_column(String(40))
    episode_id: Mapped[str] = mapped_column(String(200))
    triage: Mapped[str] = mapped_column(String(40))
    suspicion: Mapped[str] = mapped_column(String(40))
    months_since_surgery: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[str | None] = mapped_column(Text)
    open_questions: Mapped[str | None] = mapped_column(Text)
    next_follow_up: Mapped[str | None] = mapped_column(Text)
    # Fact ids of cells not used because they contradict the timeline (decision 0017), ";"-joined.
    set_aside: Mapped[str | None] = mapped_column(Text)
    case_data: Mapped[dict[str, object]] = mapped_column(JSON)
