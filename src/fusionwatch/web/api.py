"""The JSON API under /api/v1: a stateless assessment, and patients and their assessments."""

import datetime as dt
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fusionwatch.core.case import Case
from fusionwatch.core.engine import assess
from fusionwatch.core.errors import NotFoundError
from fusionwatch.core.serialize import dump_json
from fusionwatch.files.case import parse_json
from fusionwatch.store import records
from fusionwatch.store.access import Scope
from fusionwatch.store.accounts import Principal
from fusionwatch.web import evaluations
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.security import needs

T = TypeVar("T")

router = APIRouter(prefix="/api/v1", tags=["api"])
Ctx = Annotated[AppContext, Depends(context)]
Reader = Annotated[Principal, needs(Scope.READ)]
Writer = Annotated[Principal, needs(Scope.WRITE)]
CASE_SCHEMA = Case.model_json_schema()
AsOf = Annotated[dt.date | None, Query(description="Assessment date (ISO); today when left out.")]


class NewPatient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=200)
    reference: str | None = Field(None, max_length=80)


class NewAssessment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: dict[str, Any] = Field(description="A case, as in `fusionwatch schema`.")
    as_of: dt.date | None = None


@router.post(
    "/assess",
    summary="Assess a case (stateless; nothing is stored)",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": CASE_SCHEMA}}}
    },
)
async def assess_case(request: Request, ctx: Ctx, as_of: AsOf = None) -> Response:
    # The hot path: bytes are validated and dumped by pydantic's core directly, without
    # FastAPI's generic encoder (it doubled the time per request).
    day = as_of or ctx.today
    case = parse_json(await request.body(), day)
    return Response(dump_json(assess(case, ctx.kb, day, ctx.site)), media_type="application/json")


@router.get("/patients", summary="List patients with their latest result")
def list_patients(ctx: Ctx, who: Reader) -> list[dict[str, Any]]:
    with ctx.db.session() as db:
        rows = records.patients(db)
        ctx.audit(db, who.actor, "view", ("patient_list", None))
        return [{**_patient(p), "latest": evaluations.summary(a) if a else None} for p, a in rows]


@router.post("/patients", status_code=201, summary="Record a patient")
def add_patient(ctx: Ctx, who: Writer, body: NewPatient) -> dict[str, Any]:
    with ctx.db.session() as db:
        patient = records.add_patient(
            db, body.display_name.strip(), body.reference, who.user_id, ctx.clock()
        )
        ctx.audit(db, who.actor, "create", ("patient", patient.id))
        return _patient(patient)


@router.get("/patients/{patient_id}", summary="A patient and their assessments")
def get_patient(ctx: Ctx, who: Reader, patient_id: int) -> dict[str, Any]:
    with ctx.db.session() as db:
        patient = _found(records.patient(db, patient_id), "patient")
        history = records.assessments_of(db, patient_id)
        ctx.audit(db, who.actor, "view", ("patient", patient_id))
        return {**_patient(patient), "assessments": [evaluations.summary(a) for a in history]}


@router.get("/patients/{patient_id}/assessments", summary="A patient's assessments")
def list_assessments(ctx: Ctx, who: Reader, patient_id: int) -> list[dict[str, Any]]:
    with ctx.db.session() as db:
        _found(records.patient(db, patient_id), "patient")
        ctx.audit(db, who.actor, "view", ("patient", patient_id))
        return [evaluations.summary(a) for a in records.assessments_of(db, patient_id)]


@router.post(
    "/patients/{patient_id}/assessments",
    status_code=201,
    summary="Assess a case for a patient and store the result",
)
def add_assessment(
    ctx: Ctx, who: Writer, patient_id: int, body: Annotated[NewAssessment, Body()]
) -> dict[str, Any]:
    with ctx.db.session() as db:
        _found(records.patient(db, patient_id), "patient")
        record = evaluations.evaluate(
            ctx, db, patient_id=patient_id, data=body.case, who=who, as_of=body.as_of
        )
        return evaluations.full(record)


@router.get("/assessments/{assessment_id}", summary="One stored assessment, input and result")
def get_assessment(ctx: Ctx, who: Reader, assessment_id: int) -> dict[str, Any]:
    with ctx.db.session() as db:
        record = _found(records.assessment(db, assessment_id), "assessment")
        ctx.audit(db, who.actor, "view", ("assessment", assessment_id))
        return evaluations.full(record)


@router.get("/audit", summary="The latest audit events (who did what to which record)")
def audit_log(ctx: Ctx, who: Reader) -> list[dict[str, Any]]:
    with ctx.db.session() as db:
        events = records.audit_trail(db)
        ctx.audit(db, who.actor, "view", ("audit_log", None))
        return [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "outcome": e.outcome,
            }
            for e in events
        ]


def _patient(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "display_name": p.display_name,
        "reference": p.reference,
        "created_at": p.created_at.isoformat(),
    }


def _found(value: T | None, kind: str) -> T:
    if value is None:
        raise NotFoundError(kind)
    return value
