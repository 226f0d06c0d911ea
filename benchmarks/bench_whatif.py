"""Benchmark: the cost of the what-if missing-information list per case.

Run with ``uv run python benchmarks/bench_whatif.py``. Over the seeded synthetic mix of
``bench_assess`` it times ``assess`` with and without the what-if step (CPU time of this process,
best of three rounds per case, so other processes on the machine weigh less), and counts the
trials (one input answered one way) and the items listed. It prints medians and p95.
"""

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_assess import synthetic_case
from fusionwatch.core import decision, engine
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load

AS_OF = dt.date(2026, 11, 23)
CASES = 200


def cpu_ms(run: object, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        run()  # type: ignore[operator]
        best = min(best, time.process_time() - start)
    return best * 1000


def main() -> None:
    kb = load()
    rng = random.Random(20250601)
    cases = [parse_data(synthetic_case(rng, i), AS_OF) for i in range(CASES)]
    trials: list[int] = []
    original_trial = decision.Decider.trial

    def counted(self: decision.Decider, env: dict, changed: set) -> decision.Outcome:  # type: ignore[type-arg]
        trials[-1] += 1
        return original_trial(self, env, changed)

    full, bare, items = [], [], []
    for case in cases:
        trials.append(0)
        decision.Decider.trial = counted  # type: ignore[method-assign]
        items.append(len(engine.assess(case, kb, AS_OF).missing_information))
        decision.Decider.trial = original_trial  # type: ignore[method-assign]
        full.append(cpu_ms(lambda c=case: engine.assess(c, kb, AS_OF)))
        saved = engine.what_would_change
        engine.what_would_change = lambda *args: ()  # type: ignore[assignment]
        bare.append(cpu_ms(lambda c=case: engine.assess(c, kb, AS_OF)))
        engine.what_would_change = saved
    added = [f - b for f, b in zip(full, bare, strict=True)]
    per_trial = [a / t * 1000 for a, t in zip(added, trials, strict=True) if t]

    def line(name: str, values: list[float], unit: str) -> str:
        p95 = statistics.quantiles(values, n=20)[18]
        return f"{name:<38} median {statistics.median(values):8.2f} {unit}   p95 {p95:8.2f} {unit}"

    print(f"what-if missing information over {CASES} synthetic cases (CPU time, best of 3)")
    print(line("assess with what-if", full, "ms"))
    print(line("assess without what-if", bare, "ms"))
    print(line("added by what-if", added, "ms"))
    print(line("trials per case", [float(t) for t in trials], "  "))
    print(line("cost per trial", per_trial, "µs"))
    print(line("items listed per case", [float(i) for i in items], "  "))


if __name__ == "__main__":
    main()
