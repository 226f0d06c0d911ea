"""The composition root: create_app(settings) wires storage, knowledge, templates and routes."""

import contextlib
import gc
import weakref
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from fusionwatch import __version__, locale
from fusionwatch.cdshooks import service as cdshooks
from fusionwatch.core.compiled import Knowledge
from fusionwatch.knowledge import load
from fusionwatch.report import html as report_html
from fusionwatch.settings import Settings
from fusionwatch.store.database import Database
from fusionwatch.web import (
    adminapi,
    administration,
    api,
    apidocs,
    errors,
    glass,
    presentation,
    screening,
    selfcheck,
    sitesettings,
    workspace,
)
from fusionwatch.web.context import AppContext, Clock, utc_now
from fusionwatch.web.headers import SecurityHeaders
from fusionwatch.web.limits import BoundedRequests
from fusionwatch.web.slowwork import PDF_RECYCLE_AFTER, SlowWork

HERE = resources.files("fusionwatch.web")


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # When the server stops: wait for the slow-work processes to exit, so that none is left
    # running and none of their semaphores is left to the resource tracker.
    ctx: AppContext = app.state.ctx
    for pool in (ctx.pdfs, ctx.hashing):
        pool.close(wait=True)


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    kb: Knowledge | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """Build the application; the database must already be migrated (see Database.migrate)."""
    app = FastAPI(
        title="fusionwatch",
        version=__version__,
        summary="Explained triage for suspected nonunion after spinal fusion.",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=_lifespan,
    )
    templates = Jinja2Templates(env=_jinja())
    kb = kb or load()
    if settings.stimulator_policy not in kb.policies:
        known = ", ".join(sorted(kb.policies))
        raise ValueError(f"FUSIONWATCH_STIMULATOR_POLICY must be one of: {known}")
    app.state.ctx = AppContext(
        settings=settings,
        db=db or Database(settings.database_url),
        kb=kb,
        templates=templates,
        clock=clock,
        pdfs=SlowWork(settings.max_concurrent_pdfs, "fw-pdf", recycle_after=PDF_RECYCLE_AFTER),
        hashing=SlowWork(settings.max_concurrent_password_checks, "fw-hash"),
    )
    # The pools' processes go when the app does (tests build many apps).
    weakref.finalize(app, app.state.ctx.pdfs.close)
    weakref.finalize(app, app.state.ctx.hashing.close)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.mount(apidocs.ASSETS, apidocs.assets(), name="api-docs-assets")
    app.include_router(apidocs.router)
    app.include_router(api.router)
    app.include_router(adminapi.router)
    app.include_router(selfcheck.router)
    app.include_router(workspace.router)
    app.include_router(screening.router)
    app.include_router(sitesettings.router)
    app.include_router(administration.router)
    app.include_router(glass.router)
    ctx = app.state.ctx
    app.include_router(cdshooks.router(settings, ctx.db, ctx.kb, clock))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    errors.install(app)
    app.add_middleware(errors.ContainErrors)
    app.add_middleware(
        BoundedRequests,
        max_body=settings.max_body_bytes,
        max_cds_body=settings.max_cds_body_bytes,
    )
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies is True)
    return app


def from_environment() -> FastAPI:
    """Factory for servers that start several worker processes (FUSIONWATCH_* settings)."""
    return settle(create_app(Settings()))


def settle(app: FastAPI) -> FastAPI:
    """Move the long-lived objects (knowledge, templates) out of the garbage collector's way.

    Without this, full collections walk the whole knowledge base and show up as tail latency.
    """
    gc.collect()
    gc.freeze()
    return app


def _jinja() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(HERE / "templates")), report_html.loader()]),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    locale.install(env)
    env.globals["app_version"] = __version__
    env.globals.update(presentation.template_names())
    return env


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the request schemas' nested ``$defs`` moved into
    ``components/schemas`` so that every ``$ref`` resolves."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        app.openapi_schema = _hoist(document, schemas)
    return app.openapi_schema


def _hoist(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_hoist(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    for name, schema in (node.pop("$defs", None) or {}).items():
        hoisted = _hoist(schema, schemas)
        if schemas.setdefault(name, hoisted) != hoisted:
            # Two different models of one name would silently share the first one's schema.
            raise ValueError(f"two different schemas are both named {name!r}")
    out = {k: _hoist(v, schemas) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        out["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
    return out
