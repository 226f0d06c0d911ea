"""The team administration page's JSON twin: members, tokens, audit and break-the-glass events.

Read only (changes are made on the page or with the command line). For administrators of the
team, with a read token of theirs; to anyone else the team does not exist (404, audited as a
refusal), exactly like the page. Token secrets are never shown: only their hashes are stored.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from fusionwatch.store import administration, glass, records
from fusionwatch.store.access import Scope
from fusionwatch.store.accounts import Principal
from fusionwatch.store.tables import Team
from fusionwatch.web import access
from fusionwatch.web.access import MAX_ID
from fusionwatch.web.api import audit_event
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.responses import AuditEventOut, BreakGlassOut, MemberOut, TokenOut, answers
from fusionwatch.web.security import Denial, needs

router = APIRouter(prefix="/api/v1/teams/{team_id}", tags=["administration"])
Ctx = Annotated[AppContext, Depends(context)]
Reader = Annotated[Principal, needs(Scope.READ)]
TeamPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A team id (64-bit).")]
Limit = Annotated[int, Query(ge=1, le=200, description="How many events, newest first.")]
ANSWERS = (401, 403, 404, 422)


def _administered(ctx: Ctx, who: Reader, team_id: TeamPath) -> int:
    """The team, when the token's user administers it; an audited 404 otherwise."""
    with ctx.db.session(read_only=True) as db:
        exists = db.get(Team, team_id) is not None
    if not exists or team_id not in who.admin_teams:
        raise access.RefusedError(Denial(who, "team_admin", team_id))
    return team_id


TeamId = Annotated[int, Depends(_administered)]


@router.get(
    "/members",
    summary="The team's members, their roles and account states (administrators)",
    responses=answers(list[MemberOut], *ANSWERS),
)
def members(ctx: Ctx, who: Reader, team_id: TeamId) -> list[dict[str, Any]]:
    with ctx.db.session() as db:
        found = administration.members(db, who, team_id, ctx.clock())
        ctx.audit(db, who, "view", ("team_members", team_id), team_id=team_id)
    return [
        {
            "user_id": m.user_id,
            "username": m.username,
            "role": m.role.value,
            "active": m.active,
            "locked": m.locked,
            "other_teams": m.other_teams,
        }
        for m in found
    ]


@router.get(
    "/tokens",
    summary="The API tokens of the team's members, never their secrets (administrators)",
    responses=answers(list[TokenOut], *ANSWERS),
)
def tokens(ctx: Ctx, who: Reader, team_id: TeamId) -> list[dict[str, Any]]:
    with ctx.db.session() as db:
        found = administration.tokens(db, team_id, ctx.clock())
        ctx.audit(db, who, "view", ("team_tokens", team_id), team_id=team_id)
    return [
        {
            "id": t.id,
            "owner": t.owner,
            "name": t.name,
            "scopes": t.scopes.split(),
            "created_at": t.created_at.isoformat(),
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "status": t.status,
        }
        for t in found
    ]


@router.get(
    "/audit",
    summary="The team's latest audit events, break-the-glass included (administrators)",
    responses=answers(list[AuditEventOut], *ANSWERS),
)
def audit(ctx: Ctx, who: Reader, team_id: TeamId, limit: Limit = 200) -> list[dict[str, Any]]:
    with ctx.db.session() as db:
        events = records.audit_trail(db, [team_id], limit)
        ctx.audit(db, who, "view", ("audit_log", team_id), team_id=team_id)
        return [audit_event(e) for e in events]


@router.get(
    "/break-glass",
    summary="Emergency accesses to the team's patients by other teams' clinicians",
    responses=answers(list[BreakGlassOut], *ANSWERS),
)
def break_glass(ctx: Ctx, who: Reader, team_id: TeamId) -> list[dict[str, Any]]:
    with ctx.db.session() as db:
        found = glass.of_teams(db, [team_id], ctx.clock())
        ctx.audit(db, who, "view", ("break_glass", team_id), team_id=team_id)
    return [
        {
            "id": g.id,
            "username": g.username,
            "patient_id": g.patient_id,
            "reference": g.reference,
            "category": g.category,
            "reason": g.reason,
            "created_at": g.created_at.isoformat(),
            "expires_at": g.expires_at.isoformat(),
            "active": g.active,
        }
        for g in found
    ]
