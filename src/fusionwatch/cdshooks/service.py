"""The CDS Hooks endpoints: discovery, the patient-view service and card feedback."""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from fusionwatch.cdshooks.bearer import BearerError, ReplayGuard, verify
from fusionwatch.cdshooks.cards import cards
from fusionwatch.cdshooks.discovery import HOOK, REQUIRED_PREFETCH, SERVICE_ID, services
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.fhir.caseimport import Item, bundle_items, import_items
from fusionwatch.settings import Settings
from fusionwatch.store import records
from fusionwatch.store.database import Database
from fusionwatch.store.tables import CdsFeedback

Clock = Callable[[], dt.datetime]


class CdsHooksError(Exception):
    """An error answered as a FHIR OperationOutcome, with its HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def outcome(self) -> dict[str, Any]:
        issue = {"severity": "error", "code": self.code, "diagnostics": self.message}
        return {"resourceType": "OperationOutcome", "issue": [issue]}


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Context(Open):
    patientId: str = Field(min_length=1, max_length=64)  # noqa: N815  (the spec's name)
    userId: str | None = None  # noqa: N815


class HookRequest(Open):
    hook: str
    hookInstance: str = Field(min_length=1, max_length=64)  # noqa: N815
    context: Context
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = None  # noqa: N815


class OverrideReason(Open):
    reason: dict[str, Any] | None = None
    userComment: str | None = Field(None, max_length=2000)  # noqa: N815


class Accepted(Open):
    id: str


class FeedbackItem(Open):
    card: str = Field(min_length=1, max_length=64)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[Accepted] = []  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: dt.datetime | None = None  # noqa: N815


class Feedback(BaseModel):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


def router(settings: Settings, db: Database, kb: Knowledge, clock: Clock) -> APIRouter:
    """The endpoints, bound to this app's settings, store, knowledge and clock."""
    routes = APIRouter(tags=["CDS Hooks"])
    replay = ReplayGuard()

    def authorise(request: Request) -> str | None:
        if not settings.cds_hooks_require_jwt:
            return None
        base = settings.cds_hooks_base_url or str(request.base_url)
        audience = base.rstrip("/") + f"/cds-services/{SERVICE_ID}"
        try:
            claims = verify(
                request.headers.get("authorization"),
                audience=audience,
                issuers=settings.cds_hooks_issuers,
                now=clock(),
                replay=replay,
            )
        except BearerError as err:
            raise CdsHooksError(401, "login", str(err)) from err
        return str(claims["iss"])

    @routes.get("/cds-services")
    def discovery() -> dict[str, Any]:
        return services(kb)

    @routes.post("/cds-services/{service_id}")
    def call(service_id: str, body: HookRequest, request: Request) -> dict[str, Any]:
        _known(service_id)
        authorise(request)
        if body.hook != HOOK:
            raise CdsHooksError(400, "not-supported", f"this service answers {HOOK} only")
        missing = [k for k in REQUIRED_PREFETCH if not (body.prefetch or {}).get(k)]
        if missing:
            message = f"prefetch missing: {', '.join(missing)}; this service does not query FHIR"
            raise CdsHooksError(412, "required", message)
        imported = import_items(_items(body.prefetch or {}), kb, clock().date())
        result = assess(imported.case, kb, clock().date(), settings.site())
        base = settings.cds_hooks_base_url or str(request.base_url)
        workspace = base.rstrip("/") + f"/patients?fhir_patient={body.context.patientId}"
        unused = [f"{n.source}: {n.reason}" for n in imported.notes]
        found = cards(
            result, kb, body.context.patientId, body.hookInstance, workspace, unused=unused
        )
        return {"cards": found}

    @routes.post("/cds-services/{service_id}/feedback")
    def feedback(service_id: str, body: Feedback, request: Request) -> dict[str, Any]:
        _known(service_id)
        issuer = authorise(request)
        with db.session() as s:
            for item in body.feedback:
                records.add_feedback(s, _row(service_id, item, issuer, clock()))
        return {}

    return routes


def _known(service_id: str) -> None:
    if service_id != SERVICE_ID:
        raise CdsHooksError(404, "not-found", f"no CDS service {service_id!r}")


def _items(prefetch: dict[str, Any]) -> Iterator[Item]:
    """Every prefetched resource once: two searches (e.g. by code and by category) can overlap."""
    seen: set[tuple[Any, Any]] = set()
    for value in prefetch.values():
        if not isinstance(value, dict):
            continue
        for url, resource in bundle_items(value):
            key = (resource.get("resourceType"), resource.get("id"))
            if key[1] is None or key not in seen:
                seen.add(key)
                yield url, resource


def _row(service_id: str, item: FeedbackItem, issuer: str | None, now: dt.datetime) -> CdsFeedback:
    reason = item.overrideReason
    code = (reason.reason or {}).get("code") if reason else None
    when = item.outcomeTimestamp
    return CdsFeedback(
        received_at=now,
        service_id=service_id,
        card_uuid=item.card,
        outcome=item.outcome,
        outcome_at=when.astimezone(dt.UTC).replace(tzinfo=None) if when and when.tzinfo else when,
        accepted_suggestions=[a.id for a in item.acceptedSuggestions],
        override_code=str(code)[:120] if code else None,
        override_comment=reason.userComment if reason else None,
        issuer=issuer,
    )
