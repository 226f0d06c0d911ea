"""The clinician workspace: sign-in, patients, evaluations, explained assessments and reports."""

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from fusionwatch.core.errors import CaseError, NotFoundError
from fusionwatch.core.serialize import from_data
from fusionwatch.files.case import read_mapping
from fusionwatch.report import chart as charts
from fusionwatch.report.pdf import report_pdf
from fusionwatch.report.view import Report
from fusionwatch.store import accounts, passwords, records, teams
from fusionwatch.store.accounts import LoginOutcome, Principal
from fusionwatch.web import access, evaluations, forms, series
from fusionwatch.web.access import MAX_ID
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.pages import page
from fusionwatch.web.presentation import report_of
from fusionwatch.web.security import (
    SESSION_COOKIE,
    Denial,
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
    address = request.client.host if request.client else "unknown"
    # Each unit of work may wait for the database's write lock: never on the event loop.
    target = await run_in_threadpool(_begin_login, ctx, username, address)
    # argon2 is slow and memory-hungry by design: a bounded pool, off the event loop.
    verified = await ctx.hashing.run(
        functools.partial(passwords.verify_password, target.password_hash, password)
    )
    token = await run_in_threadpool(_finish_login, ctx, target, address, password, verified)
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


def _begin_login(ctx: AppContext, username: str, address: str) -> accounts.LoginTarget:
    with ctx.db.session() as db:
        return accounts.begin_login(db, username, address, ctx.clock(), ctx.login_policy)


def _finish_login(
    ctx: AppContext, target: accounts.LoginTarget, address: str, password: str, verified: bool
) -> str | None:
    """Record the outcome; the new session's token when the password was right."""
    with ctx.db.session() as db:
        outcome, user = accounts.finish_login(db, target, address, password, verified)
        # Only an existing account's name is recorded, never whatever was typed.
        actor = user.username if user is not None else "(unknown user)"
        ctx.audit(db, actor, "login", ("user", user and user.id), outcome=outcome.value)
        if user is None or outcome is not LoginOutcome.OK:
            return None
        return accounts.open_session(db, user, ctx.clock(), ctx.session_lifetime)


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
    """The form, filled from the last evaluation: every field, studies and score visits too."""
    with ctx.db.session() as db:
        patient = access.writable_patient(ctx, db, user, patient_id)
        previous = records.latest_input(db, patient)
    draft = Draft(
        forms.case_raw(previous), series.from_case(previous), _leftover_text(ctx, previous)
    )
    return _evaluation_page(request, ctx, user, patient, draft)


@router.post("/patients/{patient_id}/evaluate")
async def evaluation_submit(
    request: Request, ctx: Ctx, user: FormUser, patient_id: RecordId
) -> Response:
    form = await request.form()
    action = str(form.get(series.ADD, ""))
    rows = series.from_form(form, keep_empty=bool(action))
    draft = Draft(forms.raw_answers(ctx.kb, form), rows, str(form.get(EXTRA_FIELD, "")))
    if action:
        # "Add another study/level/visit": the same form again with one more empty row.
        series.with_extra_row(draft.rows, action)
        patient = await run_in_threadpool(_writable, ctx, user, patient_id)
        return _evaluation_page(request, ctx, user, patient, draft)
    # Parsing YAML and assessing are CPU work: off the event loop.
    return await run_in_threadpool(
        lambda: _evaluation_submit(request, ctx, user, patient_id=patient_id, draft=draft)
    )


def _writable(ctx: AppContext, user: Principal, patient_id: int) -> Any:
    with ctx.db.session() as db:
        return access.writable_patient(ctx, db, user, patient_id)


def _evaluation_submit(
    request: Request, ctx: AppContext, user: Principal, *, patient_id: int, draft: "Draft"
) -> Response:
    values, errors = forms.parse_answers(ctx.kb, draft.raw)
    rows_data, row_errors = series.to_data(draft.rows)
    errors.update(row_errors)
    data, extra_error = _merged(forms.case_data(values), rows_data, draft.extra)
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
    return _evaluation_page(request, ctx, user, patient, draft, errors=errors, status=422)


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
            "report": _report(record, patient),
            "chart_src": chart,
            "can_write": user.can_write(patient.team_id),
        },
    )


def _report(record: Any, patient: Any) -> Report:
    who = patient.display_name + (f" ({patient.reference})" if patient.reference else "")
    return report_of(record.result, record.case_data, record.as_of, "clinician", who)


