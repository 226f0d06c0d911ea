"""Clinician accounts, browser sessions and API tokens, with throttled logins.

Secrets (passwords, cookie values, bearer tokens) are never stored: passwords as argon2 hashes,
session and API tokens as SHA-256 digests of 256-bit random values.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fusionwatch.store.access import MIN_PASSWORD, Scope
from fusionwatch.store.tables import ApiToken, LoginSession, User

HASHER = PasswordHasher()
# Verifying against this keeps the time of an unknown-user login close to a known one.
_DUMMY_HASH = HASHER.hash("fusionwatch-timing-equaliser")


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user, through a browser session or an API token with scopes."""

    user_id: int
    username: str
    scopes: frozenset[Scope]
    via: str

    @property
    def actor(self) -> str:
        return f"{self.username} ({self.via})"


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    max_failures: int
    lockout: dt.timedelta


class AccountError(ValueError):
    """An account request that cannot be done (user exists, password too short…)."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(db: Session, username: str, password: str, now: dt.datetime) -> User:
    name = username.strip()
    if not name or len(name) > 80:
        raise AccountError("username: must be 1 to 80 characters")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: must be at least {MIN_PASSWORD} characters")
    if db.scalar(select(User).where(User.username == name)) is not None:
        raise AccountError(f"username: '{name}' already exists")
    user = User(username=name, password_hash=HASHER.hash(password), created_at=now)
    db.add(user)
    db.flush()
    return user


def login(
    db: Session, username: str, password: str, now: dt.datetime, policy: LoginPolicy
) -> tuple[LoginOutcome, User | None]:
    user = db.scalar(select(User).where(User.username == username.strip(), User.active))
    if user is None:
        _verify(_DUMMY_HASH, password)
        return LoginOutcome.BAD_CREDENTIALS, None
    if user.locked_until is not None and user.locked_until > now:
        return LoginOutcome.LOCKED, user
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + policy.lockout
            user.failed_logins = 0
        return LoginOutcome.BAD_CREDENTIALS, user
    user.failed_logins, user.locked_until = 0, None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return LoginOutcome.OK, user


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def open_session(db: Session, user: User, now: dt.datetime, lifetime: dt.timedelta) -> str:
    """Start a browser session; returns the cookie value (shown once, stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    db.add(
        LoginSession(
            token_hash=digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def session_for(db: Session, token: str, now: dt.datetime) -> tuple[LoginSession, User] | None:
    row = db.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == digest(token), User.active)
    ).first()
    if row is None or row[0].expires_at <= now:
        return None
    return row[0], row[1]


def close_session(db: Session, token: str) -> None:
    db.execute(delete(LoginSession).where(LoginSession.token_hash == digest(token)))


def create_token(
    db: Session,
    *,
    username: str,
    name: str,
    scopes: frozenset[Scope],
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> str:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"user: no account named '{username}'")
    if not scopes:
        raise AccountError("scope: give at least one of read, write")
    token = "fw_" + secrets.token_urlsafe(32)
    db.add(
        ApiToken(
            token_hash=digest(token),
            user_id=user.id,
            name=name,
            scopes=" ".join(sorted(scopes)),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


def token_principal(db: Session, token: str, now: dt.datetime) -> Principal | None:
    row = db.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(token), User.active, ApiToken.revoked.is_(False))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.expires_at is not None and api_token.expires_at <= now:
        return None
    scopes = frozenset(Scope(s) for s in api_token.scopes.split())
    return Principal(user.id, user.username, scopes, f"token {api_token.id}")
