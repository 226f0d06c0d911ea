"""Benchmark: cohort screening on DuckDB and Spark local[2] against the per-case ``assess()`` loop.

Run with ``uv run python benchmarks/bench_screen.py`` (``--sizes 10000,100000,1000000``,
``--sample 1000``, ``--spark``). For each size it generates a synthetic cohort, writes it as
registry Parquet (not timed), then times ``fusionwatch screen`` end to end in a child process
(read and check the Parquet files, screen, write the patient-level worklist): wall time,
episodes per second and the child's peak memory. It also times the same work in this process
without the CLI start-up, split into reading and checking, and screening and writing. The
``assess()`` loop runs one case at a time (case building included) on a sample of the same
kind of cohort, so the ratio compares like with like; it is given for the real ``assess()`` and,
for information, without its what-if search. With ``--spark`` the largest cohort's checked
tables are staged as Parquet and screened by the same SQL on Spark ``local[2]``, with the
session start-up timed apart. Nothing is tuned to pass.
"""

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from fusionwatch.core.site import DEFAULT_SITE
from fusionwatch.knowledge import load
from fusionwatch.screen.registry import load_registry
from fusionwatch.screen.synthetic import generate, write_registry
from fusionwatch.screen.worklist import screen, write_worklist

AS_OF = dt.date(2026, 11, 30)
TARGET_SECONDS, TARGET_RATIO = 10.0, 50.0
EXAMPLES = Path(__file__).parents[1] / "examples" / "screen"