def _printed(ctx: AppContext, user: Principal, assessment_id: int, action: str) -> tuple[Any, Any]:
    """The record and its patient for a PDF or a chart, audited (in the thread pool)."""
    with ctx.db.session() as db:
        record = access.assessment(ctx, db, user, assessment_id)
        patient = access.patient(ctx, db, user, record.patient_id)
        ctx.audit(db, user, action, ("assessment", assessment_id), team_id=patient.team_id)
    return record, patient


@router.get("/assessments/{assessment_id}/chart.svg")
async def assessment_chart(ctx: Ctx, user: User, assessment_id: RecordId) -> Response:
    record, _ = await run_in_threadpool(_printed, ctx, user, assessment_id, "chart")
    svg = await ctx.pdfs.run(partial(_chart, record.result))
    if svg is None:
        raise NotFoundError("chart")
    return Response(svg, media_type="image/svg+xml")


@router.get("/assessments/{assessment_id}/report.pdf")
async def assessment_pdf(
    request: Request, ctx: Ctx, user: User, assessment_id: RecordId
) -> Response:
    record, patient = await run_in_threadpool(_printed, ctx, user, assessment_id, "print")
    subtitle = f"assessment {record.id} · printed by {user.username}"
    # A bounded number of PDFs at once per worker: each takes a core and tens of MB.
    pdf = await ctx.pdfs.run(partial(report_pdf, _report(record, patient), subtitle=subtitle))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="fusionwatch-assessment-{record.id}.pdf"'
        },
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, ctx: Ctx, user: User) -> HTMLResponse:
    if not user.admin_teams:
        raise ForbiddenError(
            "Only a team's administrators see its audit log.",
            denial=Denial(user, "audit_log", None),
        )
    with ctx.db.session() as db:
        events = records.audit_trail(db, user.admin_teams)
        ctx.audit(db, user, "view", ("audit_log", None))
    return page(request, "audit.html", {"user": user, "events": events})


@dataclass(slots=True)
class Draft:
    """What the evaluation form shows: field text, study and visit rows, and the JSON box."""

    raw: dict[str, str]
    rows: series.Rows
    extra: str


def _evaluation_page(  # noqa: PLR0917 - one call shape
    request: Request,
    ctx: AppContext,
    user: Principal,
    patient: Any,
    draft: Draft,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    fields = forms.build_fields(forms.clinician_facts(ctx.kb), draft.raw, "clinician", errors)
    known = {f.name for f in fields} | {EXTRA_FIELD}
    studies, visits = series.view(draft.rows, errors)
    shown = {c.name for r in (*studies, *visits) for c in _cells(r)} | {
        r.path for r in (*studies, *visits, *(lv for s in studies for lv in s.levels))
    }
    row_errors = [
        (series.describe(k) or k, v, "f-" + k.replace(".", "-") if k in shown else None)
        for k, v in errors.items()
        if series.describe(k) is not None
    ]
    return page(
        request,
        "evaluate.html",
        {
            "user": user,
            "patient": patient,
            "groups": forms.grouped(fields),
            "field_errors": [f for f in fields if f.error],
            "row_errors": row_errors,
            "studies": studies,
            "visits": visits,
            "add_field": series.ADD,
            "extra_text": draft.extra,
            "extra_error": errors.get(EXTRA_FIELD),
            "other_errors": {
                k: v for k, v in errors.items() if k not in known and series.describe(k) is None
            },
        },
        status,
    )


def _cells(row: series.Row) -> list[series.Cell]:
    return [*row.cells, *(c for level in row.levels for c in level.cells)]


def _leftover_text(ctx: AppContext, data: dict[str, Any]) -> str:
    """Case data without a form field or row (a label, for example), as editable JSON."""
    covered = {f.id for f in forms.clinician_facts(ctx.kb)} | {series.STUDIES, series.VISITS}
    left = forms.uncovered(data, covered)
    return json.dumps(left, indent=2) if left else ""


def _merged(
    data: dict[str, Any], rows: dict[str, Any], extra_text: str
) -> tuple[dict[str, Any], str | None]:
    if not extra_text.strip():
        return forms.deep_merge(data, rows), None
    try:
        extra = read_mapping(extra_text)
    except CaseError as err:
        return data, "; ".join(str(p) for p in err.problems)
    if not isinstance(extra, dict):
        return data, "must be a mapping of case sections, for example {imaging: {...}}"
    return forms.deep_merge(series.combine(rows, extra), data), None


def _chart(result: dict[str, Any]) -> bytes | None:
    """The stored result's score chart, drawn from the record (never recomputed)."""
    follow_up = from_data(result).follow_up
    return charts.render(follow_up, "svg") if follow_up and follow_up.trajectories else None


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect after sign-in is a phishing aid.
    if not target.startswith("/") or target.startswith("//"):
        return "/patients"
    return quote(target, safe="/?=&")
