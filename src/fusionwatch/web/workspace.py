"""The clinician workspace: sign-in, patients, evaluations, explained assessments and reports."""

import json
from base64 import b64encode
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from fusionwatch.core.errors import CaseError
from fusionwatch.core.serialize import from_data
from fusionwatch.files.case import read_mapping
from fusionwatch.report import chart as charts
from fusionwatch.report.pdf import render_pdf
from fusionwatch.store import accounts, records, teams
from fusionwatch.store.accounts import LoginOutcome, Principal
from fusionwatch.web import access, evaluations, forms
from fusionwatch.web.access import MAX_ID
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.pages import STATIC_ROOT, page
from fusionwatch.web.security import (
    SESSION_COOKIE,
    ForbiddenError,
    check_csrf,
    secure,
    signed_in,
    signed_in_form,
)

router = APIRouter(include_in_schema=False)
Ctx = Annotated[AppContext, Depends(context)]
User = Annotated[Principal, Depends(signed_in)]
FormUser = Annotated[Principal, Depends(signed_in_form)]
EXTRA_FIELD = "extra_case_data"
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE = 50


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/patients") -> HTMLResponse:
    return page(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/patients",
) -> Response:
    now = ctx.clock()
    address = request.client.host if request.client else "unknown"
    with ctx.db.session(write=True) as db:
        target = accounts.begin_login(db, username, address, now, ctx.login_policy)
    # argon2 is slow and memory-hungry by design: a bounded pool, off the event loop.
    verified = await to_thread.run_sync(
        accounts.verify_password, target.password_hash, password, limiter=ctx.hashing
    )
    with ctx.db.session(write=True) as db:
        outcome, user = accounts.finish_login(db, target, address, password, verified)
        # Only an existing account's name is recorded, never whatever was typed.
        actor = user.username if user is not None else "(unknown user)"
        ctx.audit(db, actor, "login", ("user", user and user.id), outcome=outcome.value)
        token = (
            accounts.open_session(db, user, now, ctx.session_lifetime)
            if user and (outcome is LoginOutcome.OK)
            else None
        )
    if token is None:
        # One message for every refusal, so it never tells whether an account exists.
        message = (
            "The username or password is not right, or the account is locked for a while "
            "after repeated failed sign-ins."
        )
        data = {"next": _safe_next(next), "message": message, "username": username}
        return page(request, "login.html", data, status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure(request, ctx),
        max_age=int(ctx.session_lifetime.total_seconds()),
    )
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx, user: FormUser) -> Response:
    with ctx.db.session() as db:
        accounts.close_session(db, request.cookies.get(SESSION_COOKIE, ""))
        ctx.audit(db, user, "logout", ("user", user.user_id))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/patients", response_class=HTMLResponse)
