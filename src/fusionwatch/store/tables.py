"""The database tables. Assessments are written once and never updated."""

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime]
    failed_logins: Mapped[int] = mapped_column(default=0)
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
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


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
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    detail: Mapped[str | None] = mapped_column(Text)


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
