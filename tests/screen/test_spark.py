"""The same screening SQL on Spark (``local[*]``) agrees with ``assess()`` on 5,000 episodes.

PySpark is the optional extra ``fusionwatch[spark]``; ``make test`` installs it and a Java runtime,
so a missing Spark is a failure here, not a skip. The reference runs without the what-if search
(``verdict_only``: it cannot move the verdict, and the DuckDB test checks that it does not).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.screen.duck import screen_arrow
from fusionwatch.screen.reference import Verdict, parallel_verdicts
from fusionwatch.screen.spark import screen_spark, session
from fusionwatch.screen.synthetic import generate
from tests.conftest import AS_OF
from tests.screen.test_equivalence import flagged_episodes, studies_read
from tests.screen.verdict_only import switch_off

SIZE = 5000


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    started = session("local[*]")
    yield started
    started.stop()


def test_spark_agrees_with_assess(kb: Knowledge, spark: Any) -> None:
    cohort = generate(kb, SIZE, AS_OF, seed=5)
    tables = (cohort.episodes, cohort.visits, cohort.operations)
    table = screen_spark(spark, kb, *tables, AS_OF, studies=cohort.studies)
    cols = [table[c].to_pylist() for c in ("episode_id", "triage", "suspicion", "fired")]
    flags = table["screen_not_done"].to_pylist()
    got = [Verdict(*row, bool(flag)) for *row, flag in zip(*cols, flags, strict=True)]
    # The same episodes are flagged as on DuckDB (none: every derivation from studies is SQL).
    flagged = flagged_episodes(table)
    on_duckdb = flagged_episodes(screen_arrow(kb, *tables, AS_OF, studies=cohort.studies))
    assert sorted(flagged.to_pylist()) == sorted(on_duckdb.to_pylist())
    found = parallel_verdicts(
        cohort.episodes,
        cohort.visits,
        AS_OF,
        cohort.operations,
        initializer=switch_off,
        studies=studies_read(cohort, flagged),
    )
    expected = sorted(found, key=lambda v: v.episode)
    assert len(got) == SIZE
    wrong = [(e, g) for e, g in zip(expected, got, strict=True) if e != g]
    assert not wrong, f"{len(wrong)} episodes differ on Spark, first: {wrong[:2]}"