def patient_list(
    request: Request,
    ctx: Ctx,
    user: User,
    *,
    fhir_patient: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    q: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """A page of the teams' patients; from an EHR link (?fhir_patient=ID), the patient whose
    reference is ID (404 when none of the user's teams has one, as for any other record)."""
    if fhir_patient is not None:
        return _ehr_link(request, ctx, user, fhir_patient)
    with ctx.db.session() as db:
        rows = records.patient_page(db, user.teams, before=before, limit=PAGE, text=q or None)
        ctx.audit(db, user, "view", ("patient_list", None))
    return page(request, "patients.html", _list_data(ctx, user, rows, q))


def _ehr_link(request: Request, ctx: AppContext, user: Principal, reference: str) -> Response:
    with ctx.db.session() as db:
        matches = records.patients_with_reference(db, user.teams, reference)
        ctx.audit(db, user, "view", ("patient_reference", None))
    if len(matches) == 1:
        return RedirectResponse(f"/patients/{matches[0].id}", status_code=303)
    data = {
        **_list_data(ctx, user, matches, None),
        "draft": ("", reference[:80]),
        "looked_for": reference,
    }
    return page(request, "patients.html", data, status=200 if matches else 404)


def _list_data(
    ctx: AppContext, user: Principal, rows: Sequence[Any], q: str | None
) -> dict[str, Any]:
    with ctx.db.session() as db:
        names = {t.id: t.name for t, _ in teams.memberships_of(db, user.user_id)}
    return {
        "user": user,
        "rows": rows[:PAGE],
        "next_before": rows[PAGE - 1].id if len(rows) > PAGE else None,
        "q": q or "",
        "teams": [(t, names.get(t, str(t))) for t in user.writable_teams],
    }


@router.post("/patients")
def patient_add(
    request: Request,
    ctx: Ctx,
    user: FormUser,
    *,
    display_name: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    team_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    name, ref = display_name.strip(), reference.strip()
    team = evaluations.team_for_new_patient(user, team_id)
    with ctx.db.session() as db:
        problems = evaluations.patient_problems(db, team, name, ref or None)
        if not problems and team is not None:
            patient = records.add_patient(
                db,
                display_name=name,
                reference=ref or None,
                user_id=user.user_id,
                now=ctx.clock(),
                team_id=team,
            )
            ctx.audit(db, user, "create", ("patient", patient.id), team_id=team)
            return RedirectResponse(f"/patients/{patient.id}", status_code=303)
        rows = records.patient_page(db, user.teams, limit=PAGE)
    data = {**_list_data(ctx, user, rows, None), "problems": problems, "draft": (name, ref)}
    return page(request, "patients.html", data, status=422)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, ctx: Ctx, user: User, patient_id: RecordId) -> HTMLResponse:
    with ctx.db.session() as db:
        patient = access.patient(ctx, db, user, patient_id)
        history = records.assessments_of(db, patient_id)
        latest = records.latest_input(db, patient)
        ctx.audit(db, user, "view", ("patient", patient_id), team_id=patient.team_id)
    return page(
        request,
        "patient.html",
        {"user": user, "patient": patient, "history": history, "surgery": latest.get("surgery")},
    )


@router.get("/patients/{patient_id}/evaluate", response_class=HTMLResponse)
def evaluation_form(request: Request, ctx: Ctx, user: User, patient_id: RecordId) -> HTMLResponse:
    with ctx.db.session() as db:
        patient = access.writable_patient(ctx, db, user, patient_id)
        previous = records.latest_input(db, patient)
    raw = forms.case_raw(previous)
    return _evaluation_page(request, ctx, user, patient, raw=raw, errors={}, extra=previous)


@router.post("/patients/{patient_id}/evaluate")
async def evaluation_submit(
    request: Request, ctx: Ctx, user: FormUser, patient_id: RecordId
) -> Response:
    form = await request.form()
    raw = forms.raw_answers(ctx.kb, form)
    extra_text = str(form.get(EXTRA_FIELD, ""))
    # Parsing YAML and assessing are CPU work: off the event loop.
    return await run_in_threadpool(
        lambda: _evaluation_submit(
            request, ctx, user, patient_id=patient_id, raw=raw, extra_text=extra_text
        )
    )


def _evaluation_submit(
    request: Request,
    ctx: AppContext,
    user: Principal,
    *,
    patient_id: int,
    raw: dict[str, str],
    extra_text: str,
) -> Response:
    values, errors = forms.parse_answers(ctx.kb, raw)
    data, extra_error = _merged(forms.case_data(values), extra_text)
    if extra_error:
        errors[EXTRA_FIELD] = extra_error
    with ctx.db.session() as db:
        patient = access.writable_patient(ctx, db, user, patient_id)
        if not errors:
            try:
                record = evaluations.evaluate(ctx, db, patient_id=patient_id, data=data, who=user)
            except CaseError as err:
                errors = forms.problem_errors(err.problems)
            else:
                return RedirectResponse(f"/assessments/{record.id}", status_code=303)
    return _evaluation_page(
        request, ctx, user, patient, raw=raw, errors=errors, extra=extra_text, status=422
    )


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
def assessment_page(
    request: Request, ctx: Ctx, user: User, assessment_id: RecordId
) -> HTMLResponse:
    with ctx.db.session() as db:
        record = access.assessment(ctx, db, user, assessment_id)
        patient = access.patient(ctx, db, user, record.patient_id)
        ctx.audit(db, user, "view", ("assessment", assessment_id), team_id=patient.team_id)
    follow_up: Any = record.result.get("follow_up") or {}
    chart = f"/assessments/{record.id}/chart.svg" if follow_up.get("trajectories") else None
    return page(
        request,
        "assessment.html",
        {
            "user": user,
            "record": record,
            "patient": patient,
            "result": record.result,
            "chart_src": chart,
            "can_write": user.can_write(patient.team_id),
        },
    )


@router.get("/assessments/{assessment_id}/chart.svg")
async def assessment_chart(ctx: Ctx, user: User, assessment_id: RecordId) -> Response:
    with ctx.db.session() as db:
        record = access.assessment(ctx, db, user, assessment_id)
        team = records.team_of_assessment(db, assessment_id)
        ctx.audit(db, user, "chart", ("assessment", assessment_id), team_id=team)
    svg = await to_thread.run_sync(_chart, record.result, limiter=ctx.pdfs)
    if svg is None:
        raise LookupError("chart")
    return Response(svg, media_type="image/svg+xml")


@router.get("/assessments/{assessment_id}/report.pdf")
async def assessment_pdf(
    request: Request, ctx: Ctx, user: User, assessment_id: RecordId
) -> Response:
    with ctx.db.session() as db:
        record = access.assessment(ctx, db, user, assessment_id)
        patient = access.patient(ctx, db, user, record.patient_id)
        ctx.audit(db, user, "print", ("assessment", assessment_id), team_id=patient.team_id)
    # A bounded number of PDFs at once per worker: each takes a core and tens of MB.
    pdf = await to_thread.run_sync(_pdf, ctx, user, record, patient, limiter=ctx.pdfs)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="fusionwatch-assessment-{record.id}.pdf"'
        },
    )


