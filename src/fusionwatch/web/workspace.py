"""The clinician workspace: sign-in, patients, evaluations, explained assessments and reports."""

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fusionwatch.core.errors import CaseError, NotFoundError
from fusionwatch.core.serialize import from_data
from fusionwatch.files.case import read_mapping
from fusionwatch.report import chart as charts
from fusionwatch.report.pdf import report_pdf
from fusionwatch.report.view import Report
from fusionwatch.store import accounts, records
from fusionwatch.store.accounts import LoginOutcome, Principal
from fusionwatch.web import evaluations, forms, series
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.pages import page
from fusionwatch.web.presentation import report_of
from fusionwatch.web.security import (
    SESSION_COOKIE,
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


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/patients") -> HTMLResponse:
    return page(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/patients",
) -> Response:
    now = ctx.clock()
    with ctx.db.session() as db:
        outcome, user = accounts.login(db, username, password, now, ctx.login_policy)
        ctx.audit(db, username[:80], "login", ("user", user and user.id), outcome.value)
        token = (
            accounts.open_session(db, user, now, ctx.session_lifetime)
            if user and (outcome is LoginOutcome.OK)
            else None
        )
    if token is None:
        message = (
            "This account is locked for a while after repeated failed sign-ins. Try again later."
            if outcome is LoginOutcome.LOCKED
            else "The username or password is not right."
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
        ctx.audit(db, user.actor, "logout", ("user", user.user_id))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/patients", response_class=HTMLResponse)
def patient_list(
    request: Request, ctx: Ctx, user: User, fhir_patient: str | None = None
) -> Response:
    """All patients; from an EHR link (?fhir_patient=ID), the patient whose reference is ID."""
    with ctx.db.session() as db:
        rows = records.patients(db)
        ctx.audit(db, user.actor, "view", ("patient_list", None))
    if fhir_patient is None:
        return page(request, "patients.html", {"user": user, "rows": rows})
    matches = [(p, a) for p, a in rows if p.reference == fhir_patient]
    if len(matches) == 1:
        return RedirectResponse(f"/patients/{matches[0][0].id}", status_code=303)
    data = {
        "user": user,
        "rows": matches,
        "draft": ("", fhir_patient[:80]),
        "looked_for": fhir_patient,
    }
    return page(request, "patients.html", data)


@router.post("/patients")
def patient_add(
    request: Request,
    ctx: Ctx,
    user: FormUser,
    display_name: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
) -> Response:
    name, ref = display_name.strip(), reference.strip()
    problems = {}
    if not name or len(name) > 200:
        problems["display_name"] = "Give a name or label of 1 to 200 characters."
    if len(ref) > 80:
        problems["reference"] = "Keep the reference to 80 characters or fewer."
    if problems:
        with ctx.db.session() as db:
            rows = records.patients(db)
        data = {"user": user, "rows": rows, "problems": problems, "draft": (name, ref)}
        return page(request, "patients.html", data, status=422)
    with ctx.db.session() as db:
        patient = records.add_patient(db, name, ref or None, user.user_id, ctx.clock())
        ctx.audit(db, user.actor, "create", ("patient", patient.id))
    return RedirectResponse(f"/patients/{patient.id}", status_code=303)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, ctx: Ctx, user: User, patient_id: int) -> HTMLResponse:
    with ctx.db.session() as db:
        patient = _patient(db, patient_id)
        history = records.assessments_of(db, patient_id)
        ctx.audit(db, user.actor, "view", ("patient", patient_id))
    latest = history[0].case_data if history else {}
    return page(
        request,
        "patient.html",
        {"user": user, "patient": patient, "history": history, "surgery": latest.get("surgery")},
    )


@router.get("/patients/{patient_id}/evaluate", response_class=HTMLResponse)
def evaluation_form(request: Request, ctx: Ctx, user: User, patient_id: int) -> HTMLResponse:
    """The form, filled from the last evaluation: every field, studies and score visits too."""
    with ctx.db.session() as db:
        patient = _patient(db, patient_id)
        history = records.assessments_of(db, patient_id)
    previous = history[0].case_data if history else {}
    draft = Draft(
        forms.case_raw(previous), series.from_case(previous), _leftover_text(ctx, previous)
    )
    return _evaluation_page(request, ctx, user, patient, draft)


@router.post("/patients/{patient_id}/evaluate")
async def evaluation_submit(
    request: Request, ctx: Ctx, user: FormUser, patient_id: int
) -> Response:
    form = await request.form()
    action = str(form.get(series.ADD, ""))
    rows = series.from_form(form, keep_empty=bool(action))
    draft = Draft(forms.raw_answers(ctx.kb, form), rows, str(form.get(EXTRA_FIELD, "")))
    if action:
        # "Add another study/level/visit": the same form again with one more empty row.
        series.with_extra_row(draft.rows, action)
        with ctx.db.session() as db:
            patient = _patient(db, patient_id)
        return _evaluation_page(request, ctx, user, patient, draft)
    values, errors = forms.parse_answers(ctx.kb, draft.raw)
    rows_data, row_errors = series.to_data(draft.rows)
    errors.update(row_errors)
    data, extra_error = _merged(forms.case_data(values), rows_data, draft.extra)
    if extra_error:
        errors[EXTRA_FIELD] = extra_error
    with ctx.db.session() as db:
        patient = _patient(db, patient_id)
        if not errors:
            try:
                record = evaluations.evaluate(ctx, db, patient_id=patient_id, data=data, who=user)
            except CaseError as err:
                errors = forms.problem_errors(err.problems)
            else:
                return RedirectResponse(f"/assessments/{record.id}", status_code=303)
    return _evaluation_page(request, ctx, user, patient, draft, errors=errors, status=422)


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
def assessment_page(request: Request, ctx: Ctx, user: User, assessment_id: int) -> HTMLResponse:
    with ctx.db.session() as db:
        record = _assessment(db, assessment_id)
        patient = _patient(db, record.patient_id)
        ctx.audit(db, user.actor, "view", ("assessment", assessment_id))
    follow_up = record.result.get("follow_up") or {}
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
        },
    )


