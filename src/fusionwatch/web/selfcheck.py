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

from fusionwatch import locale
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError, NotFoundError
from fusionwatch.core.serialize import to_data
from fusionwatch.core.vocab import Triage
from fusionwatch.files.case import parse_data
from fusionwatch.intake import questionnaire as qn
from fusionwatch.knowledge import load_labels
from fusionwatch.locale import N_, _
from fusionwatch.report.pdf import report_pdf
from fusionwatch.report.view import for_case
from fusionwatch.web import forms
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.forms import PATIENT_STEPS, Step
from fusionwatch.web.language import FIELD as LANG
from fusionwatch.web.pages import STATIC_ROOT, language_of, page
from fusionwatch.web.security import check_csrf

router = APIRouter(include_in_schema=False)
Ctx = Annotated[AppContext, Depends(context)]
STEP_IDS = [s.id for s in PATIENT_STEPS]
RESULT = "result"
# The same-day advice page, shown right after the emergency questions when one is "not sure".
ADVICE = "advice"
# A saved answers file is about 2 KB; anything far larger is not one.
MAX_ANSWERS_FILE = 64 * 1024
NOT_ANSWERED = N_("not answered yet: choose yes, no or not sure")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """The start page, in the language the switch, ?lang= or the browser asks for."""
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
    lang = language_of(request)
    if step_id == RESULT:
        return _result(request, ctx, raw, lang)
    if step_id == ADVICE:
        return _advice(request, ctx, raw, lang)
    return _step_page(request, ctx, _step(step_id), raw, {}, lang=lang)


@router.post("/check/{step_id}", dependencies=[Depends(check_csrf)])
async def submit(request: Request, ctx: Ctx, step_id: str) -> Response:
    step = _step(step_id)
    index = STEP_IDS.index(step_id)
    form = await request.form()
    raw = forms.raw_answers(ctx.kb, form)
    lang = language_of(request, _field(form, LANG))
    if form.get("go") in {"edit", "back"}:
        # "Change my answers" starts over with every answer kept; "Back" goes one step back.
        target = 0 if form.get("go") == "edit" else max(index - 1, 0)
        return _redirect(STEP_IDS[target], raw, lang)
    errors = _step_problems(ctx, step, raw, lang)
    if errors:
        return _step_page(request, ctx, step, raw, errors, status=422, lang=lang)
    if step.id == STEP_IDS[0]:
        stop = _after_emergency_questions(
            request, ctx, step, raw, lang, advised=form.get("advised") == "1"
        )
        if stop is not None:
            return stop
    if index == len(STEP_IDS) - 1:
        return _redirect(RESULT, raw, lang)
    return _redirect(STEP_IDS[index + 1], raw, lang)


def _after_emergency_questions(
    request: Request, ctx: AppContext, step: Step, raw: dict[str, str], lang: str, *, advised: bool
) -> Response | None:
    """Where the emergency step leads, when not simply to the next step."""
    # One yes is enough: the emergency page comes at once, whatever is still blank.
    level = _level(ctx, raw)
    if level == Triage.EMERGENCY:
        return _redirect(RESULT, raw, lang)
    # A blank urgent question never moves on silently; "not sure" is an answer.
    own = sorted(f.id for f in forms.step_facts(ctx.kb, step))
    blank = {f: NOT_ANSWERED for f in own if f not in raw}
    if blank:
        return _step_page(request, ctx, step, raw, blank, status=422, lang=lang)
    if level == Triage.URGENT and not advised:
        # "Not sure" on an emergency question: same-day advice before anything else is asked.
        return _redirect(ADVICE, raw, lang)
    return None