def _pdf(ctx: AppContext, user: Principal, record: Any, patient: Any) -> bytes:
    html = ctx.templates.get_template("pdf_clinician.html").render(
        {
            "record": record,
            "patient": patient,
            "result": record.result,
            "user": user,
            "knowledge_version": record.knowledge_version,
            "chart_src": _data_uri(_chart(record.result)),
        }
    )
    return render_pdf(html, STATIC_ROOT)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, ctx: Ctx, user: User) -> HTMLResponse:
    if not user.admin_teams:
        access.deny(ctx, user, "audit_log", None)
        raise ForbiddenError("Only a team's administrators see its audit log.")
    with ctx.db.session() as db:
        events = records.audit_trail(db, user.admin_teams)
        ctx.audit(db, user, "view", ("audit_log", None))
    return page(request, "audit.html", {"user": user, "events": events})


def _evaluation_page(
    request: Request,
    ctx: AppContext,
    user: Principal,
    patient: Any,
    *,
    raw: dict[str, str],
    errors: dict[str, str],
    extra: Any,
    status: int = 200,
) -> HTMLResponse:
    fields = forms.build_fields(forms.clinician_facts(ctx.kb), raw, "clinician", errors)
    extra_text = extra if isinstance(extra, str) else _leftover_text(ctx, extra)
    known = {f.name for f in fields} | {EXTRA_FIELD}
    groups = forms.grouped(fields)
    return page(
        request,
        "evaluate.html",
        {
            "user": user,
            "patient": patient,
            "groups": groups,
            "field_errors": [f for f in fields if f.error],
            "extra_text": extra_text,
            "extra_error": errors.get(EXTRA_FIELD),
            "other_errors": {k: v for k, v in errors.items() if k not in known},
        },
        status,
    )


def _leftover_text(ctx: AppContext, data: dict[str, Any]) -> str:
    """Case data the form has no field for (lists of studies or scores), as editable JSON."""
    covered = {f.id for f in forms.clinician_facts(ctx.kb)}
    left = forms.uncovered(data, covered)
    return json.dumps(left, indent=2) if left else ""


def _merged(data: dict[str, Any], extra_text: str) -> tuple[dict[str, Any], str | None]:
    if not extra_text.strip():
        return data, None
    try:
        extra = read_mapping(extra_text)
    except CaseError as err:
        return data, "; ".join(str(p) for p in err.problems)
    if not isinstance(extra, dict):
        return data, "must be a mapping of case sections, for example {imaging: {...}}"
    return forms.deep_merge(extra, data), None


def _chart(result: dict[str, Any]) -> bytes | None:
    """The stored result's score chart, drawn from the record (never recomputed)."""
    follow_up = from_data(result).follow_up
    return charts.render(follow_up, "svg") if follow_up and follow_up.trajectories else None


def _data_uri(svg: bytes | None) -> str | None:
    # Reports embed the chart, so the PDF renderer never fetches anything.
    return None if svg is None else "data:image/svg+xml;base64," + b64encode(svg).decode()


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect after sign-in is a phishing aid.
    if not target.startswith("/") or target.startswith("//"):
        return "/patients"
    return quote(target, safe="/?=&")
