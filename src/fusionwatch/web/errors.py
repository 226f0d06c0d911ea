"""The one place where errors become responses: JSON under /api, pages elsewhere.

Bad input is a 422 naming each field, a missing record (``NotFoundError``, the project's own
exception; never the built-in ``LookupError``) a 404, and anything unexpected a 500 that
shows no data; the log gets the exception type only, never the request's content.
"""

import json
import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fusionwatch.cdshooks.service import CdsHooksError
from fusionwatch.core.errors import CaseError, NotFoundError
from fusionwatch.files.case import plain_message
from fusionwatch.locale import N_
from fusionwatch.web import access
from fusionwatch.web.pages import page
from fusionwatch.web.security import ForbiddenError, NotSignedInError, optional_user

log = logging.getLogger("fusionwatch.web")

NO_SUCH_PAGE = N_("There is no such page.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(CaseError, _case_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(NotSignedInError, _not_signed_in)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(CdsHooksError, _cds_hooks_error)


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _problems(status: int, title: str, problems: list[dict[str, str]]) -> JSONResponse:
    return JSONResponse({"title": title, "problems": problems}, status_code=status)


async def _case_error(request: Request, exc: Any) -> Response:
    problems = [{"field": p.field, "message": p.message} for p in exc.problems]
    return _problems(422, "The case was not accepted", problems)


async def _validation_error(request: Request, exc: Any) -> Response:
    problems = [
        {
            "field": ".".join(str(part) for part in e["loc"] if part != "body") or "(body)",
            "message": plain_message(e),
        }
        for e in exc.errors()
    ]
    return _problems(422, "The request was not accepted", problems)


async def _cds_hooks_error(request: Request, exc: Any) -> Response:
    """CDS Hooks errors are FHIR OperationOutcomes; 401 says how to authenticate."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.outcome(), status_code=exc.status, headers=headers)


async def _audit_denial(request: Request, exc: Any) -> None:
    denial = getattr(exc, "denial", None)
    if denial is not None:
        await run_in_threadpool(access.record, request.app.state.ctx, denial)


async def _not_found(request: Request, exc: Any) -> Response:
    await _audit_denial(request, exc)
    what = exc.what
    if _api(request):
        return _problems(404, f"No such {what}", [])
    user = await run_in_threadpool(optional_user, request, request.app.state.ctx)
    # The same on every patient or assessment 404, whether the record exists elsewhere or not.
    offer_glass = what in {"patient", "assessment"} and user is not None and user.writable_teams
    # "page" is what a patient can meet (a mistyped address): its message has a translation.
    message = NO_SUCH_PAGE if what == "page" else f"There is no such {what}."
    data = {
        "message": message,
        "user": user,
        "no_such_page": NO_SUCH_PAGE,
        "offer_glass": offer_glass,
    }
    return page(request, "error.html", data, 404)


async def _not_signed_in(request: Request, exc: Any) -> Response:
    if _api(request):
        return _problems(401, "Sign in first", [])
    # Keep the query: an EHR link (?fhir_patient=…) must still work after signing in.
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


async def _forbidden(request: Request, exc: Any) -> Response:
    await _audit_denial(request, exc)
    if _api(request):
        headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"title": exc.reason, "problems": []}, exc.status, headers=headers)
    return page(request, "error.html", {"message": exc.reason}, exc.status)


async def _http_error(request: Request, exc: Any) -> Response:
    message = NO_SUCH_PAGE if exc.status_code == 404 else str(exc.detail)
    if request.url.path.startswith("/cds-services"):
        # A refusal while the body streams in (size, NUL) answers in CDS Hooks' own form.
        code = "too-long" if exc.status_code == 413 else "invalid"
        return await _cds_hooks_error(request, CdsHooksError(exc.status_code, code, message))
    if _api(request):
        return _problems(exc.status_code, message, [])
    data = {"message": message, "no_such_page": NO_SUCH_PAGE}
    return page(request, "error.html", data, exc.status_code)


class ContainErrors:
    """Turns an unexpected exception into a plain 500 and logs only its type and route.

    Starlette's own last-resort handler re-raises, and the server would then log the full
    traceback, whose messages can quote patient data; this middleware stops the exception here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return  # the client went away; there is no one to answer
        except Exception as exc:  # the last line of defence, by design
            log.error("unexpected %s on %s %s", type(exc).__name__, scope["method"], scope["path"])
            if not started:
                await _plain_500(scope, send)


async def _plain_500(scope: Scope, send: Send) -> None:
    if str(scope["path"]).startswith("/api/"):
        body = json.dumps({"title": "Something went wrong on our side", "problems": []}).encode()
        kind = b"application/json"
    else:
        body = FALLBACK_PAGE
        kind = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", kind)]})
    await send({"type": "http.response.body", "body": body})


# Built without templates (it must work when they do not), so it speaks both patient languages:
# a Spanish-reading patient may meet it in the middle of the self-check.
FALLBACK_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sorry · Lo sentimos</title>"
    "<link rel='stylesheet' href='/static/style.css'></head><body><main id='main'>"
    "<h1>Sorry</h1><p>Something went wrong on our side. Nothing you entered was stored."
    "</p><p><a href='/'>Back to the start</a></p>"
    "<div lang='es'><h2>Lo sentimos</h2><p>Algo falló de nuestro lado. No se guardó nada de lo"
    " que escribió.</p><p><a href='/?lang=es'>Volver al inicio</a></p></div>"
    "</main></body></html>"
).encode()
