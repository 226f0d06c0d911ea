"""The ``fusionwatch fhir`` commands: FHIR Bundles and Questionnaires in and out."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fusionwatch.cli.exits import ExitCode
from fusionwatch.core.errors import CaseError, Problem

if TYPE_CHECKING:
    from fusionwatch.core.site import Site
    from fusionwatch.fhir.caseimport import Imported
    from fusionwatch.fhir.questionnaire import Audience

app = typer.Typer(
    rich_markup_mode=None,
    help="FHIR R4: import Bundles and QuestionnaireResponses, export Questionnaires and rules.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)

AsOf = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Assessment date (default: today)."),
]
Out = Annotated[Path | None, typer.Option("--out", help="Write here instead of printing.")]


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else dt.date.today()


def _write(data: Any, output: Path | None, *, as_yaml: bool = False) -> None:
    import yaml

    text = (
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        if as_yaml
        else json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def read_fhir(path: Path, day: dt.date) -> Imported:
    """A Bundle or QuestionnaireResponse file read into a case; notes go to stderr."""
    from fusionwatch.fhir.caseimport import import_bundle
    from fusionwatch.fhir.questionnaire import import_response
    from fusionwatch.knowledge import load

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CaseError([Problem(str(path), f"cannot be read as JSON ({error})")]) from error
    if not isinstance(data, dict):
        raise CaseError([Problem(str(path), "is not a FHIR resource")])
    kb = load()
    reader = (
        import_response if data.get("resourceType") == "QuestionnaireResponse" else import_bundle
    )
    imported = reader(data, kb, day)
    for note in imported.notes:
        err.print(f"[yellow]{note.source}[/yellow]: {note.reason}", highlight=False)
    return imported


def _fail(where: str, error: CaseError) -> typer.Exit:
    err.print(f"[bold red]{where}: the case was not accepted[/bold red]")
    for problem in error.problems:
        err.print(f"  - {problem.field}: {problem.message}")
    return typer.Exit(ExitCode.INVALID_INPUT)


@app.command("import")
def import_file(
    source: Annotated[Path, typer.Argument(help="A FHIR Bundle or QuestionnaireResponse (JSON).")],
    as_of: AsOf = None,
    output: Out = None,
) -> None:
    """Read FHIR into a case file (YAML); what could not be used is listed on stderr."""
    try:
        imported = read_fhir(source, _day(as_of))
    except CaseError as error:
        raise _fail(str(source), error) from error
    data = imported.case.model_dump(mode="json", exclude_defaults=True)
    _write(data, output, as_yaml=True)


@app.command("export")
def export_file(
    case_file: Annotated[Path, typer.Argument(help="A case file (.json, .yaml).")],
    patient: Annotated[str, typer.Option(help="The Patient id to use.")] = "example",
    as_of: AsOf = None,
    output: Out = None,
) -> None:
    """Write a case file as a FHIR Bundle (Patient, Procedure, Observations)."""
    from fusionwatch.fhir.caseexport import export_case
    from fusionwatch.files.case import read_case
    from fusionwatch.knowledge import load

    try:
        case = read_case(case_file, _day(as_of))
    except CaseError as error:
        raise _fail(str(case_file), error) from error
    _write(export_case(case, load(), patient), output)


@app.command("questionnaire")
def questionnaire_file(
    audience: Annotated[str, typer.Option("--for", help="'patient' or 'clinician'.")] = "patient",
    output: Out = None,
) -> None:
    """The self-check (patient) or the evaluation (clinician) as a FHIR Questionnaire."""
    from fusionwatch.fhir.questionnaire import questionnaire
    from fusionwatch.knowledge import load

    if audience not in ("patient", "clinician"):
        raise typer.BadParameter("must be 'patient' or 'clinician'", param_hint="--for")
    who: Audience = "patient" if audience == "patient" else "clinician"
    _write(questionnaire(load(), who), output)


@app.command("plandefinitions")
def plandefinitions_file(output: Out = None) -> None:
    """Every rule as a FHIR PlanDefinition with its citations, in a Bundle."""
    from fusionwatch.fhir.plandefinition import plan_definitions
    from fusionwatch.knowledge import load

    _write(plan_definitions(load()), output)


def assess_fhir(source: Path, output: Path | None, day: dt.date, site: Site) -> tuple[Any, Any]:
    """Assess a FHIR Bundle; the result Bundle goes to --out; returns the assessment and case."""
    from fusionwatch.core.engine import assess
    from fusionwatch.fhir.assessmentexport import export_assessment
    from fusionwatch.knowledge import load

    try:
        imported = read_fhir(source, day)
        result = assess(imported.case, load(), day, site)
    except CaseError as error:
        raise _fail(str(source), error) from error
    if output is not None:
        _write(export_assessment(result, load(), imported.patient_id or "unknown"), output)
    return result, imported.case
