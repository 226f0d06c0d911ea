"""The patient self-check: emergency questions first, then three short steps, then the result.

Nothing is stored on the server: each step is posted, checked, and answered with a redirect to the
next step's address, which carries the answers so far (Post/Redirect/Get: the Back button works).
The result, the PDF and the answers file are rebuilt from what the browser sends; a saved answers
file can be loaded back. Decisions 0005 and 0012; the same-day advice step, 0009.
"""

import json
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError, NotFoundError
from fusionwatch.core.serialize import to_data
from fusionwatch.core.vocab import Triage
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load_labels
from fusionwatch.report.pdf import report_pdf
from fusionwatch.report.view import for_case
from fusionwatch.web import forms
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.forms import PATIENT_STEPS, Step
from fusionwatch.web.pages import STATIC_ROOT, page
from fusionwatch.web.security import check_csrf

router = APIRouter(include_in_schema=False)
Ctx = Annotated[AppContext, Depends(context)]
STEP_IDS = [s.id for s in PATIENT_STEPS]
RESULT = "result"
# The same-day advice page, shown right after the emergency questions when one is "not sure".
ADVICE = "advice"
# A saved answers file is about 2 KB; anything far larger is not one.
MAX_ANSWERS_FILE = 64 * 1024
NOT_ANSWERED = "not answered yet: choose yes, no or not sure"


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return page(request, "home.html", {})


@router.get("/check", response_class=HTMLResponse)
def start(request: Request, ctx: Ctx) -> Response:
    return show(request, ctx, STEP_IDS[0])


@router.get("/check/{step_id}", response_class=HTMLResponse)
def show(request: Request, ctx: Ctx, step_id: str) -> Response:
    """A step, or the result, drawn from the answers in the address (Post/Redirect/Get).

    Every step is a plain GET page, so the browser's Back button returns to it without asking to
    resend a form. The answers travel in the address only; nothing is kept on the server.
    """
    raw = forms.raw_answers(ctx.kb, request.query_params)
    if step_id == RESULT:
        return _result(request, ctx, raw)
    if step_id == ADVICE:
        return _advice(request, ctx, raw)
    return _step_page(request, ctx, _step(step_id), raw, {})


@router.post("/check/{step_id}", dependencies=[Depends(check_csrf)])
async def submit(request: Request, ctx: Ctx, step_id: str) -> Response:
    step = _step(step_id)
    index = STEP_IDS.index(step_id)
    form = await request.form()
    raw = forms.raw_answers(ctx.kb, form)
    if form.get("go") in {"edit", "back"}:
        # "Change my answers" starts over with every answer kept; "Back" goes one step back.
        target = 0 if form.get("go") == "edit" else max(index - 1, 0)
        return _redirect(STEP_IDS[target], raw)
    errors = _step_problems(ctx, step, raw)
    if errors:
        return _step_page(request, ctx, step, raw, errors, status=422)
    if step.id == STEP_IDS[0]:
        stop = _after_emergency_questions(
            request, ctx, step, raw, advised=form.get("advised") == "1"
        )
        if stop is not None:
            return stop
    if index == len(STEP_IDS) - 1:
        return _redirect(RESULT, raw)
    return _redirect(STEP_IDS[index + 1], raw)


def _after_emergency_questions(
    request: Request, ctx: AppContext, step: Step, raw: dict[str, str], *, advised: bool
) -> Response | None:
    """Where the emergency step leads, when not simply to the next step."""
    # One yes is enough: the emergency page comes at once, whatever is still blank.
    level = _level(ctx, raw)
    if level == Triage.EMERGENCY:
        return _redirect(RESULT, raw)
    # A blank urgent question never moves on silently; "not sure" is an answer.
    own = sorted(f.id for f in forms.step_facts(ctx.kb, step))
    blank = {f: NOT_ANSWERED for f in own if f not in raw}
    if blank:
        return _step_page(request, ctx, step, raw, blank, status=422)
    if level == Triage.URGENT and not advised:
        # "Not sure" on an emergency question: same-day advice before anything else is asked.
        return _redirect(ADVICE, raw)
    return None


@router.post("/check-load", dependencies=[Depends(check_csrf)])
async def load_answers(request: Request, ctx: Ctx) -> Response:
    """Load a saved answers file back: the first step again, every answer filled in."""
    form = await request.form()
    try:
        upload = form.get("answers")
        text = await upload.read(MAX_ANSWERS_FILE + 1) if isinstance(upload, UploadFile) else b""
    finally:
        await form.close()
    raw, problem = _saved_answers(ctx, text)
    if problem is not None:
        return _step_page(request, ctx, PATIENT_STEPS[0], {}, {}, 422, load_error=problem)
    return _redirect(STEP_IDS[0], raw)


