"""The patient self-check: emergency questions first, then three short steps, then the result.

Nothing is stored on the server: earlier answers travel in hidden fields of the next form, and the
result, the PDF and the answers file are rebuilt from what the browser sends.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError
from fusionwatch.core.serialize import to_data
from fusionwatch.core.vocab import Triage
from fusionwatch.files.case import parse_data
from fusionwatch.report.pdf import render_pdf
from fusionwatch.web import forms
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.forms import PATIENT_STEPS, Step
from fusionwatch.web.pages import STATIC_ROOT, page
from fusionwatch.web.security import check_csrf

router = APIRouter(include_in_schema=False)
Ctx = Annotated[AppContext, Depends(context)]
STEP_IDS = [s.id for s in PATIENT_STEPS]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return page(request, "home.html", {})


@router.get("/check", response_class=HTMLResponse)
def start(request: Request, ctx: Ctx) -> HTMLResponse:
    return _step_page(request, ctx, PATIENT_STEPS[0], {}, {})


@router.post("/check/{step_id}", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def submit(request: Request, ctx: Ctx, step_id: str) -> HTMLResponse:
    if step_id not in STEP_IDS:
        raise LookupError("page")
    index = STEP_IDS.index(step_id)
    step = PATIENT_STEPS[index]
    form = await request.form()
    raw = forms.raw_answers(ctx.kb, form)
    if form.get("go") in {"edit", "back"}:
        # "Change my answers" starts over with every answer kept; "Back" goes one step back.
        target = 0 if form.get("go") == "edit" else max(index - 1, 0)
        return _step_page(request, ctx, PATIENT_STEPS[target], raw, {})
    values, errors = forms.parse_answers(ctx.kb, raw)
    if not errors:
        errors = _case_problems(ctx, values)
    own = {f.id for f in forms.step_facts(ctx.kb, step)}
    if any(k in own for k in errors):
        return _step_page(request, ctx, step, raw, errors, status=422)
    if step.id == STEP_IDS[0] or index == len(STEP_IDS) - 1:
        data = _summary_data(ctx, raw)
        # The emergency rules decide, not this page: an emergency stops the self-check at once.
        level = data["result"]["triage"]["level"]
        emergency = level == Triage.EMERGENCY
        if index == 0 and level == Triage.URGENT and form.get("advised") != "1":
            # "Not sure" on an emergency question: same-day advice before anything else is asked.
            return page(request, "urgent.html", {**data, "carried": raw})
        if emergency or index == len(STEP_IDS) - 1:
            template = "emergency.html" if emergency else "result_patient.html"
            return page(request, template, {**data, "carried": raw})
    return _step_page(request, ctx, PATIENT_STEPS[index + 1], raw, {})


@router.post("/check-summary.pdf", dependencies=[Depends(check_csrf)])
async def summary_pdf(request: Request, ctx: Ctx) -> Response:
    raw = forms.raw_answers(ctx.kb, await request.form())
    data = _summary_data(ctx, raw)
    html = ctx.templates.get_template("pdf_patient.html").render(data)
    pdf = render_pdf(html, STATIC_ROOT)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": 'attachment; filename="fusionwatch-summary.pdf"'},
    )


@router.post("/check-answers.json", dependencies=[Depends(check_csrf)])
async def answers_file(request: Request, ctx: Ctx) -> Response:
    raw = forms.raw_answers(ctx.kb, await request.form())
    values, _ = forms.parse_answers(ctx.kb, raw)
    body = json.dumps(forms.case_data(values), indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={"content-disposition": 'attachment; filename="my-fusion-answers.json"'},
    )


def _step_page(  # noqa: PLR0917 - one call shape, all positional for readability
    request: Request,
    ctx: AppContext,
    step: Step,
    raw: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    facts = forms.step_facts(ctx.kb, step)
    own = {f.id for f in facts}
    fields = forms.build_fields(facts, raw, "patient", errors)
    carried = {k: v for k, v in raw.items() if k not in own}
    number = STEP_IDS.index(step.id) + 1
    return page(
        request,
        "check_step.html",
        {
            "step": step,
            "number": number,
            "total": len(PATIENT_STEPS),
            "fields": fields,
            "carried": carried,
            "errors": {k: v for k, v in errors.items() if k in own},
        },
        status,
    )


def _case_problems(ctx: AppContext, values: dict[str, Any]) -> dict[str, str]:
    try:
        parse_data(forms.case_data(values), ctx.today)
    except CaseError as err:
        return forms.problem_errors(err.problems)
    return {}


def _summary_data(ctx: AppContext, raw: dict[str, str]) -> dict[str, Any]:
    values, _ = forms.parse_answers(ctx.kb, raw)
    case = parse_data(forms.case_data(values), ctx.today)
    result = to_data(assess(case, ctx.kb, ctx.today, ctx.site))
    return {
        "result": result,
        "answers": _answer_list(ctx, raw),
        "static_root": STATIC_ROOT,
    }


def _answer_list(ctx: AppContext, raw: dict[str, str]) -> list[tuple[str, str]]:
    """The person's own answers in their words, for the summary they take to the appointment."""
    rows = []
    for fact in ctx.kb.data.facts:
        if fact.id in raw and fact.patient:
            value = raw[fact.id]
            rows.append(
                (fact.patient, fact.labels.get(value, forms.ANSWER_LABELS.get(value, value)))
            )
    return rows
