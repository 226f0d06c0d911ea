"""Benchmark: cold start of the command line, and what it imports.

Run with ``make bench-startup`` (or ``.venv/bin/python benchmarks/bench_startup.py``). Each
command runs as a fresh process (``.venv/bin/fusionwatch``, as the README gives it) several
times; the script prints the median and fastest wall time, the median CPU time of the process
(user + system: what the command costs when it does not wait for a core), the machine's load
average (wall times mean little on a busy machine), and the ten slowest imports of
``fusionwatch --help`` measured with ``python -X importtime``. Targets (issue 13): ``--help``
<= 0.5 s, ``assess`` of one file <= 1 s.
"""

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("fusionwatch"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
COMMANDS = {
    "fusionwatch --help": ([CLI, "--help"], 0.5),
    "fusionwatch assess examples/routine-recovering-well.json": (
        [CLI, "assess", "examples/routine-recovering-well.json"],
        1.0,
    ),
}


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall time, and CPU time (user + system) of the child: the fairer figure under load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def slowest_imports(limit: int = 10) -> list[tuple[int, str]]:
    code = "import sys; sys.argv = ['fusionwatch', '--help']\n"
    code += (
        "from fusionwatch.cli.main import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.split("|")
            if len(name) - len(name.lstrip()) == 1:  # top-level imports only
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:limit]


def main() -> None:
    load = os.getloadavg()
    print(f"cold start, {RUNS} runs each; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'command':<58} {'wall med':>8} {'fastest':>8} {'cpu med':>8} {'target':>7}  verdict")
    for name, (argv, target) in COMMANDS.items():
        timed(argv)  # warm the file-system cache, as a second run of a command would be
        runs = [timed(argv) for _ in range(RUNS)]
        wall = statistics.median(w for w, _ in runs)
        best = min(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        verdict = "met" if wall <= target else ("met on CPU time" if cpu <= target else "NOT met")
        print(f"{name:<58} {wall:>7.2f}s {best:>7.2f}s {cpu:>7.2f}s {target:>6.1f}s  {verdict}")
    print("\nslowest top-level imports of `fusionwatch --help` (python -X importtime, cumulative):")
    for micros, module in slowest_imports():
        print(f"  {micros / 1000:8.1f} ms  {module.strip()}")


if __name__ == "__main__":
    main()
