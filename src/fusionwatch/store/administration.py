"""What a team's administrator may do to the team's members and their tokens, and doing it.

A team administrator acts on their own team only: a user who is not a member, or a token whose
owner is not, is "not found" exactly like one that does not exist. Accounts are shared between
teams, so the rules keep one team from harming another and a team from losing its last
administrator:

- protective actions (disable an account, end its sessions, revoke a token) are open for any
  member of the team: a compromised account must be stoppable by every team it can reach;
- enabling an account again is for an administrator of every team the user is in (another
  team's administrator may have disabled it for a reason);
- no change may leave the team without an administrator, and an administrator does not disable,
  remove or sign out themselves here (the command line can).
"""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fusionwatch.core.errors import NotFoundError
from fusionwatch.store.access import Role
from fusionwatch.store.accounts import AccountError, Principal
from fusionwatch.store.tables import ApiToken, LoginSession, Membership, Team, User


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    username: str
    role: Role
    active: bool
    locked: bool
    other_teams: int
    may_enable: bool


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    owner: str
    name: str
    scopes: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    status: str


def team(db: Session, who: Principal, team_id: int) -> Team:
    """The team, when ``who`` administers it; otherwise not found."""
    found = db.get(Team, team_id) if team_id in who.admin_teams else None
    if found is None:
        raise NotFoundError("team")
    return found


def members(db: Session, who: Principal, team_id: int, now: dt.datetime) -> list[Member]:
    rows = db.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id)
        .order_by(User.username)
    ).all()
    return [
        Member(
            user_id=u.id,
            username=u.username,
            role=Role(r),
            active=u.active,
            locked=u.locked_until is not None and u.locked_until > now,
            other_teams=len(_teams_of(db, u.id) - {team_id}),
            may_enable=_teams_of(db, u.id) <= who.admin_teams,
        )
        for u, r in rows
    ]


def tokens(db: Session, team_id: int, now: dt.datetime) -> list[TokenRow]:
    """The API tokens of the team's members, newest first."""
    rows = db.execute(
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id)
        .order_by(ApiToken.id.desc())
    ).all()
    return [
        TokenRow(t.id, u, t.name, t.scopes, t.created_at, t.expires_at, _status(t, now))
        for t, u in rows
    ]


def add_member(db: Session, team_id: int, username: str, role: Role) -> User:
    user = db.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise AccountError("There is no account with that username.")
    if db.get(Membership, (user.id, team_id)) is not None:
        raise AccountError(f"{user.username} is already a member; change the role instead.")
    db.add(Membership(user_id=user.id, team_id=team_id, role=role.value))
    return user


def member(db: Session, team_id: int, user_id: int) -> tuple[User, Membership]:
    """A member of the team; anyone else is not found."""
    found = db.get(Membership, (user_id, team_id))
    user = db.get(User, user_id) if found is not None else None
    if found is None or user is None:
        raise NotFoundError("member")
    return user, found


def set_role(db: Session, team_id: int, user_id: int, role: Role) -> User:
    user, membership = member(db, team_id, user_id)
    if role is not Role.ADMINISTRATOR:
        _keep_an_administrator(db, team_id, membership)
    membership.role = role.value
    return user


def remove(db: Session, who: Principal, team_id: int, user_id: int) -> User:
    user, membership = member(db, team_id, user_id)
    _not_self(who, user, "remove yourself from the team")
    _keep_an_administrator(db, team_id, membership)
    db.delete(membership)
    return user


def disable(db: Session, who: Principal, team_id: int, user_id: int) -> User:
    user, _ = member(db, team_id, user_id)
    _not_self(who, user, "disable your own account")
    user.active = False
    end_sessions_of(db, user)
    return user


def enable(db: Session, who: Principal, team_id: int, user_id: int) -> User:
    user, _ = member(db, team_id, user_id)
    if not _teams_of(db, user.id) <= who.admin_teams:
        raise AccountError(
            f"{user.username} is also in teams you do not administer; an administrator of "
            "every one of them (or the command line) can enable the account again."
        )
    user.active = True
    return user


def end_sessions(db: Session, who: Principal, team_id: int, user_id: int) -> User:
    user, _ = member(db, team_id, user_id)
    _not_self(who, user, "end your own sessions here (sign out instead)")
    end_sessions_of(db, user)
    return user


def end_sessions_of(db: Session, user: User) -> None:
    db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def revoke(db: Session, team_id: int, token_id: int) -> ApiToken:
    """Revoke a token of one of the team's members; another token is not found."""
    token = db.get(ApiToken, token_id)
    if token is None or db.get(Membership, (token.user_id, team_id)) is None:
        raise NotFoundError("token")
    token.revoked = True
    return token


def _teams_of(db: Session, user_id: int) -> set[int]:
    return set(db.scalars(select(Membership.team_id).where(Membership.user_id == user_id)))


def _keep_an_administrator(db: Session, team_id: int, membership: Membership) -> None:
    if membership.role != Role.ADMINISTRATOR.value:
        return
    count = db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.team_id == team_id, Membership.role == Role.ADMINISTRATOR.value)
    )
    if (count or 0) <= 1:
        raise AccountError("A team needs at least one administrator: name another one first.")


def _not_self(who: Principal, user: User, what: str) -> None:
    if user.id == who.user_id:
        raise AccountError(f"You cannot {what} here.")


def _status(token: ApiToken, now: dt.datetime) -> str:
    if token.revoked:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"
