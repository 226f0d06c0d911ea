"""Renders a template with what every page needs (tokens, reader, names) and sets the cookies."""

from collections.abc import Mapping
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from fusionwatch import locale
from fusionwatch.knowledge.loader import language_names
from fusionwatch.web import language
from fusionwatch.web.context import context
from fusionwatch.web.security import csrf_token, set_csrf_cookie

# PDFs resolve their stylesheet from the package folder, never over HTTP.
STATIC_ROOT = str(resources.files("fusionwatch.web") / "static") + "/"


offered = locale.offered


def language_of(request: Request, chosen: str | None = None) -> str:
    """The page's language: ``chosen`` (a form's lang field), then ?lang=, then Accept-Language."""
    return language.choose(
        chosen,
        request.query_params.get(language.FIELD),
        request.headers.get("accept-language"),
        offered(),
    )


def page(
    request: Request,
    name: str,
    data: dict[str, Any],
    status: int = 200,
    *,
    lang: str | None = None,
    here: tuple[str, Mapping[str, str]] | None = None,
) -> HTMLResponse:
    """``here`` is the address the language switch keeps (a step with its answers so far)."""
    ctx = context(request)
    lang = lang or language_of(request)
    path, params = here or (request.url.path, dict(request.query_params))
    names = language_names()
    values = {
        "csrf": csrf_token(request),
        "session_csrf": getattr(request.state, "session_csrf", None),
        "glass": getattr(request.state, "glass", ()),
        "knowledge_version": ctx.kb.data.manifest.version,
        "lang": lang,
        "languages": {code: names[code] for code in offered()},
        "switch": language.switch_links(path, params, offered()),
        **data,
    }
    with locale.using(lang):
        response = ctx.templates.TemplateResponse(request, name, values, status_code=status)
    set_csrf_cookie(request, response, ctx)
    return response
