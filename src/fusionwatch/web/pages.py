"""Renders a template with what every page needs (tokens, reader, names) and sets the cookies."""

from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from fusionwatch.web.context import context
from fusionwatch.web.security import csrf_token, set_csrf_cookie

# PDFs resolve their stylesheet from the package folder, never over HTTP.
STATIC_ROOT = str(resources.files("fusionwatch.web") / "static") + "/"


def page(request: Request, name: str, data: dict[str, Any], status: int = 200) -> HTMLResponse:
    ctx = context(request)
    values = {
        "csrf": csrf_token(request),
        "session_csrf": getattr(request.state, "session_csrf", None),
        "knowledge_version": ctx.kb.data.manifest.version,
        **data,
    }
    response = ctx.templates.TemplateResponse(request, name, values, status_code=status)
    set_csrf_cookie(request, response, ctx)
    return response
