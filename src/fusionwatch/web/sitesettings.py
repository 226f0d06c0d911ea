"""The deployment's site choices, shown to signed-in users (HTML) and to API clients (JSON)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fusionwatch.settings import site_rows
from fusionwatch.store.access import Scope
from fusionwatch.store.accounts import Principal
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.pages import page
from fusionwatch.web.responses import SiteSettings, answers
from fusionwatch.web.security import needs, signed_in

router = APIRouter()
Ctx = Annotated[AppContext, Depends(context)]


def rows(ctx: AppContext) -> list[dict[str, str]]:
    policies = {p.policy.id: p.policy.title for p in ctx.kb.policies.values()}
    line = ctx.kb.data.messages["site.urgent_line"].patient
    return site_rows(ctx.settings, policies, ctx.kb.thresholds["motion.angular"], line)


@router.get("/settings", response_class=HTMLResponse, include_in_schema=False)
def settings_page(
    request: Request, ctx: Ctx, user: Annotated[Principal, Depends(signed_in)]
) -> HTMLResponse:
    return page(request, "settings.html", {"user": user, "rows": rows(ctx)})


@router.get(
    "/api/v1/settings",
    summary="The site choices every result uses",
    tags=["api"],
    responses=answers(SiteSettings, 401, 403),
)
def settings_json(ctx: Ctx, who: Annotated[Principal, needs(Scope.READ)]) -> dict[str, Any]:
    return {"site": {r["name"]: r for r in rows(ctx)}}
