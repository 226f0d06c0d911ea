"""The fusionwatch command line: each command parses, calls one function, prints."""

from __future__ import annotations

import datetime as dt
import json
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console

from fusionwatch.cli import fhir as fhir_cli
from fusionwatch.cli import imaging as imaging_cli
from fusionwatch.cli import screen as screen_cli
from fusionwatch.cli import selfcheck
from fusionwatch.cli import server as server_cli
from fusionwatch.cli import track as track_cli
from fusionwatch.cli.exits import ExitCode
from fusionwatch.cli.site import StimulatorPolicy, site_for
from fusionwatch.core.errors import CaseError, KnowledgeError

if TYPE_CHECKING:
    from fusionwatch.report.view import Report

# Plain help text (rich_markup_mode=None on every Typer): rich's help renderer alone costs more
# than the whole start-up target. Lazy imports: each command loads the engine, knowledge, files
# and renderers it needs when it runs, so `--help` starts fast (docs/performance.md).
__all__ = ["ExitCode", "app", "main"]


app = typer.Typer(
    rich_markup_mode=None,
    help="Explained triage and care pathway for suspected nonunion after spinal fusion.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(server_cli.serve)
app.add_typer(server_cli.users, name="users")
app.add_typer(server_cli.tokens, name="tokens")
app.add_typer(server_cli.database, name="db")
app.add_typer(server_cli.teams_cli, name="teams")
app.add_typer(track_cli.app, name="track")
app.add_typer(imaging_cli.app, name="imaging")
app.add_typer(fhir_cli.app, name="fhir")
app.command("screen")(screen_cli.screen)
out = Console()
err = Console(stderr=True)

AsOf = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Assessment date (default: today)."),
]
Audience = Annotated[
    str, typer.Option("--for", help="Write the report for a 'patient' or a 'clinician'.")
]
FORMATS = ("terminal", "markdown", "pdf")


def _as_of(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else dt.date.today()


def _audience(value: str) -> Literal["patient", "clinician"]:
    if value not in ("patient", "clinician"):
        raise typer.BadParameter("must be 'patient' or 'clinician'", param_hint="--for")
    return "patient" if value == "patient" else "clinician"


@app.command("assess")
def assess_files(
    files: Annotated[list[Path] | None, typer.Argument(help="Case files (.json, .yaml).")] = None,
    *,
    fhir: Annotated[Path | None, typer.Option("--fhir", help="A FHIR Bundle instead.")] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the report here (--format markdown or pdf); with --fhir and the "
            "terminal format, the FHIR result Bundle.",
        ),
    ] = None,
    report_format: Annotated[
        str, typer.Option("--format", help="terminal (default), markdown or pdf.")
    ] = "terminal",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    as_of: AsOf = None,
    audience: Audience = "clinician",
    policy: StimulatorPolicy = None,
    motion_cutoff: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            max=45,
            help="Override the site's angular motion cut-off in degrees for this run.",
        ),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of a patient's report: en, es.")
    ] = "en",
) -> None:
    """Assess one or more case files and explain each result."""
    from fusionwatch import locale

    reader = _audience(audience)
    code = selfcheck.language(lang, reader)
    with locale.using(code):
        _assess_files(files, fhir, output, report_format, as_json, as_of, reader, policy,
                      motion_cutoff)  # fmt: skip


def _assess_files(  # noqa: PLR0917 - the command's options, passed on as they are
    files: list[Path] | None,
    fhir: Path | None,
    output: Path | None,
    report_format: str,
    as_json: bool,
    as_of: dt.datetime | None,
    reader: Literal["patient", "clinician"],
    policy: str | None,
    motion_cutoff: float | None,
) -> None:
    from fusionwatch import locale
    from fusionwatch.core.engine import assess
    from fusionwatch.core.serialize import to_data
    from fusionwatch.files.case import read_case
    from fusionwatch.knowledge import load_labels
    from fusionwatch.knowledge.loader import load_in
    from fusionwatch.report import terminal as view
    from fusionwatch.report.view import for_case

    kb, day = load_in(locale.current()), _as_of(as_of)
    site = site_for(kb, policy, motion_cutoff)
    results: list[dict[str, Any]] = []
    failed = False
    files = [fhir] if fhir is not None else (files or [])
    _check_output(files, report_format, output)
    bundle_out = output if report_format == "terminal" else None
    for path in files:
        try:
            if fhir is not None:
                result, case = fhir_cli.assess_fhir(path, bundle_out, day, site)
            else:
                case = read_case(path, day)
                result = assess(case, kb, day, site)
        except CaseError as error:
            failed = True
            _report_problems(str(path), error)
            continue
        if as_json:
            results.append({"file": str(path), **to_data(result)})
            continue
        report = for_case(result, case, load_labels(locale.current()), reader)
        if report_format == "terminal":
            out.rule(f"[bold]{path}")
            view.render(out, report)
        else:
            _write_report(report, report_format, output)
    if as_json:
        payload = results[0] if len(results) == 1 and len(files) == 1 else results
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    if failed:
        raise typer.Exit(ExitCode.INVALID_INPUT)


@app.command("settings")
def show_settings() -> None:
    """The site's choices (set once per deployment with FUSIONWATCH_* variables)."""
    from rich.table import Table

    from fusionwatch.knowledge import load
    from fusionwatch.settings import Settings, site_rows

    kb = load()
    policies = {p.policy.id: p.policy.title for p in kb.policies.values()}
    table = Table("Setting", "Value", "Meaning", "Source", "Allowed", title="Site settings")
    line = kb.data.messages["site.urgent_line"].patient
    for row in site_rows(Settings(), policies, kb.thresholds["motion.angular"], line):
        table.add_row(row["variable"], row["value"], row["shown"], row["source"], row["choices"])
    out.print(table)


