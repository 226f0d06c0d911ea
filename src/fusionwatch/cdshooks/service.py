"""The CDS Hooks endpoints: discovery, the patient-view service and card feedback."""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from fusionwatch.cdshooks.bearer import BearerError, verify
from fusionwatch.cdshooks.cards import cards
from fusionwatch.cdshooks.discovery import HOOK, REQUIRED_PREFETCH, SERVICE_ID, services
from fusionwatch.cdshooks.replay import DatabaseReplay
from fusionwatch.cdshooks.schema import Cards, Discovery, Empty, answers
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.fhir.caseimport import Item, bundle_items, import_items
from fusionwatch.settings import Settings
from fusionwatch.store import records
from fusionwatch.store.database import Database
from fusionwatch.store.tables import CdsFeedback

Clock = Callable[[], dt.datetime]
M = TypeVar("M", bound=BaseModel)
# One service; another id is answered 404 by the handler (not 422), so the enum is documentation.
ServiceId = Annotated[str, Path(json_schema_extra={"enum": [SERVICE_ID]})]


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


class ConfigurationError(ValueError):
    """Settings that would make the service unsafe; the server refuses to start."""


def check_settings(settings: Settings) -> None:
    """JWT checking needs a configured base URL: the audience never comes from the Host header
    (a token minted for another deployment would otherwise be accepted)."""
    if (
        settings.cds_hooks_require_jwt
        and settings.cds_hooks_issuers
        and not settings.cds_hooks_base_url
    ):
        raise ConfigurationError(
            "CDS Hooks: FUSIONWATCH_CDS_HOOKS_BASE_URL must be set when issuers are configured "
            "and JWTs are checked (it is the audience every token must name)"
        )


def router(settings: Settings, db: Database, kb: Knowledge, clock: Clock) -> APIRouter:
    """The endpoints, bound to this app's settings, store, knowledge and clock."""
    check_settings(settings)
    routes = APIRouter(tags=["CDS Hooks"])
    replay = DatabaseReplay(db)

    def audit(action: str, outcome: str, actor: str, target: str | None = None) -> None:
        with db.session() as s:
            records.audit(
                s,
                actor=f"cds {actor}",
                action=action,
                target=("cds_hook", target),
                now=clock(),
                outcome=outcome,
            )

    def authorise(request: Request) -> str | None:
        if not settings.cds_hooks_require_jwt:
            return None
        if not settings.cds_hooks_base_url:
            audit("cds_call", "denied", "(unauthenticated)")
            raise CdsHooksError(401, "login", "no JWT issuer is configured on this service")
        audience = settings.cds_hooks_base_url.rstrip("/") + f"/cds-services/{SERVICE_ID}"
        try:
            claims = verify(
                request.headers.get("authorization"),
                audience=audience,
                issuers=settings.cds_hooks_issuers,
                now=clock(),
                replay=replay,
                max_lifetime=settings.cds_hooks_max_token_seconds,
            )
        except BearerError as err:
            audit("cds_call", "denied", "(unauthenticated)")
            raise CdsHooksError(401, "login", str(err)) from err
        return str(claims["iss"])

    @routes.get("/cds-services", responses=answers(Discovery))
    def discovery() -> dict[str, Any]:
        return services(kb)

    @routes.post(
        "/cds-services/{service_id}",
        responses=answers(Cards, 400, 401, 404, 412, 413, 422),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": HookRequest.model_json_schema()}},
            }
        },
    )
    async def call(service_id: ServiceId, request: Request) -> dict[str, Any]:
        _known(service_id)
        # The JWT is checked before the body is even read (bounded by the size limit). The
        # database (replay memory, audit) may wait for its write lock: never on the event loop.
        issuer = await run_in_threadpool(authorise, request)
        body = _parse(HookRequest, await request.body())
        actor = issuer or "(no JWT: local mode)"
        await run_in_threadpool(audit, "cds_call", "ok", actor, body.hookInstance[:40])
        return await run_in_threadpool(_answer, body, request)

    def _answer(body: HookRequest, request: Request) -> dict[str, Any]:
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

    @routes.post(
        "/cds-services/{service_id}/feedback",
        responses=answers(Empty, 400, 401, 404, 413, 422),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": Feedback.model_json_schema()}},
            }
        },
    )
    async def feedback(service_id: ServiceId, request: Request) -> dict[str, Any]:
        _known(service_id)
        issuer = await run_in_threadpool(authorise, request)
        body = _parse(Feedback, await request.body())
        await run_in_threadpool(store_feedback, service_id, body, issuer)
        return {}

    def store_feedback(service_id: str, body: Feedback, issuer: str | None) -> None:
        with db.session() as s:
            for item in body.feedback:
                records.add_feedback(s, _row(service_id, item, issuer, clock()))

    return routes


def _parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as err:
        where = "; ".join(
            ".".join(str(p) for p in e["loc"]) + ": " + str(e["msg"])
            for e in err.errors(include_url=False)[:10]
        )
        status = 400 if any(e["type"] == "json_invalid" for e in err.errors()) else 422
        raise CdsHooksError(status, "invalid", f"the request was not accepted ({where})") from err


def _known(service_id: str) -> None:
    if service_id != SERVICE_ID:
        raise CdsHooksError(404, "not-found", f"no CDS service {service_id!r}")


def _items(prefetch: dict[str, Any]) -> Iterator[Item]:
    """Every prefetched resource once: two searches (e.g. by code and by category) can overlap."""
    seen: set[tuple[str, str]] = set()
    for value in prefetch.values():
        if not isinstance(value, dict):
            continue
        for url, resource in bundle_items(value):
            kind, ident = resource.get("resourceType"), resource.get("id")
            # Only a well-formed id can match another: a list or an object is read (and noted
            # as invalid FHIR) without being compared.
            if not (isinstance(kind, str) and isinstance(ident, str)):
                yield url, resource
            elif (kind, ident) not in seen:
                seen.add((kind, ident))
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
