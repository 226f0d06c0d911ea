"""Care teams and their members: who may reach which patients, and in which role."""

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fusionwatch.store.access import Role
from fusionwatch.store.accounts import AccountError
from fusionwatch.store.tables import Membership, Team, User

DEFAULT_TEAM = "default"


def add_team(db: Session, name: str, now: dt.datetime) -> Team:
    clean = name.strip()
    if not clean or len(clean) > 80:
        raise AccountError("team: must be 1 to 80 characters")
    if team_named(db, clean) is not None:
        raise AccountError(f"team: '{clean}' already exists")
    team = Team(name=clean, created_at=now)
    db.add(team)
    db.flush()
    return team


def team_named(db: Session, name: str) -> Team | None:
    return db.scalar(select(Team).where(Team.name == name.strip()))


def all_teams(db: Session) -> Sequence[Team]:
    return db.scalars(select(Team).order_by(Team.name)).all()


def set_member(db: Session, team_name: str, username: str, role: Role) -> None:
    """Add a user to a team, or change their role there."""
    team, user = _team(db, team_name), _user(db, username)
    found = db.get(Membership, (user.id, team.id))
    if found is None:
        db.add(Membership(user_id=user.id, team_id=team.id, role=role.value))
    else:
        found.role = role.value


def remove_member(db: Session, team_name: str, username: str) -> None:
    team, user = _team(db, team_name), _user(db, username)
    db.execute(
        delete(Membership).where(Membership.team_id == team.id, Membership.user_id == user.id)
    )


def members(db: Session, team_id: int) -> Sequence[tuple[User, str]]:
    rows = db.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id)
        .order_by(User.username)
    ).all()
    return [(u, r) for u, r in rows]


def memberships_of(db: Session, user_id: int) -> Sequence[tuple[Team, str]]:
    rows = db.execute(
        select(Team, Membership.role)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user_id)
        .order_by(Team.name)
    ).all()
    return [(t, r) for t, r in rows]


def _team(db: Session, name: str) -> Team:
    team = team_named(db, name)
    if team is None:
        raise AccountError(f"team: no team named '{name}'")
    return team


def _user(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise AccountError(f"user: no account named '{username}'")
    return user
