"""``fusionwatch screen``: a whole registry or extract through the rules, as a ranked worklist.

The default output is an aggregate summary with small cells suppressed, safe to share; a
patient-level worklist needs ``--patient-level``. DuckDB and pyarrow are imported only here, so
other commands start fast.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fusionwatch.cli.exits import ExitCode
from fusionwatch.cli.site import StimulatorPolicy, site_for
from fusionwatch.core.site import Site
from fusionwatch.knowledge import load

out = Console()
err = Console(stderr=True)


class Format(StrEnum):
    REGISTRY = "registry"
    OMOP = "omop"
    FHIR_BULK = "fhir-bulk"


class Engine(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"


def screen(
    source: Annotated[Path, typer.Argument(help="A registry folder (episodes + visits) or file.")],
    *,
    fmt: Annotated[Format, typer.Option("--format", help="Layout of the input.")] = Format.REGISTRY,
    output: Annotated[
        Path | None, typer.Option("--out", help="Worklist file (.parquet or .csv).")
    ] = None,
    patient_level: Annotated[
        bool, typer.Option("--patient-level", help="Allow one row per person in --out.")
    ] = False,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="Write the summary (.csv or .parquet).")
    ] = None,
    engine: Annotated[Engine, typer.Option(help="Where the rules run.")] = Engine.DUCKDB,
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="Spark master URL (with --engine spark).")
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Screening date (default: today)."),
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(
            "--save-to-team",
            help="Also save the worklist in this care team's workspace (FUSIONWATCH_DATABASE_URL), "
            "where its members can page, filter and open each episode. Needs --patient-level "
            "and --user.",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="The account saving the run: a clinician or administrator."),
    ] = None,
    policy: StimulatorPolicy = None,
) -> None:
    """Screen a cohort: triage, suspicion, reasons and open questions for every episode."""
    # Imported here so that other commands do not pay for DuckDB at start-up.
    import duckdb

    from fusionwatch.screen.errors import ScreenInputError
    from fusionwatch.screen.fhirbulk import load_fhir_bulk
    from fusionwatch.screen.omop import load_omop
    from fusionwatch.screen.registry import load_registry
    from fusionwatch.screen.worklist import (
        screen as run_screen,
    )
    from fusionwatch.screen.worklist import (
        summary_rows,
        write_summary,
        write_worklist,
    )

    if output is not None and not patient_level:
        raise typer.BadParameter(
            "a worklist names people; add --patient-level to write it", param_hint="--out"
        )
    saver = _saver(team, user, patient_level) if team is not None else None
    if spark_master is not None and engine is not Engine.SPARK:
        raise typer.BadParameter("needs --engine spark", param_hint="--spark-master")
    kb, day = load(), (as_of.date() if as_of else dt.date.today())
    site = site_for(kb, policy)
    con = duckdb.connect()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        try:
            task = bar.add_task("Reading and checking the input", total=None)
            readers = {Format.REGISTRY: load_registry, Format.OMOP: load_omop}
            reader = readers.get(fmt, load_fhir_bulk)
            loaded = reader(con, kb, source, day)
            bar.update(task, description=f"Screening {loaded.episodes:,} episodes")
            if engine is Engine.SPARK:
                bar.update(task, description="Starting Spark and screening there")
                _on_spark(con, kb, day, site, spark_master or "local[*]")
                run_screen(con, kb, day, site, computed="spark_result")
            else:
                run_screen(con, kb, day, site)
            _studies_not_read(con, loaded)
            if output is not None:
                bar.update(task, description=f"Writing {output}")
                write_worklist(con, output)
            if summary is not None:
                write_summary(con, summary)
            if saver is not None:
                bar.update(task, description=f"Saving the worklist for team {team}")
                saved = _save(con, kb, saver, _Run(source.name, fmt, engine, day, site))
        except ScreenInputError as error:
            err.print(f"[bold red]Not screened:[/] {error}")
            err.print("Nothing was written.")
            raise typer.Exit(ExitCode.INVALID_INPUT) from error
    _report(loaded, summary_rows(con), kb.version, day, site)
    _written(output, loaded.episodes, team, saved if saver is not None else None)


def _studies_not_read(con: Any, loaded: Any) -> None:
    """Count the episodes whose imaging studies were not read (screen.record): flagged rows."""
    if not loaded.studies:
        return
    found = con.execute("SELECT COUNT(*) FROM screened WHERE imaging_studies_not_read").fetchall()
    if found[0][0]:
        note = (
            "imaging studies of episodes screened without them (a derivation from studies not in"
            " SQL yet could change the result; flagged imaging_studies_not_read)"
        )
        loaded.not_used[note] = int(found[0][0])


def _written(output: Path | None, episodes: int, team: str | None, saved: int | None) -> None:
    if output is not None:
        out.print(f"Worklist: {output} ({episodes:,} rows, patient-level)")
    if saved is not None:
        out.print(f"Saved as screening run {saved} for team {team}: open /screening/{saved}")


@dataclass(frozen=True, slots=True)
class _Run:
    source: str
    fmt: Format
    engine: Engine
    day: dt.date
    site: Site


def _saver(team: str, user: str | None, patient_level: bool) -> tuple[int, int]:
    """Check before screening that the user may save for the team: (team id, user id)."""
    if not patient_level:
        raise typer.BadParameter(
            "a saved worklist names people; add --patient-level to save it",
            param_hint="--save-to-team",
        )
    if not user:
        raise typer.BadParameter("name the account saving the run", param_hint="--user")
    from fusionwatch.cli.server import _database
    from fusionwatch.store.accounts import AccountError
    from fusionwatch.store.screening import writer_in

    db = _database()
    try:
        with db.session() as session:
            return writer_in(session, team, user)
    except AccountError as problem:
        err.print(f"[bold red]Not screened:[/] {problem}")
        raise typer.Exit(ExitCode.INVALID_INPUT) from problem
    finally:
        db.close()


def _save(con: Any, kb: Any, saver: tuple[int, int], run: _Run) -> int:
    """Store the worklist, in worklist order, for the team's workspace (one transaction)."""
    from fusionwatch.cli.server import _database
    from fusionwatch.screen.saved import worklist_rows
    from fusionwatch.store.screening import RunFacts, save_run

    facts = RunFacts(
        source=run.source,
        input_format=run.fmt.value,
        engine=run.engine.value,
        as_of=run.day,
        knowledge_version=kb.version,
        settings=run.site.named(kb.thresholds["motion.angular"]),
    )
    team_id, user_id = saver
    db = _database()
    try:
        with db.session() as session:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            rows = worklist_rows(con, kb)
            saved = save_run(
                session, team_id=team_id, user_id=user_id, now=now, facts=facts, rows=rows
            )
            return saved.id
    finally:
        db.close()


