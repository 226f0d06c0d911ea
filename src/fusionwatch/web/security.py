"""Sessions, CSRF tokens and bearer tokens: who is asking, and may they.

CSRF: every form carries a token that must match a per-browser cookie (double submit; the cookie
is SameSite=Strict and HttpOnly), and signed-in forms must also carry their session's own token.
"""

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fusionwatch.store import accounts, glass
from fusionwatch.store.access import Scope
from fusionwatch.store.accounts import Principal
from fusionwatch.web.context import AppContext, context

SESSION_COOKIE = "fw_session"
CSRF_COOKIE = "fw_csrf"
CSRF_FIELD = "csrf_token"
bearer = HTTPBearer(auto_error=False, description="A token from `fusionwatch tokens create`.")


class NotSignedInError(Exception):
    """The page needs a signed-in clinician; the browser is sent to the login page."""


@dataclass(frozen=True, slots=True)
class Denial:
    """A refusal to audit: who asked for which record (``web/access.py`` records it)."""

    who: Principal | None
    kind: str
    object_id: object


class ForbiddenError(Exception):
    def __init__(self, reason: str, status: int = 403, denial: Denial | None = None) -> None:
        self.reason, self.status, self.denial = reason, status, denial
        super().__init__(reason)


def secure(request: Request, ctx: AppContext) -> bool:
    if ctx.settings.secure_cookies is not None:
        return ctx.settings.secure_cookies
    return request.url.scheme == "https"


def csrf_token(request: Request) -> str:
    """This browser's token, created on first use and set as a cookie by the middleware."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def set_csrf_cookie(request: Request, response: Response, ctx: AppContext) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token is not None:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure(request, ctx)
        )


async def check_csrf(request: Request) -> None:
    """Dependency for every form POST: refuses a request whose token does not match."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD, ""))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not cookie or not secrets.compare_digest(sent, cookie):
        raise ForbiddenError(
            "The form has expired or did not come from this site. Please try again."
        )


def signed_in(request: Request, ctx: Annotated[AppContext, Depends(context)]) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedInError
    with ctx.db.session() as db:
        found = accounts.session_for(db, token, ctx.clock(), ctx.session_idle)
        roles = accounts.roles_of(db, found[1].id) if found else {}
        # Emergency accesses that still last: every page shows them in a banner.
        lasting = glass.active_for(db, found[1].id, ctx.clock()) if found else []
    if found is None:
        raise NotSignedInError
    session, user = found
    request.state.session_csrf = session.csrf_token
    request.state.glass = lasting
    return Principal(user.id, user.username, frozenset(Scope), "web", roles)


def optional_user(request: Request, ctx: AppContext) -> Principal | None:
    """The signed-in clinician if there is one (for pages such as errors that need no sign-in)."""
    try:
        return signed_in(request, ctx)
    except NotSignedInError:
        return None


async def signed_in_form(
    request: Request, user: Annotated[Principal, Depends(signed_in)]
) -> Principal:
    """A signed-in form POST: both the browser token and the session's token must match."""
    await check_csrf(request)
    form = await request.form()
    sent = str(form.get("session_csrf", ""))
    if not secrets.compare_digest(sent, request.state.session_csrf):
        raise ForbiddenError(
            "The form has expired or did not come from this site. Please try again."
        )
    return user


def api_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ctx: Annotated[AppContext, Depends(context)],
) -> Principal:
    if credentials is None:
        raise ForbiddenError("a bearer token is required", status=401)
    with ctx.db.session() as db:
        principal = accounts.token_principal(db, credentials.credentials, ctx.clock())
    if principal is None:
        raise ForbiddenError("the token is unknown, revoked or expired", status=401)
    return principal


def needs(scope: Scope) -> object:
    def check(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        if scope not in principal.scopes:
            raise ForbiddenError(f"this token was not issued with the '{scope}' scope")
        return principal

    return Depends(check)
