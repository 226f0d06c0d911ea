"""``fusionwatch screen``: a whole registry or extract through the rules, as a ranked worklist.

The default output is an aggregate summary with small cells suppressed, safe to share; a
patient-level worklist needs ``--patient-level``. DuckDB and pyarrow are imported only here, so
other commands start fast.
"""

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fusionwatch.core.site import Site
from fusionwatch.knowledge import load
from fusionwatch.settings import Settings

out = Console()
err = Console(stderr=True)
INVALID_INPUT = 2


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
    policy: Annotated[
        str | None,
        typer.Option(
            "--stimulator-policy",
            help="Override the site's bone-stimulator policy for this run "
            "(default: FUSIONWATCH_STIMULATOR_POLICY; see `fusionwatch settings`).",
        ),
    ] = None,
) -> None:
    """Screen a cohort: triage, suspicion, reasons and open questions for every episode."""
    # Imported here so that other commands do not pay for DuckDB at start-up.
    import duckdb  # noqa: PLC0415

    from fusionwatch.screen.errors import ScreenInputError  # noqa: PLC0415
    from fusionwatch.screen.fhirbulk import load_fhir_bulk  # noqa: PLC0415
    from fusionwatch.screen.omop import load_omop  # noqa: PLC0415
    from fusionwatch.screen.registry import load_registry  # noqa: PLC0415
    from fusionwatch.screen.worklist import (  # noqa: PLC0415
        screen as run_screen,
    )
    from fusionwatch.screen.worklist import (  # noqa: PLC0415
        summary_rows,
        write_summary,
        write_worklist,
    )

    if output is not None and not patient_level:
        raise typer.BadParameter(
            "a worklist names people; add --patient-level to write it", param_hint="--out"
        )
    if spark_master is not None and engine is not Engine.SPARK:
        raise typer.BadParameter("needs --engine spark", param_hint="--spark-master")
    kb, day = load(), (as_of.date() if as_of else dt.date.today())
    configured = Settings().site()
    site = Site(policy or configured.stimulator_policy, configured.motion_cutoff_deg)
    if site.stimulator_policy not in kb.policies:
        known = ", ".join(sorted(kb.policies))
        raise typer.BadParameter(f"must be one of {known}", param_hint="--stimulator-policy")
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
            if output is not None:
                bar.update(task, description=f"Writing {output}")
                write_worklist(con, output)
            if summary is not None:
                write_summary(con, summary)
        except ScreenInputError as error:
            err.print(f"[bold red]Not screened:[/] {error}")
            err.print("Nothing was written.")
            raise typer.Exit(INVALID_INPUT) from error
    _report(loaded, summary_rows(con), kb.version, day, site)
    if output is not None:
        out.print(f"Worklist: {output} ({loaded.episodes:,} rows, patient-level)")


def _on_spark(con: Any, kb: Any, day: dt.date, site: Site, master: str) -> None:
    """Run the checked tables through the same SQL on Spark; the result comes back as Arrow."""
    try:
        from fusionwatch.screen.spark import screen_spark, session  # noqa: PLC0415
    except ImportError as error:
        err.print("[bold red]Spark is not installed: install fusionwatch[spark] and Java 17+[/]")
        raise typer.Exit(INVALID_INPUT) from error
    spark = session(master)
    episodes, visits, operations = (
        con.table(t).to_arrow_table() for t in ("episodes", "visits", "operations")
    )
    result = screen_spark(spark, kb, episodes, visits, operations, day, site)
    con.register("spark_result", result)


def _report(
    loaded: Any, rows: list[tuple[str, ...]], version: str, day: dt.date, site: Site
) -> None:
    out.print(
        f"Screened {loaded.episodes:,} episodes ({loaded.visits:,} score visits,"
        f" {loaded.operations:,} later operations) on {day} with knowledge {version};"
        f" stimulator policy {site.stimulator_policy}."
    )
    table = Table("Group", "Triage", "Suspicion", "Time since surgery", "Episodes")
    for row in rows:
        table.add_row(*row)
    out.print(table)
    out.print("Cells under 11 episodes are shown as <11.")
    for name, count in sorted(loaded.not_used.items()):
        out.print(f"Not used: {name} ({count:,})")