def _report(record: Any, patient: Any) -> Report:
    who = patient.display_name + (f" ({patient.reference})" if patient.reference else "")
    return report_of(record.result, record.case_data, record.as_of, "clinician", who)


@router.get("/assessments/{assessment_id}/chart.svg")
def assessment_chart(ctx: Ctx, user: User, assessment_id: int) -> Response:
    with ctx.db.session() as db:
        record = _assessment(db, assessment_id)
    svg = _chart(record.result)
    if svg is None:
        raise NotFoundError("chart")
    return Response(svg, media_type="image/svg+xml")


@router.get("/assessments/{assessment_id}/report.pdf")
def assessment_pdf(request: Request, ctx: Ctx, user: User, assessment_id: int) -> Response:
    with ctx.db.session() as db:
        record = _assessment(db, assessment_id)
        patient = _patient(db, record.patient_id)
        ctx.audit(db, user.actor, "print", ("assessment", assessment_id))
    subtitle = f"assessment {record.id} · printed by {user.username}"
    return Response(
        report_pdf(_report(record, patient), subtitle=subtitle),
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="fusionwatch-assessment-{record.id}.pdf"'
        },
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, ctx: Ctx, user: User) -> HTMLResponse:
    with ctx.db.session() as db:
        events = records.audit_trail(db)
        ctx.audit(db, user.actor, "view", ("audit_log", None))
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


def _patient(db: Any, patient_id: int) -> Any:
    patient = records.patient(db, patient_id)
    if patient is None:
        raise NotFoundError("patient")
    return patient


def _assessment(db: Any, assessment_id: int) -> Any:
    record = records.assessment(db, assessment_id)
    if record is None:
        raise NotFoundError("assessment")
    return record


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect after sign-in is a phishing aid.
    if not target.startswith("/") or target.startswith("//"):
        return "/patients"
    return quote(target, safe="/?=&")