def _check_output(files: list[Path], report_format: str, output: Path | None) -> None:
    if not files:
        raise typer.BadParameter("give case files, or --fhir BUNDLE.json", param_hint="FILES")
    if report_format not in FORMATS:
        raise typer.BadParameter(f"must be one of: {', '.join(FORMATS)}", param_hint="--format")
    if report_format == "pdf" and output is None:
        raise typer.BadParameter("a PDF needs --out FILE.pdf", param_hint="--out")
    if report_format != "terminal" and output is not None and len(files) > 1:
        raise typer.BadParameter("--out takes the report of one case", param_hint="--out")


def _write_report(report: Report, report_format: str, output: Path | None) -> None:
    if report_format == "markdown":
        from fusionwatch.report import markdown  # loaded only when asked for

        text = markdown.render(report)
        if output is None:
            sys.stdout.write(text)
            return
        output.write_text(text, encoding="utf-8")
    else:
        from fusionwatch.report.pdf import report_pdf  # WeasyPrint is slow to load

        assert output is not None  # checked by _check_output
        output.write_bytes(report_pdf(report))
    from fusionwatch.locale import _

    err.print(_("Wrote %(file)s.") % {"file": output})


@app.command()
def check(
    mode: selfcheck.Mode = "patient",
    save: selfcheck.Save = None,
    as_of: AsOf = None,
    lang: selfcheck.Lang = "en",
) -> None:
    """An interactive self-check: emergency questions first, then the rest, then the result."""
    from fusionwatch import locale
    from fusionwatch.knowledge.loader import load_in

    who = _audience(mode)
    code = selfcheck.language(lang, who)
    with locale.using(code):
        kb = load_in(code)
        selfcheck.run(kb, _as_of(as_of), who, save, site_for(kb, None))


@app.command()
def rules(
    output: Annotated[Path | None, typer.Option("--out", help="Write the rulebook here.")] = None,
    check_file: Annotated[
        Path | None, typer.Option("--check", help="Fail if this file is stale.")
    ] = None,
    show_coverage: Annotated[
        bool, typer.Option("--coverage", help="Render the article coverage map instead.")
    ] = False,
) -> None:
    """Render the rulebook (every rule with its evidence and worked cases) as Markdown."""
    from fusionwatch.knowledge import load
    from fusionwatch.report import rulebook

    text = rulebook.coverage(load()) if show_coverage else rulebook.render(load())
    if check_file is not None:
        current = check_file.read_text(encoding="utf-8") if check_file.exists() else ""
        if current != text:
            err.print(f"{check_file} is stale: run `fusionwatch rules --out {check_file}`")
            raise typer.Exit(ExitCode.STALE)
        out.print(f"{check_file} is up to date.")
    elif output is not None:
        output.write_text(text, encoding="utf-8")
        out.print(f"Wrote {output}.")
    else:
        sys.stdout.write(text)


@app.command()
def explain(
    term: Annotated[str, typer.Argument(help="A word such as 'pseudarthrosis'.")],
    lang: Annotated[str, typer.Option("--lang", help="Language of the text: en, es.")] = "en",
) -> None:
    """Explain a term or answer a common question from the glossary, FAQ and myths."""
    from rich.markdown import Markdown
    from rich.panel import Panel

    from fusionwatch.knowledge import load

    kb = load()
    if lang not in kb.languages:
        err.print(f"No texts in {lang!r}. Languages: {', '.join(kb.languages)}.")
        raise typer.Exit(ExitCode.INVALID_INPUT)
    entries = _education_names(kb, lang)
    needle = _folded(term)
    hits = [item for item, names in entries if needle in names]
    hits = hits or [item for item, names in entries if needle in names[0] or needle in names[1]]
    if not hits:
        glossary = (item.title for item, _ in entries if item.kind == "glossary")
        err.print(f"No entry for {term!r}. Try one of: " + ", ".join(glossary))
        raise typer.Exit(ExitCode.NOT_FOUND)
    for item in hits:
        cites = ", ".join(s.cite for s in item.sources)
        out.print(Panel(Markdown(item.body), title=item.title, subtitle=cites))


def _education_names(kb: Any, lang: str) -> list[tuple[Any, tuple[str, ...]]]:
    """Each education item in ``lang`` with the names it is found by: id, title, aliases.

    In another language the English names find it too, so a clinician's word works for a patient.
    """
    texts = {t.id: t for t in kb.data.translations.get(lang, ())}
    entries = []
    for source in kb.data.education:
        text = texts.get(source.id, source)
        names = (source.id, text.title, *text.aliases, source.title, *source.aliases)
        entries.append((kb.education_item(source.id, lang), tuple(map(_folded, names))))
    return entries


def _folded(text: str) -> str:
    """Lower case without accents, so 'fusion' finds 'fusión'."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.strip().lower()) if c.isascii())


@app.command()
def schema() -> None:
    """Print the JSON Schema of a case file."""
    from fusionwatch.core.case import Case

    sys.stdout.write(json.dumps(Case.model_json_schema(), indent=2) + "\n")


def _report_problems(where: str, error: CaseError) -> None:
    err.print(f"[bold red]{where}: the case was not accepted[/bold red]")
    for problem in error.problems:
        err.print(f"  - {problem.field}: {problem.message}")


def main() -> None:
    """Console-script entry point; knowledge errors become a readable message and exit code."""
    try:
        app()
    except KnowledgeError as error:
        err.print(f"[bold red]{error}[/bold red]")
        sys.exit(ExitCode.KNOWLEDGE)