@router.post("/check-summary.pdf", dependencies=[Depends(check_csrf)])
async def summary_pdf(request: Request, ctx: Ctx) -> Response:
    raw = forms.raw_answers(ctx.kb, await request.form())
    # Anonymous and slow (a second of CPU): off the event loop, a bounded number at once.
    report = await run_in_threadpool(lambda: _summary_data(ctx, raw)["report"])
    pdf = await ctx.pdfs.run(partial(report_pdf, report, appendix=True))
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
    *,
    load_error: str | None = None,
) -> HTMLResponse:
    facts = forms.step_facts(ctx.kb, step)
    own = {f.id for f in facts}
    fields = forms.build_fields(facts, raw, "patient", errors)
    carried = {k: v for k, v in raw.items() if k not in own}
    number = STEP_IDS.index(step.id) + 1
    unanswered = [f for f in fields if f.error == NOT_ANSWERED]
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
            "unanswered": unanswered,
            "load_error": load_error,
            "max_file_kb": MAX_ANSWERS_FILE // 1024,
        },
        status,
    )


def _step(step_id: str) -> Step:
    if step_id not in STEP_IDS:
        raise NotFoundError("page")
    return PATIENT_STEPS[STEP_IDS.index(step_id)]


def _redirect(target: str, raw: dict[str, str]) -> RedirectResponse:
    # 303: the browser fetches the next page with GET, so Back never resends a form.
    query = urlencode(raw)
    return RedirectResponse(f"/check/{target}" + (f"?{query}" if query else ""), status_code=303)


def _step_problems(ctx: AppContext, step: Step, raw: dict[str, str]) -> dict[str, str]:
    """This step's problems: unreadable text and impossible values."""
    values, errors = forms.parse_answers(ctx.kb, raw)
    if not errors:
        errors = _case_problems(ctx, values)
    own = {f.id for f in forms.step_facts(ctx.kb, step)}
    return {k: v for k, v in errors.items() if k in own}


def _level(ctx: AppContext, raw: dict[str, str]) -> str:
    # The emergency rules decide, not this page: an emergency stops the self-check at once.
    return str(_summary_data(ctx, raw)["result"]["triage"]["level"])


def _advice(request: Request, ctx: AppContext, raw: dict[str, str]) -> HTMLResponse:
    """Same-day advice (issue 11); its form goes on to the next step with ``advised=1``."""
    errors = _step_problems(ctx, PATIENT_STEPS[0], raw)
    if errors:
        return _step_page(request, ctx, PATIENT_STEPS[0], raw, errors, status=422)
    data = _summary_data(ctx, raw)
    level = data["result"]["triage"]["level"]
    if level == Triage.EMERGENCY:
        return page(request, "emergency.html", {**data, "carried": raw})
    if level != Triage.URGENT:
        # Nothing same-day to say (an address edited by hand): go on with the questions.
        return _step_page(request, ctx, PATIENT_STEPS[1], raw, {})
    return page(request, "urgent.html", {**data, "carried": raw})


def _result(request: Request, ctx: AppContext, raw: dict[str, str]) -> HTMLResponse:
    for step in PATIENT_STEPS:
        errors = _step_problems(ctx, step, raw)
        if errors:
            return _step_page(request, ctx, step, raw, errors, status=422)
    data = _summary_data(ctx, raw)
    emergency = data["result"]["triage"]["level"] == Triage.EMERGENCY
    template = "emergency.html" if emergency else "result_patient.html"
    return page(request, template, {**data, "carried": raw})


def _saved_answers(ctx: AppContext, text: bytes) -> tuple[dict[str, str], str | None]:
    """The answers in a file saved by "Save my answers", or why it cannot be loaded."""
    if not text:
        return {}, "Choose the file you saved before (it is called my-fusion-answers.json)."
    if len(text) > MAX_ANSWERS_FILE:
        return (
            {},
            f"This file is larger than a saved answers file can be "
            f"({MAX_ANSWERS_FILE // 1024} KB).",
        )
    try:
        data = json.loads(text.decode("utf-8"))
    except ValueError:
        return {}, "This is not a saved answers file: it could not be read."
    patient = {f.id for step in PATIENT_STEPS for f in forms.step_facts(ctx.kb, step)}
    flat = forms.case_raw(data) if isinstance(data, dict) else {}
    raw = {k: v for k, v in forms.raw_answers(ctx.kb, flat).items() if k in patient}
    if not raw:
        return {}, "This file holds no answers from this self-check."
    return raw, None


def _case_problems(ctx: AppContext, values: dict[str, Any]) -> dict[str, str]:
    try:
        parse_data(forms.case_data(values), ctx.today)
    except CaseError as err:
        return forms.problem_errors(err.problems)
    return {}


def _summary_data(ctx: AppContext, raw: dict[str, str]) -> dict[str, Any]:
    values, _ = forms.parse_answers(ctx.kb, raw)
    case = parse_data(forms.case_data(values), ctx.today)
    assessment = assess(case, ctx.kb, ctx.today, ctx.site)
    return {
        "result": to_data(assessment),
        "report": for_case(assessment, case, load_labels(), "patient"),
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