def _cpu() -> float:
    """User and system CPU seconds of this process so far (DuckDB's threads included)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _cli(folder: Path, out: Path) -> tuple[float, float, float]:
    """Wall seconds, peak resident MiB and CPU seconds (user + system) of ``fusionwatch screen``
    in a fresh process.

    The peak is this run's own (GNU time's maximum resident set size), not the largest of every
    child so far. On a shared machine the CPU time is the figure that carries over.
    """
    report = out.with_suffix(".rss")
    command = ["/usr/bin/time", "-f", "%M %U %S", "-o", str(report)]
    command += [str(Path(sys.executable).with_name("fusionwatch")), "screen", str(folder)]
    command += ["--as-of", AS_OF.isoformat(), "--out", str(out), "--patient-level"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak, user, system = report.read_text().split()[-3:]
    return wall, int(peak) / 1024, float(user) + float(system)


def _in_process(folder: Path, out: Path) -> tuple[float, float, float]:
    """Seconds to read and check the files, and to screen and write the worklist; CPU seconds."""
    kb = load()
    start, cpu = time.perf_counter(), _cpu()
    con = duckdb.connect()
    load_registry(con, kb, folder, AS_OF)
    read = time.perf_counter() - start
    screen(con, kb, AS_OF, DEFAULT_SITE)
    write_worklist(con, out)
    return read, time.perf_counter() - start - read, _cpu() - cpu


def _assess_rate(sample: int, *, what_if: bool) -> float:
    from fusionwatch.core import engine
    from fusionwatch.screen.episode import cases

    kb = load()
    cohort = generate(kb, sample, AS_OF, seed=99)
    kept = engine.what_would_change
    if not what_if:
        engine.what_would_change = lambda *_, **__: ()  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        for case in cases(kb, cohort.episodes, cohort.visits, AS_OF, cohort.operations):
            engine.assess(case, kb, AS_OF)
        return sample / (time.perf_counter() - start)
    finally:
        engine.what_would_change = kept


def _fhir_rate(tmp: Path, patients: int) -> float:
    """Resources per second read from a Bulk export of ``patients`` copies of the example."""
    import json

    from fusionwatch.screen.fhirbulk import load_fhir_bulk

    folder = tmp / "bulk"
    folder.mkdir()
    total = 0
    for source in sorted((EXAMPLES / "fhir-bulk").glob("*.ndjson")):
        lines = source.read_text().splitlines()
        with (folder / source.name).open("w") as out:
            for copy in range(patients // 3):
                for line in lines:
                    resource = json.loads(line)
                    resource["id"] = f"{resource['id']}-c{copy}"
                    if "subject" in resource:
                        ref = resource["subject"]["reference"]
                        resource["subject"]["reference"] = f"{ref}-c{copy}"
                    out.write(json.dumps(resource) + "\n")
                    total += 1
    start = time.perf_counter()
    load_fhir_bulk(duckdb.connect(), load(), folder, AS_OF)
    return total / (time.perf_counter() - start)


def _omop_rate(tmp: Path, copies: int) -> tuple[int, float]:
    """OMOP rows, and rows per second, read from ``copies`` copies of the example tables."""
    from fusionwatch.screen.omop import load_omop

    folder = tmp / "omop"
    folder.mkdir()
    con = duckdb.connect()
    total = 0
    for source in sorted((EXAMPLES / "omop").glob("*.csv")):
        query = (
            "SELECT * REPLACE (person_id || '-' || CAST(c AS VARCHAR) AS person_id)"
            f" FROM read_csv('{source}', all_varchar = true), range({copies}) t(c)"
        )
        target = folder / source.with_suffix(".parquet").name
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT PARQUET)").fetchall()
        total += con.execute(f"SELECT COUNT(*) FROM '{target}'").fetchall()[0][0]
    start = time.perf_counter()
    load_omop(duckdb.connect(), load(), folder, AS_OF)
    return total, total / (time.perf_counter() - start)


def _timed(step: Callable[[], Any]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def _spark(folder: Path, tmp: Path, n: int) -> None:
    """The largest cohort on Spark local[2]: staging, start-up and the screen, timed apart."""
    from fusionwatch.screen.spark import register_parquet, screened_frame, session

    kb = load()
    staged = tmp / "staged"
    staged.mkdir()
    con = duckdb.connect()
    load_registry(con, kb, folder, AS_OF)

    def stage() -> None:
        for name in ("episodes", "visits", "operations", "studies"):
            con.execute(f"COPY {name} TO '{staged / name}.parquet' (FORMAT PARQUET)")

    staging = _timed(stage)
    con.close()
    start = time.perf_counter()
    spark = session("local[2]", driver_memory="6g")
    spark.range(1).collect()
    startup = time.perf_counter() - start
    try:
        register_parquet(spark, str(staged))
        out = str(tmp / "spark-worklist")
        first = _timed(lambda: screened_frame(spark, kb, AS_OF).write.parquet(out))
        again = _timed(
            lambda: screened_frame(spark, kb, AS_OF).write.mode("overwrite").parquet(out)
        )
        pid = spark._jvm.java.lang.ProcessHandle.current().pid()
        peak = _peak_mib(int(pid))
    finally:
        spark.stop()
    print(
        f"Spark local[2], {n:,} episodes: staging the checked tables as Parquet {staging:.1f} s,"
        f" session start-up {startup:.1f} s, screen and write {first:.1f} s"
        f" ({n / first:,.0f}/s), again in the same session {again:.1f} s,"
        f" JVM peak memory {peak:,.0f} MiB (driver memory 6g)"
    )


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--fhir-patients", type=int, default=300)
    parser.add_argument("--omop-copies", type=int, default=100000)
    parser.add_argument("--spark", action="store_true", help="also screen the largest on Spark")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kb = load()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, as of {AS_OF}")
    rate = _assess_rate(args.sample, what_if=True)
    bare = _assess_rate(args.sample, what_if=False)
    print(
        f"assess() one case at a time, case built from the row ({args.sample:,} cases):"
        f" {rate:,.0f} episodes/s; without the what-if search {bare:,.0f}/s"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        fhir = _fhir_rate(Path(tmp), args.fhir_patients)
        print(
            f"FHIR Bulk NDJSON ingestion ({args.fhir_patients} patients): {fhir:,.0f} resources/s"
        )
        rows, omop = _omop_rate(Path(tmp), args.omop_copies)
        print(f"OMOP ingestion ({rows:,} rows, Parquet): {omop:,.0f} rows/s")
        for n in sizes:
            folder = Path(tmp) / f"cohort-{n}"
            cohort = generate(kb, n, AS_OF)
            write_registry(kb, cohort, folder)
            visits, ops = cohort.visits.num_rows, cohort.operations.num_rows
            del cohort
            read, rest, inner_cpu = _in_process(folder, Path(tmp) / "inner.parquet")
            inner = read + rest
            inner_load = os.getloadavg()[0]
            wall, peak, cli_cpu = _cli(folder, Path(tmp) / f"worklist-{n}.parquet")
            results.append((n, wall, inner))
            print(
                f"{n:>9,} episodes ({visits:,} visits, {ops:,} operations): CLI {wall:6.2f} s"
                f" ({n / wall:,.0f}/s, CPU {cli_cpu:.1f} s, load {os.getloadavg()[0]:.1f}),"
                f" in-process {inner:6.2f} s (read and check {read:.2f} s, screen and write"
                f" {rest:.2f} s; CPU {inner_cpu:.1f} s, load {inner_load:.1f}), peak memory"
                f" {peak:,.0f} MiB, {n / wall / rate:,.0f}x assess() (CLI),"
                f" {n / inner / rate:,.0f}x (in-process)"
            )
        if args.spark:
            _spark(Path(tmp) / f"cohort-{sizes[-1]}", Path(tmp), sizes[-1])
    n, wall, inner = results[-1]
    for small, small_wall, small_inner in results[:-1]:
        print(
            f"growth {small:,} -> {n:,} (x{n / small:.0f} episodes): CLI x{wall / small_wall:.1f},"
            f" in-process x{inner / small_inner:.1f}"
        )
    verdict = "met" if wall <= TARGET_SECONDS else "NOT met"
    print(f"target: {n:,} episodes in <= {TARGET_SECONDS:g} s (CLI): {verdict} ({wall:.1f} s)")
    ratio = n / wall / rate
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"target: >= {TARGET_RATIO:g}x the assess() loop (CLI): {verdict} ({ratio:,.0f}x)")


if __name__ == "__main__":
    main()
