"""The team administration page: members and roles, accounts, sessions and API tokens.

Only for the team's administrators; to anyone else (another team's administrator included) the
page and its forms do not exist (404, audited as a refusal). Every change is a CSRF-protected
form that is audited and then redirects back to the page (Post/Redirect/Get), which says what
was done. The rules of who may do what live in ``store/administration.py``.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fusionwatch.core.errors import NotFoundError
from fusionwatch.store import administration, glass
from fusionwatch.store.access import Role
from fusionwatch.store.accounts import AccountError, Principal
from fusionwatch.store.tables import User
from fusionwatch.web import access
from fusionwatch.web.access import MAX_ID
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.pages import page
from fusionwatch.web.security import Denial, signed_in, signed_in_form

router = APIRouter(include_in_schema=False)
Ctx = Annotated[AppContext, Depends(context)]
Reader = Annotated[Principal, Depends(signed_in)]
Admin = Annotated[Principal, Depends(signed_in_form)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Action = Literal["role", "remove", "disable", "enable", "end_sessions"]
DONE = {
    "added": "The member was added.",
    "role": "The role was changed.",
    "remove": "The member was removed from the team.",
    "disable": "The account was disabled and its sessions ended.",
    "enable": "The account was enabled.",
    "end_sessions": "The member's sessions were ended: they must sign in again.",
    "revoked": "The token was revoked.",
}
ROLES = {
    Role.CLINICIAN: "Clinician (read and write)",
    Role.READ_ONLY: "Read only",
    Role.ADMINISTRATOR: "Administrator",
}


def _administered(ctx: Ctx, user: Reader, team_id: Id) -> int:
    """The team of the path, when the user administers it; an audited 404 otherwise.

    A dependency, so that it runs before the form's fields are validated: to anyone else the
    forms answer 404, never a 422 about a missing field.
    """
    with ctx.db.session() as db:
        _team(ctx, db, user, team_id)
    return team_id


TeamId = Annotated[int, Depends(_administered)]


@router.get("/admin")
def first_team(user: Reader) -> Response:
    """The nav's link: the page of the (first) team the user administers."""
    if not user.admin_teams:
        raise NotFoundError("page")
    return RedirectResponse(f"/teams/{min(user.admin_teams)}/admin", status_code=303)


@router.get("/teams/{team_id}/admin", response_class=HTMLResponse)
def admin_page(
    request: Request,
    ctx: Ctx,
    user: Reader,
    team_id: TeamId,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    return _page(request, ctx, user, team_id, message=DONE.get(done or ""))


@router.post("/teams/{team_id}/admin/members")
def add_member(
    request: Request,
    ctx: Ctx,
    user: Admin,
    team_id: TeamId,
    *,
    username: Annotated[str, Form(max_length=80)],
    role: Annotated[Role, Form()],
) -> Response:
    try:
        with ctx.db.session() as db:
            added = administration.add_member(db, team_id, username, role)
            ctx.audit(db, user, "admin_add_member", ("user", added.id), team_id=team_id)
    except AccountError as err:  # nothing was changed: the unit of work rolled back
        return _page(request, ctx, user, team_id, problem=str(err), draft=username)
    return _back(team_id, "added")


@router.post("/teams/{team_id}/admin/members/{user_id}")
def change_member(
    request: Request,
    ctx: Ctx,
    user: Admin,
    team_id: TeamId,
    *,
    user_id: Id,
    action: Annotated[Action, Form()],
    role: Annotated[Role | None, Form()] = None,
) -> Response:
    try:
        with ctx.db.session() as db:
            changed = _apply(db, user, team_id, user_id, action=action, role=role)
            ctx.audit(db, user, f"admin_{action}", ("user", changed.id), team_id=team_id)
    except AccountError as err:  # nothing was changed: the unit of work rolled back
        return _page(request, ctx, user, team_id, problem=str(err))
    if user_id == user.user_id and action == "role" and role is not Role.ADMINISTRATOR:
        return RedirectResponse("/patients", status_code=303)  # no longer administers it
    return _back(team_id, action)


@router.post("/teams/{team_id}/admin/tokens/{token_id}/revoke")
def revoke_token(ctx: Ctx, user: Admin, team_id: TeamId, token_id: Id) -> Response:
    with ctx.db.session() as db:
        administration.revoke(db, team_id, token_id)
        ctx.audit(db, user, "admin_revoke_token", ("api_token", token_id), team_id=team_id)
    return _back(team_id, "revoked")


def _apply(
    db: Session, user: Principal, team_id: int, user_id: int, *, action: Action, role: Role | None
) -> User:
    if action == "role":
        if role is None:
            raise AccountError("Choose a role.")
        return administration.set_role(db, team_id, user_id, role)
    if action == "remove":
        return administration.remove(db, user, team_id, user_id)
    if action == "disable":
        return administration.disable(db, user, team_id, user_id)
    if action == "enable":
        return administration.enable(db, user, team_id, user_id)
    return administration.end_sessions(db, user, team_id, user_id)


def _team(ctx: AppContext, db: Session, user: Principal, team_id: int) -> str:
    """The team's name when the user administers it; otherwise an audited 404."""
    try:
        return administration.team(db, user, team_id).name
    except NotFoundError:
        raise access.RefusedError(Denial(user, "team_admin", team_id)) from None


def _page(
    request: Request,
    ctx: AppContext,
    user: Principal,
    team_id: int,
    *,
    message: str | None = None,
    problem: str | None = None,
    draft: str = "",
) -> HTMLResponse:
    now = ctx.clock()
    with ctx.db.session() as db:
        name = _team(ctx, db, user, team_id)
        data = {
            "user": user,
            "team": {"id": team_id, "name": name},
            "others": _other_teams(db, user, team_id),
            "members": administration.members(db, user, team_id, now),
            "api_tokens": administration.tokens(db, team_id, now),
            "glass_events": glass.of_teams(db, [team_id], now),
            "categories": glass.CATEGORIES,
            "roles": ROLES,
            "message": message,
            "problem": problem,
            "draft": draft,
        }
        ctx.audit(db, user, "view", ("team_admin", team_id), team_id=team_id)
    return page(request, "admin.html", data, status=422 if problem else 200)


def _other_teams(db: Session, user: Principal, team_id: int) -> list[tuple[int, str]]:
    found = []
    for other in sorted(user.admin_teams - {team_id}):
        found.append((other, administration.team(db, user, other).name))
    return found


def _back(team_id: int, done: str) -> Response:
    return RedirectResponse(f"/teams/{team_id}/admin?done={done}", status_code=303)