@router.post("/check-load", dependencies=[Depends(check_csrf)])
async def load_answers(request: Request, ctx: Ctx) -> Response:
    """Load a saved answers file back: the first step again, every answer filled in."""
    form = await request.form()
    lang = language_of(request, _field(form, LANG))
    try:
        upload = form.get("answers")
        text = await upload.read(MAX_ANSWERS_FILE + 1) if isinstance(upload, UploadFile) else b""
    finally:
        await form.close()
    with locale.using(lang):
        raw, problem = _saved_answers(ctx, text)
    if problem is not None:
        return _step_page(
            request, ctx, PATIENT_STEPS[0], {}, {}, 422, load_error=problem, lang=lang
        )
    return _redirect(STEP_IDS[0], raw, lang)


@router.post("/check-summary.pdf", dependencies=[Depends(check_csrf)])
async def summary_pdf(request: Request, ctx: Ctx) -> Response:
    form = await request.form()
    raw = forms.raw_answers(ctx.kb, form)
    lang = language_of(request, _field(form, LANG))

    # Anonymous and slow (a second of CPU): off the event loop, a bounded number at once,
    # the PDF in a separate process (a module-level function, so that it pickles).
    report = await run_in_threadpool(lambda: _summary_data(ctx, raw, lang)["report"])
    pdf = await ctx.pdfs.run(partial(_pdf_in, lang, report))
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
    lang: str = locale.SOURCE,
) -> HTMLResponse:
    facts = forms.step_facts(ctx.kb_in(lang), step)
    own = {f.id for f in facts}
    with locale.using(lang):
        fields = forms.build_fields(facts, raw, "patient", errors)
        unanswered = [f for f in fields if f.error == NOT_ANSWERED]
        for f in unanswered:
            f.error = _(NOT_ANSWERED)
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
            "unanswered": unanswered,
            "load_error": load_error,
            "max_file_kb": MAX_ANSWERS_FILE // 1024,
        },
        status,
        lang=lang,
        here=(f"/check/{step.id}", raw),
    )


def _step(step_id: str) -> Step:
    if step_id not in STEP_IDS:
        raise NotFoundError("page")
    return PATIENT_STEPS[STEP_IDS.index(step_id)]


def _redirect(target: str, raw: dict[str, str], lang: str) -> RedirectResponse:
    # 303: the browser fetches the next page with GET, so Back never resends a form.
    # The language is kept in the address too, so the walk stays in the language chosen.
    query = urlencode({**raw, LANG: lang} if lang != locale.SOURCE else raw)
    return RedirectResponse(f"/check/{target}" + (f"?{query}" if query else ""), status_code=303)


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _step_problems(
    ctx: AppContext, step: Step, raw: dict[str, str], lang: str = locale.SOURCE
) -> dict[str, str]:
    """This step's problems: unreadable text and impossible values, in the page's language."""
    with locale.using(lang):
        values, errors = forms.parse_answers(ctx.kb, raw)
        if not errors:
            errors = _case_problems(ctx, values)
            if lang != locale.SOURCE:
                # The case model explains in English (clinicians and files read it); a patient
                # reading another language gets the allowed range, or a plain request to check.
                errors = {k: _other_language_problem(k, values.get(k)) for k in errors}
    own = {f.id for f in forms.step_facts(ctx.kb, step)}
    return {k: v for k, v in errors.items() if k in own}


def _other_language_problem(fact_id: str, value: Any) -> str:
    plain = _("this answer is not possible here: please check it")
    return qn.range_problem(fact_id, value) or plain


def _level(ctx: AppContext, raw: dict[str, str]) -> str:
    # The emergency rules decide, not this page: an emergency stops the self-check at once.
    return str(_summary_data(ctx, raw)["result"]["triage"]["level"])


