"""Benchmark: cohort screening on DuckDB against the per-case ``assess()`` loop.

Run with ``uv run python benchmarks/bench_screen.py`` (``--sizes 10000,100000,1000000``,
``--sample 2000``). For each size it generates a synthetic cohort, writes it as registry Parquet
(not timed), then times ``fusionwatch screen`` end to end in a child process (read and check the
Parquet files, screen, write the patient-level worklist): wall time, episodes per second and the
child's peak memory. It also times the same screen in this process without the CLI start-up,
and ``assess()`` one case at a time (case building included) on a sample of the same cohort,
so the ratio compares like with like. Nothing is tuned to pass.
"""

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from fusionwatch.core.site import DEFAULT_SITE
from fusionwatch.knowledge import load
from fusionwatch.screen.registry import load_registry
from fusionwatch.screen.synthetic import generate, write_registry
from fusionwatch.screen.worklist import screen, write_worklist

AS_OF = dt.date(2026, 11, 30)
TARGET_SECONDS, TARGET_RATIO = 10.0, 50.0


def _cli(folder: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of ``fusionwatch screen`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [str(Path(sys.executable).with_name("fusionwatch")), "screen", str(folder)]
    command += ["--as-of", AS_OF.isoformat(), "--out", str(out), "--patient-level"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def _in_process(folder: Path, out: Path) -> float:
    kb = load()
    start = time.perf_counter()
    con = duckdb.connect()
    load_registry(con, kb, folder, AS_OF)
    screen(con, kb, AS_OF, DEFAULT_SITE)
    write_worklist(con, out)
    return time.perf_counter() - start


def _assess_rate(cohort_size: int, sample: int) -> float:
    from fusionwatch.core.engine import assess
    from fusionwatch.screen.episode import cases

    kb = load()
    cohort = generate(kb, sample, AS_OF, seed=cohort_size)
    start = time.perf_counter()
    for case in cases(kb, cohort.episodes, cohort.visits, AS_OF):
        assess(case, kb, AS_OF)
    return sample / (time.perf_counter() - start)


EXAMPLES = Path(__file__).parents[1] / "examples" / "screen"


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


def _omop_rate(tmp: Path, copies: int) -> float:
    """OMOP rows per second read from ``copies`` copies of the example tables."""
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
    return total / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--fhir-patients", type=int, default=300)
    parser.add_argument("--omop-copies", type=int, default=100000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kb = load()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, as of {AS_OF}")
    rate = _assess_rate(sizes[-1], args.sample)
    print(f"assess() one case at a time (case built from the row): {rate:,.0f} episodes/s")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        fhir = _fhir_rate(Path(tmp), args.fhir_patients)
        print(
            f"FHIR Bulk NDJSON ingestion ({args.fhir_patients} patients): {fhir:,.0f} resources/s"
        )
        omop = _omop_rate(Path(tmp), args.omop_copies)
        print(f"OMOP ingestion ({args.omop_copies:,} copies of the example): {omop:,.0f} rows/s")
        for n in sizes:
            folder = Path(tmp) / f"cohort-{n}"
            cohort = generate(kb, n, AS_OF)
            write_registry(kb, cohort, folder)
            visits = cohort.visits.num_rows
            del cohort
            inner = _in_process(folder, Path(tmp) / "inner.parquet")
            wall, peak = _cli(folder, Path(tmp) / f"worklist-{n}.parquet")
            results.append((n, wall, inner))
            print(
                f"{n:>9,} episodes ({visits:,} visits): CLI {wall:6.2f} s"
                f" ({n / wall:,.0f}/s), in-process {inner:6.2f} s ({n / inner:,.0f}/s),"
                f" peak memory {peak:,.0f} MiB, {n / inner / rate:,.0f}x assess()"
            )
    n, wall, inner = results[-1]
    print(
        f"growth {sizes[0]:,} -> {n:,}: x{inner / results[0][2]:.1f} time"
        f" for x{n / sizes[0]:.0f} episodes"
    )
    print(
        f"target: {n:,} episodes in <= {TARGET_SECONDS:g} s (CLI):"
        f" {'met' if wall <= TARGET_SECONDS else 'NOT met'}"
    )
    ratio = n / inner / rate
    print(
        f"target: >= {TARGET_RATIO:g}x the assess() loop:"
        f" {'met' if ratio >= TARGET_RATIO else 'NOT met'} ({ratio:,.0f}x)"
    )


if __name__ == "__main__":
    main()
