"""The JSON API under /api/v1: a stateless assessment, and patients and their assessments."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError, Problem
from fusionwatch.core.serialize import dump_json
from fusionwatch.files.case import parse_json
from fusionwatch.store import records
from fusionwatch.store.access import Scope
from fusionwatch.store.accounts import Principal
from fusionwatch.web import access, evaluations
from fusionwatch.web.access import MAX_ID
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.responses import (
    CASE_SCHEMA,
    AssessmentSummary,
    AuditEventOut,
    PatientOut,
    PatientPage,
    PatientWithAssessments,
    StoredAssessment,
    answers,
    assessment_body,
    errors,
)
from fusionwatch.web.security import Denial, ForbiddenError, needs

router = APIRouter(prefix="/api/v1", tags=["api"])
Ctx = Annotated[AppContext, Depends(context)]
Reader = Annotated[Principal, needs(Scope.READ)]
Writer = Annotated[Principal, needs(Scope.WRITE)]

AsOf = Annotated[dt.date | None, Query(description="Assessment date (ISO); today when left out.")]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]
PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="A patient id (64-bit).")]
AssessmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="An assessment id (64-bit).")]
Before = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Next page: the last id of the previous one.")
]
Limit = Annotated[int, Query(ge=1, le=200, description="Rows per page.")]


class NewPatient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: Name
    reference: Reference | None = None
    team_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Your team to add to; needed when you have several."
    )


class NewAssessment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: dict[str, Any] = Field(
        description="A case, as in `fusionwatch schema` (the schema of `POST /api/v1/assess`)."
    )
    as_of: dt.date | None = Field(None, description="Assessment date; today when left out.")


@router.post(
    "/assess",
    summary="Assess a case (stateless; nothing is stored)",
    responses=assessment_body() | errors(400, 413, 422),
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": CASE_SCHEMA}}}
    },
)
async def assess_case(request: Request, ctx: Ctx, as_of: AsOf = None) -> Response:
    # The hot path: bytes are validated and dumped by pydantic's core directly, without
    # FastAPI's generic encoder (it doubled the time per request).
    day = as_of or ctx.today
    body = await request.body()
    return Response(
        await run_in_threadpool(_assess_bytes, ctx, body, day), media_type="application/json"
    )


def _assess_bytes(ctx: AppContext, body: bytes, day: dt.date) -> bytes:
    return dump_json(assess(parse_json(body, day), ctx.kb, day, ctx.site))


@router.get(
    "/patients",
    summary="A page of your teams' patients with their latest result",
    responses=answers(PatientPage, 401, 403, 422),
)
def list_patients(
    ctx: Ctx,
    who: Reader,
    *,
    before: Before = None,
    limit: Limit = 50,
    q: Annotated[
        str | None,
        Query(
            max_length=80,
            description="Reference is, or every word starts a word of the name (any case/accents)",
        ),
    ] = None,
    triage: Annotated[str | None, Query(max_length=40, description="Latest triage level")] = None,
) -> dict[str, Any]:
    with ctx.db.session() as db:
        rows = records.patient_page(
            db, who.teams, before=before, limit=limit, text=q, triage=triage
        )
        ctx.audit(db, who, "view", ("patient_list", None))
        page = rows[:limit]
        return {
            "patients": [_patient(p) for p in page],
            "next_before": page[-1].id if len(rows) > limit else None,
        }


@router.post(
    "/patients",
    status_code=201,
    summary="Record a patient in one of your teams",
    responses=answers(PatientOut, 400, 401, 403, 413, 422, ok=201),
)
def add_patient(ctx: Ctx, who: Writer, body: NewPatient) -> dict[str, Any]:
    with ctx.db.session() as db:
        team = evaluations.team_for_new_patient(who, body.team_id)
        problems = evaluations.patient_problems(db, team, body.display_name, body.reference)
        if problems or team is None:
            raise CaseError([Problem(k, v) for k, v in problems.items()])
        patient = records.add_patient(
            db,
            display_name=body.display_name,
            reference=body.reference or None,
            user_id=who.user_id,
            now=ctx.clock(),
            team_id=team,
        )
        ctx.audit(db, who, "create", ("patient", patient.id), team_id=team)
        return _patient(patient)


@router.get(
    "/patients/{patient_id}",
    summary="A patient and their assessments",
    responses=answers(PatientWithAssessments, 401, 403, 404, 422),
)
def get_patient(ctx: Ctx, who: Reader, patient_id: PatientId) -> dict[str, Any]:
    with ctx.db.session() as db:
        patient = access.patient(ctx, db, who, patient_id)
        history = records.assessments_of(db, patient_id)
        ctx.audit(db, who, "view", ("patient", patient_id), team_id=patient.team_id)
        return {**_patient(patient), "assessments": [evaluations.summary(a) for a in history]}


@router.get(
    "/patients/{patient_id}/assessments",
    summary="A page of a patient's assessments",
    responses=answers(list[AssessmentSummary], 401, 403, 404, 422),
)
def list_assessments(
    ctx: Ctx, who: Reader, patient_id: PatientId, before: Before = None, limit: Limit = 100
) -> list[dict[str, Any]]:
    with ctx.db.session() as db:
        patient = access.patient(ctx, db, who, patient_id)
        ctx.audit(db, who, "view", ("patient", patient_id), team_id=patient.team_id)
        rows = records.assessments_of(db, patient_id, before=before, limit=limit)
        return [evaluations.summary(a) for a in rows]


@router.post(
    "/patients/{patient_id}/assessments",
    status_code=201,
    summary="Assess a case for a patient and store the result",
    responses=answers(StoredAssessment, 400, 401, 403, 404, 413, 422, ok=201),
)
async def add_assessment(
    ctx: Ctx, who: Writer, patient_id: PatientId, body: Annotated[NewAssessment, Body()]
) -> dict[str, Any]:
    # Assessing takes milliseconds to tens of them: off the event loop, like every slow step.
    return await run_in_threadpool(_add_assessment, ctx, who, patient_id, body)


def _add_assessment(
    ctx: AppContext, who: Principal, patient_id: int, body: NewAssessment
) -> dict[str, Any]:
    if body.as_of is not None and body.as_of > ctx.today:
        raise CaseError([Problem("as_of", "must not be after today")])
    with ctx.db.session() as db:
        access.writable_patient(ctx, db, who, patient_id)
        record = evaluations.evaluate(
            ctx, db, patient_id=patient_id, data=body.case, who=who, as_of=body.as_of
        )
        return evaluations.full(record)


@router.get(
    "/assessments/{assessment_id}",
    summary="One stored assessment, input and result",
    responses=answers(StoredAssessment, 401, 403, 404, 422),
)
def get_assessment(ctx: Ctx, who: Reader, assessment_id: AssessmentId) -> dict[str, Any]:
    with ctx.db.session() as db:
        record = access.assessment(ctx, db, who, assessment_id)
        team = records.team_of_assessment(db, assessment_id)
        ctx.audit(db, who, "view", ("assessment", assessment_id), team_id=team)
        return evaluations.full(record)


@router.get(
    "/audit",
    summary="The latest audit events of the teams you administer",
    responses=answers(list[AuditEventOut], 401, 403),
)
def audit_log(ctx: Ctx, who: Reader) -> list[dict[str, Any]]:
    if not who.admin_teams:
        raise ForbiddenError(
            "only a team's administrators see its audit log",
            denial=Denial(who, "audit_log", None),
        )
    with ctx.db.session() as db:
        events = records.audit_trail(db, who.admin_teams)
        ctx.audit(db, who, "view", ("audit_log", None))
        return [audit_event(e) for e in events]


def audit_event(e: Any) -> dict[str, Any]:
    return {
        "at": e.at.isoformat(),
        "actor": e.actor,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "outcome": e.outcome,
        "team_id": e.team_id,
        "detail": e.detail,
    }


def _patient(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "team_id": p.team_id,
        "display_name": p.display_name,
        "reference": p.reference,
        "created_at": p.created_at.isoformat(),
        "latest": None
        if p.latest_assessment_id is None
        else {
            "id": p.latest_assessment_id,
            "triage": p.latest_triage,
            "suspicion": p.latest_suspicion,
            "as_of": p.latest_as_of.isoformat() if p.latest_as_of else None,
        },
    }