def _advice(request: Request, ctx: AppContext, raw: dict[str, str], lang: str) -> HTMLResponse:
    """Same-day advice (issue 11); its form goes on to the next step with ``advised=1``."""
    errors = _step_problems(ctx, PATIENT_STEPS[0], raw, lang)
    if errors:
        return _step_page(request, ctx, PATIENT_STEPS[0], raw, errors, status=422, lang=lang)
    data = _summary_data(ctx, raw, lang)
    level = data["result"]["triage"]["level"]
    here = (f"/check/{ADVICE}", raw)
    if level == Triage.EMERGENCY:
        return page(request, "emergency.html", {**data, "carried": raw}, lang=lang, here=here)
    if level != Triage.URGENT:
        # Nothing same-day to say (an address edited by hand): go on with the questions.
        return _step_page(request, ctx, PATIENT_STEPS[1], raw, {}, lang=lang)
    return page(request, "urgent.html", {**data, "carried": raw}, lang=lang, here=here)


def _result(request: Request, ctx: AppContext, raw: dict[str, str], lang: str) -> HTMLResponse:
    for step in PATIENT_STEPS:
        errors = _step_problems(ctx, step, raw, lang)
        if errors:
            return _step_page(request, ctx, step, raw, errors, status=422, lang=lang)
    data = _summary_data(ctx, raw, lang)
    emergency = data["result"]["triage"]["level"] == Triage.EMERGENCY
    template = "emergency.html" if emergency else "result_patient.html"
    here = (f"/check/{RESULT}", raw)
    return page(request, template, {**data, "carried": raw}, lang=lang, here=here)


def _saved_answers(ctx: AppContext, text: bytes) -> tuple[dict[str, str], str | None]:
    """The answers in a file saved by "Save my answers", or why it cannot be loaded."""
    if not text:
        return {}, _("Choose the file you saved before (it is called my-fusion-answers.json).")
    if len(text) > MAX_ANSWERS_FILE:
        too_large = _("This file is larger than a saved answers file can be (%(kb)s KB).")
        return {}, too_large % {"kb": MAX_ANSWERS_FILE // 1024}
    try:
        data = json.loads(text.decode("utf-8"))
    except ValueError:
        return {}, _("This is not a saved answers file: it could not be read.")
    patient = {f.id for step in PATIENT_STEPS for f in forms.step_facts(ctx.kb, step)}
    flat = forms.case_raw(data) if isinstance(data, dict) else {}
    raw = {k: v for k, v in forms.raw_answers(ctx.kb, flat).items() if k in patient}
    if not raw:
        return {}, _("This file holds no answers from this self-check.")
    return raw, None


def _case_problems(ctx: AppContext, values: dict[str, Any]) -> dict[str, str]:
    try:
        parse_data(forms.case_data(values), ctx.today)
    except CaseError as err:
        return forms.problem_errors(err.problems)
    return {}


def _pdf_in(lang: str, report: Any) -> bytes:
    """The self-check summary as a PDF in ``lang`` (run in a PDF process)."""
    with locale.using(lang):
        return report_pdf(report, appendix=True)


def _summary_data(
    ctx: AppContext, raw: dict[str, str], lang: str = locale.SOURCE
) -> dict[str, Any]:
    """The assessment of the answers; its patient texts in ``lang``, its clinician texts English."""
    values, _errors = forms.parse_answers(ctx.kb, raw)
    case = parse_data(forms.case_data(values), ctx.today)
    kb = ctx.kb_in(lang)
    assessment = assess(case, kb, ctx.today, ctx.site)
    with locale.using(lang):
        report = for_case(assessment, case, load_labels(lang), "patient")
        answers = _answer_list(kb, raw)
    return {
        "result": to_data(assessment),
        "report": report,
        "answers": answers,
        "static_root": STATIC_ROOT,
    }


def _answer_list(kb: Knowledge, raw: dict[str, str]) -> list[tuple[str, str]]:
    """The person's own answers in their words, for the summary they take to the appointment."""
    rows = []
    for fact in kb.data.facts:
        if fact.id in raw and fact.patient:
            value = raw[fact.id]
            label = fact.labels.get(value) or _(forms.ANSWER_LABELS.get(value, value))
            rows.append((fact.patient, label))
    return rows
