"""The ``fusionwatch check`` command: the interactive self-check, in the reader's language.

Emergency questions first (one yes stops the check; a "not sure" gives same-day advice at once),
then the rest, then the result. Every line a patient reads comes from the knowledge base in the
chosen language or from the interface catalogue (decision 0013).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from fusionwatch.cli.exits import ExitCode
from fusionwatch.core.errors import CaseError

if TYPE_CHECKING:
    from fusionwatch.core.compiled import Knowledge
    from fusionwatch.core.errors import Problem
    from fusionwatch.core.site import Site
    from fusionwatch.intake.questionnaire import Question


def _(message: str) -> str:
    """The interface catalogue, loaded when the check runs (Babel is slow to import for --help)."""
    from fusionwatch.locale import gettext

    return gettext(message)


out = Console()
err = Console(stderr=True)
Who = Literal["patient", "clinician"]


def language(value: str, audience: Who) -> str:
    """``--lang``, checked: an offered language; another than English only for a patient."""
    from fusionwatch import locale

    allowed = locale.offered()
    if value not in allowed:
        raise typer.BadParameter(
            f"{value!r} is not a language of fusionwatch; use one of: {', '.join(allowed)}",
            param_hint="--lang",
        )
    if value != locale.SOURCE and audience != "patient":
        raise typer.BadParameter(
            "the clinician's wording is in English only; other languages are for the patient",
            param_hint="--lang",
        )
    return value


def run(kb: Knowledge, day: dt.date, who: Who, save: Path | None, site: Site) -> None:
    """The whole walk, in the language of ``locale.using(...)`` around it."""
    from rich.panel import Panel

    from fusionwatch.intake import questionnaire as qn

    out.print(Panel(_disclaimer(kb), title=_("Before you start"), border_style="dim"))
    _say(_("First, a few emergency questions."), "bold")
    answers: dict[str, Any] = {}
    advised = False
    for question in qn.emergency_questions(kb, who):
        answers[question.fact.id] = _ask(question)
        if answers[question.fact.id] == "yes":
            _show_triage(kb, answers, day, who, site)
            return
        if answers[question.fact.id] == "not_sure" and not advised:
            # Same-day advice at once, before anything else is asked (issue 11).
            _show_triage(kb, answers, day, who, site)
            advised = True
            _say(_("The remaining emergency questions still matter:"), "bold")
    if advised and not _confirm(_("Continue with the other questions?")):
        return
    out.print()
    _say(_("Now some questions about your surgery, symptoms and health."), "bold")
    _say(_("Press Enter to skip anything you do not know."), "dim")
    for question in qn.other_questions(kb, who):
        if qn.should_ask(kb, question, answers):
            answers[question.fact.id] = _ask(question)
    _finish(kb, answers, day, who, save, site)


def _ask(question: Question) -> Any:
    from fusionwatch.intake import questionnaire as qn

    while True:
        raw = typer.prompt(f"{question.text} [{question.hint}]", default="", show_default=False)
        try:
            return qn.parse(question, raw)
        except ValueError as problem:
            _say(str(problem), "red")


def _confirm(text: str) -> bool:
    """Yes or no, Enter meaning yes, in the words of the current language (typer's are English)."""
    from fusionwatch.intake import questionnaire as qn

    keys = _("Y/n")
    while True:
        typed = typer.prompt(f"{text} [{keys}]", default="", show_default=False)
        if typed.strip() == "" or qn.parse_yes_no(typed) is True:
            return True
        if qn.parse_yes_no(typed) is False:
            return False
        _say(_("please answer y (yes) or n (no)"), "red")


def _report(kb: Knowledge, answers: dict[str, Any], day: dt.date, who: Who, site: Site) -> Any:
    from fusionwatch import locale
    from fusionwatch.core.engine import assess
    from fusionwatch.files.case import parse_data
    from fusionwatch.intake import questionnaire as qn
    from fusionwatch.knowledge import load_labels
    from fusionwatch.report.view import for_case

    case = parse_data(qn.to_case_data(answers), day)
    return for_case(assess(case, kb, day, site), case, load_labels(locale.current()), who)


def _show_triage(
    kb: Knowledge, answers: dict[str, Any], day: dt.date, who: Who, site: Site
) -> None:
    from rich.panel import Panel

    from fusionwatch.report import terminal as view

    report = _report(kb, answers, day, who, site)
    out.print()
    if report.stopped_at_emergency:
        view.render(out, report)
        return
    # Same-day advice in the middle of the check: only the answer (what, by when, why).
    out.print(view.answer(report))
    out.print(Panel(report.disclaimer, border_style="dim"))


def _finish(  # noqa: PLR0917 - the walk's state, passed on as it is
    kb: Knowledge, answers: dict[str, Any], day: dt.date, who: Who, save: Path | None, site: Site
) -> None:
    import yaml

    from fusionwatch.files.case import parse_data
    from fusionwatch.intake import questionnaire as qn
    from fusionwatch.report import terminal as view

    data = qn.to_case_data(answers)
    try:
        parse_data(data, day)
    except CaseError as error:
        _answer_problems(kb, error.problems, answers)
        raise typer.Exit(ExitCode.INVALID_INPUT) from error
    if save is not None:
        save.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        _say(_("Saved your answers to %(file)s.") % {"file": save}, "dim")
    out.print()
    view.render(out, _report(kb, answers, day, who, site))


def _answer_problems(kb: Knowledge, problems: list[Problem], answers: dict[str, Any]) -> None:
    """Answers the case model refused, named by their question, in the reader's language."""
    from fusionwatch import locale
    from fusionwatch.intake import questionnaire as qn

    facts = {f.id: f for f in kb.data.facts}
    err.print(Text(_("Some answers are not possible; please check them:"), style="bold red"))
    for problem in problems:
        fact = facts.get(problem.field)
        asked = (fact.patient or fact.clinician) if fact is not None else problem.field
        # The case model explains in English (files and clinicians read it); another language
        # gets the allowed range, or a plain request to check the answer.
        why = problem.message
        if locale.current() != locale.SOURCE:
            plain = _("this answer is not possible here: please check it")
            why = qn.range_problem(problem.field, answers.get(problem.field)) or plain
        err.print(f"  - {escape(asked)}: {escape(why)}")


def _say(text: str, style: str) -> None:
    out.print(Text(text, style=style))


def _disclaimer(kb: Knowledge) -> str:
    return kb.education_items[kb.disclaimers["patient"]].body


Mode = Annotated[str, typer.Option(help="'patient' (plain words) or 'clinician'.")]
Save = Annotated[
    Path | None, typer.Option(help="Save the answers as a case file (only if you choose to).")
]
Lang = Annotated[str, typer.Option("--lang", help="Language of the check: en, es (patient only).")]
