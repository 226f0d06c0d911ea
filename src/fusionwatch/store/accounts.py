"""Clinician accounts, browser sessions and API tokens, with throttled logins.

Secrets (passwords, cookie values, bearer tokens) are never stored: passwords as argon2 hashes,
session and API tokens as SHA-256 digests of 256-bit random values.
"""

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Table, and_, case, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from fusionwatch.store.access import MIN_PASSWORD, WRITERS, Role, Scope
from fusionwatch.store.passwords import hash_password, needs_rehash, verify_password
from fusionwatch.store.tables import ApiToken, LoginSession, LoginThrottle, Membership, User

# Verifying against this keeps the time of an unknown-user login close to a known one.
_DUMMY_HASH = hash_password("fusionwatch-timing-equaliser")


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user, through a browser session or an API token with scopes.

    ``roles`` maps each of the user's teams to their role there; a request reaches a patient
    only when the patient's team is one of them (minimum necessary).
    """

    user_id: int
    username: str
    scopes: frozenset[Scope]
    via: str
    roles: Mapping[int, Role] = field(default_factory=dict, hash=False, compare=False)

    @property
    def actor(self) -> str:
        return f"{self.username} ({self.via})"

    @property
    def teams(self) -> frozenset[int]:
        return frozenset(self.roles)

    def can_read(self, team_id: int) -> bool:
        return team_id in self.roles and Scope.READ in self.scopes

    def can_write(self, team_id: int) -> bool:
        return self.roles.get(team_id) in WRITERS and Scope.WRITE in self.scopes

    @property
    def writable_teams(self) -> list[int]:
        return sorted(t for t, r in self.roles.items() if r in WRITERS)

    @property
    def admin_teams(self) -> frozenset[int]:
        return frozenset(t for t, r in self.roles.items() if r is Role.ADMINISTRATOR)


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    max_failures: int
    lockout: dt.timedelta
    address_max_failures: int = 50
    address_window: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class LoginTarget:
    """What a sign-in checks: the stored hash, and whether this attempt may be checked at all."""

    user_id: int | None
    password_hash: str
    allowed: bool


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
    user = User(username=name, password_hash=hash_password(password), created_at=now)
    db.add(user)
    db.flush()
    return user


def roles_of(db: Session, user_id: int) -> dict[int, Role]:
    rows = db.execute(
        select(Membership.team_id, Membership.role).where(Membership.user_id == user_id)
    )
    return {team: Role(role) for team, role in rows}


def begin_login(
    db: Session, username: str, address: str, now: dt.datetime, policy: LoginPolicy
) -> LoginTarget:
    """Reserve one password check for this account and this address, atomically.

    The failure counters are raised *before* the (slow) check, in one UPDATE each, so a burst of
    concurrent guesses gets at most ``max_failures`` checks; a success gives the count back.
    Unknown, disabled, locked and throttled accounts are checked against a dummy hash, so every
    answer costs the same time.
    """
    address_ok = _reserve_address(db, address[:64], now, policy)
    user = db.scalar(select(User).where(User.username == username.strip(), User.active))
    if user is None:
        return LoginTarget(None, _DUMMY_HASH, allowed=False)
    if not address_ok:
        return LoginTarget(user.id, _DUMMY_HASH, allowed=False)
    expired = and_(User.locked_until.is_not(None), User.locked_until <= now)
    reserved = db.execute(
        update(User)
        .where(User.id == user.id, or_(User.failed_logins < policy.max_failures, expired))
        .values(
            failed_logins=case((expired, 1), else_=User.failed_logins + 1),
            locked_until=case((expired, None), else_=User.locked_until),
        )
        .execution_options(synchronize_session=False)
    )
    if reserved.rowcount != 1:  # type: ignore[attr-defined]
        return LoginTarget(user.id, _DUMMY_HASH, allowed=False)
    count = db.scalar(select(User.failed_logins).where(User.id == user.id)) or 0
    if count >= policy.max_failures:
        db.execute(update(User).where(User.id == user.id).values(locked_until=now + policy.lockout))
    return LoginTarget(user.id, user.password_hash, allowed=True)


def _reserve_address(db: Session, address: str, now: dt.datetime, policy: LoginPolicy) -> bool:
    table = LoginThrottle.__table__
    assert isinstance(table, Table)  # for the type checker
    start = now - policy.address_window
    if db.get(LoginThrottle, address) is None:
        dialect = db.get_bind().dialect.name
        if dialect in {"sqlite", "postgresql"}:
            module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
            db.execute(
                module.insert(table)
                .values(address=address, window_start=now, failures=0)
                .on_conflict_do_nothing()
            )
        else:  # pragma: no cover - other databases are not supported
            db.execute(insert(table).values(address=address, window_start=now, failures=0))
    stale = LoginThrottle.window_start <= start
    result = db.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.address == address,
            or_(LoginThrottle.failures < policy.address_max_failures, stale),
        )
        .values(
            failures=case((stale, 1), else_=LoginThrottle.failures + 1),
            window_start=case((stale, now), else_=LoginThrottle.window_start),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish_login(
    db: Session, target: LoginTarget, address: str, password: str, verified: bool
) -> tuple[LoginOutcome, User | None]:
    """Record the result of a reserved check: a success gives both counts back."""
    user = db.get(User, target.user_id) if target.user_id is not None else None
    if not (verified and target.allowed and user is not None and user.active):
        outcome = LoginOutcome.LOCKED if user is not None and not target.allowed else None
        return outcome or LoginOutcome.BAD_CREDENTIALS, user
    user.failed_logins, user.locked_until = 0, None
    db.execute(
        update(LoginThrottle)
        .where(LoginThrottle.address == address[:64], LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginOutcome.OK, user


def login(
    db: Session,
    username: str,
    password: str,
    now: dt.datetime,
    policy: LoginPolicy,
    *,
    address: str = "local",
) -> tuple[LoginOutcome, User | None]:
    """A whole sign-in in one transaction (for the command line and tests; the web app splits
    it so that the slow check runs outside any transaction)."""
    target = begin_login(db, username, address, now, policy)
    verified = verify_password(target.password_hash, password)
    return finish_login(db, target, address, password, verified)


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


def session_for(
    db: Session, token: str, now: dt.datetime, idle: dt.timedelta | None = None
) -> tuple[LoginSession, User] | None:
    """The live session of this cookie; one idle longer than ``idle`` has ended."""
    row = db.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == digest(token), User.active)
    ).first()
    if row is None or row[0].expires_at <= now:
        return None
    session = row[0]
    seen = session.last_seen_at or session.created_at
    if idle is not None and seen + idle <= now:
        db.delete(session)
        return None
    # Written at most once a minute, so reading pages does not turn into a write per request.
    if now - seen >= dt.timedelta(minutes=1):
        session.last_seen_at = now
    return session, row[1]


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
    return Principal(user.id, user.username, scopes, f"token {api_token.id}", roles_of(db, user.id))


def user_named(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise AccountError(f"user: no account named '{username}'")
    return user


def all_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


def set_active(db: Session, username: str, active: bool) -> None:
    """Disable (or enable) an account; disabling also ends its sessions."""
    user = user_named(db, username)
    user.active = active
    if not active:
        end_sessions(db, username)


def reset_password(db: Session, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: must be at least {MIN_PASSWORD} characters")
    user = user_named(db, username)
    user.password_hash = hash_password(password)
    end_sessions(db, username)


def unlock(db: Session, username: str) -> None:
    user = user_named(db, username)
    user.failed_logins, user.locked_until = 0, None


def end_sessions(db: Session, username: str) -> int:
    user = user_named(db, username)
    result = db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def all_tokens(db: Session) -> list[tuple[ApiToken, str]]:
    rows = db.execute(
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.id)
    )
    return [(t, u) for t, u in rows]


def revoke_token(db: Session, token_id: int) -> None:
    token = db.get(ApiToken, token_id)
    if token is None:
        raise AccountError(f"token: no token {token_id}")
    token.revoked = True
