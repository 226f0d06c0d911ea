"""The ``fusionwatch track`` commands: import outcome scores from CSV, and chart them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fusionwatch.cli.exits import ExitCode
from fusionwatch.core.errors import CaseError

if TYPE_CHECKING:
    from fusionwatch.core.case import Case
    from fusionwatch.core.results import Assessment

app = typer.Typer(
    rich_markup_mode=None,
    help="Follow-up over time: import outcome scores (CSV) and chart them.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

AsOf = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Assessment date (default: today)."),
]


@app.command("import")
def import_scores(  # noqa: PLR0917  (Typer reads each option from a parameter)
    scores: Annotated[Path, typer.Argument(help="CSV: a 'when' column, then score columns.")],
    case_file: Annotated[
        Path | None, typer.Option("--case", help="Merge into this case file (.yaml, .json).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the merged case file here.")
    ] = None,
    surgery_date: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Date of the fusion (when there is no --case)."),
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="Fused region (when there is no --case).")
    ] = None,
    as_of: AsOf = None,
) -> None:
    """Read a score CSV, check it, merge it into a case, and show the recovery patterns."""
    from fusionwatch.core.engine import assess
    from fusionwatch.files.case import parse_data
    from fusionwatch.knowledge import load, load_labels
    from fusionwatch.report import terminal as view
    from fusionwatch.report.view import for_case
    from fusionwatch.settings import Settings

    day = as_of.date() if as_of is not None else dt.date.today()
    try:
        data, added, replaced = _merged(scores, case_file, surgery_date, region, day)
        case = parse_data(data, day)
    except CaseError as error:
        _report(str(scores), error)
        raise typer.Exit(ExitCode.INVALID_INPUT) from error
    result = assess(case, load(), day, Settings().site())
    view.render_section(out, for_case(result, case, load_labels(), "clinician"), "follow_up")
    out.print(f"{added} visits read from {scores}; {replaced} replaced at the same time point.")
    if output is not None:
        _write(output, data)
        out.print(f"Wrote {output}. Next: fusionwatch assess {output}")


@app.command("plot")
def plot(
    case_file: Annotated[Path, typer.Argument(help="A case file with follow_up scores.")],
    output: Annotated[Path, typer.Option("--out", help="Chart file: .svg or .png.")],
    as_of: AsOf = None,
) -> None:
    """Chart each score over time, with the MCID band and the follow-up check points."""
    from fusionwatch.files.case import read_case
    from fusionwatch.report import chart as charts  # matplotlib loads only when charting

    day = as_of.date() if as_of is not None else dt.date.today()
    if output.suffix.lower() not in charts.FORMATS:
        raise typer.BadParameter("must end in .svg or .png", param_hint="--out")
    try:
        result = _assessed(read_case(case_file, day), day)
    except CaseError as error:
        _report(str(case_file), error)
        raise typer.Exit(ExitCode.INVALID_INPUT) from error
    if result.follow_up is None or not result.follow_up.trajectories:
        err.print(f"{case_file} has no follow_up scores to chart.")
        raise typer.Exit(ExitCode.INVALID_INPUT)
    charts.write(result.follow_up, output, title=result.label)
    out.print(f"Wrote {output}.")


def _assessed(case: Case, day: dt.date) -> Assessment:
    from fusionwatch.core.engine import assess
    from fusionwatch.knowledge import load
    from fusionwatch.settings import Settings

    return assess(case, load(), day, Settings().site())


def _merged(
    scores: Path,
    case_file: Path | None,
    surgery: dt.datetime | None,
    region: str | None,
    day: dt.date,
) -> tuple[dict[str, Any], int, int]:
    from fusionwatch.files import scores as scorefile
    from fusionwatch.files.case import parse_data, read_data

    rows = scorefile.read_scores(scores)
    data = read_data(case_file) if case_file is not None else {}
    if case_file is None and (surgery is not None or region is not None):
        given = {"date": surgery.date().isoformat() if surgery else None, "region": region}
        data["surgery"] = {k: v for k, v in given.items() if v is not None}
    surgery_model = parse_data({"surgery": data.get("surgery", {})}, day).surgery
    scorefile.check_against(rows, surgery_model, day)
    visits, replaced = scorefile.merge(list(data.get("follow_up", [])), [v for _, v in rows])
    return {**data, "follow_up": visits}, len(rows), replaced


def _write(path: Path, data: dict[str, Any]) -> None:
    import yaml

    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _report(where: str, error: CaseError) -> None:
    err.print(f"[bold red]{where}: not accepted[/bold red]")
    for problem in error.problems:
        err.print(f"  - {problem.field}: {problem.message}")