def _on_spark(con: Any, kb: Any, day: dt.date, site: Site, master: str) -> None:
    """Run the checked tables through the same SQL on Spark; the result comes back as Arrow."""
    try:
        from fusionwatch.screen.spark import screen_spark, session
    except ImportError as error:
        err.print("[bold red]Spark is not installed: install fusionwatch[spark] and Java 17+[/]")
        raise typer.Exit(ExitCode.INVALID_INPUT) from error
    spark = session(master)
    episodes, visits, operations, studies = (
        con.table(t).to_arrow_table() for t in ("episodes", "visits", "operations", "studies")
    )
    result = screen_spark(spark, kb, episodes, visits, operations, day, site, studies)
    con.register("spark_result", result)


def _counted(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _report(
    loaded: Any, rows: list[tuple[str, ...]], version: str, day: dt.date, site: Site
) -> None:
    counts = ", ".join(
        _counted(n, word)
        for n, word in (
            (loaded.visits, "score visit"),
            (loaded.operations, "later operation"),
            (loaded.studies, "imaging study row"),
        )
    )
    out.print(
        f"Screened {_counted(loaded.episodes, 'episode')} ({counts})"
        f" on {day} with knowledge {version};"
        f" stimulator policy {site.stimulator_policy}."
    )
    table = Table("Group", "Triage", "Suspicion", "Time since surgery", "Episodes")
    for row in rows:
        table.add_row(*row)
    out.print(table)
    out.print("Cells under 11 episodes are shown as <11.")
    for name, count in sorted(loaded.not_used.items()):
        out.print(f"Not used: {name} ({count:,})")
