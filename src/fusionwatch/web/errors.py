"""The one place where errors become responses: JSON under /api, pages elsewhere.

Bad input is a 422 naming each field, a missing record a 404, and anything unexpected a 500 that
shows no data; the log gets the exception type only, never the request's content.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from fusionwatch.core.errors import CaseError
from fusionwatch.web.pages import page
from fusionwatch.web.security import Forbidden, NotSignedIn

log = logging.getLogger("fusionwatch.web")


class BadBody(ValueError):
    """A request body that is not even JSON."""


def install(app: FastAPI) -> None:
    app.add_exception_handler(CaseError, _case_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(BadBody, _bad_body)
    app.add_exception_handler(LookupError, _not_found)
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


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
            "message": str(e["msg"]),
        }
        for e in exc.errors()
    ]
    return _problems(422, "The request was not accepted", problems)


async def _bad_body(request: Request, exc: Any) -> Response:
    return _problems(422, "The request was not accepted", [{"field": "(body)", "message": str(exc)}])


async def _not_found(request: Request, exc: Any) -> Response:
    what = str(exc.args[0]) if exc.args else "record"
    if _api(request):
        return _problems(404, f"No such {what}", [])
    return page(request, "error.html", {"message": f"There is no such {what}."}, 404)


async def _not_signed_in(request: Request, exc: Any) -> Response:
    if _api(request):
        return _problems(401, "Sign in first", [])
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


async def _forbidden(request: Request, exc: Any) -> Response:
    if _api(request):
        headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"title": exc.reason, "problems": []}, exc.status, headers=headers)
    return page(request, "error.html", {"message": exc.reason}, exc.status)


async def _http_error(request: Request, exc: Any) -> Response:
    message = "That page does not exist." if exc.status_code == 404 else str(exc.detail)
    if _api(request):
        return _problems(exc.status_code, message, [])
    return page(request, "error.html", {"message": message}, exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    if _api(request):
        return _problems(500, "Something went wrong on our side", [])
    message = "Something went wrong on our side. Nothing you entered was stored."
    return page(request, "error.html", {"message": message}, 500)
