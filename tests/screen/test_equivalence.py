"""The screen gives exactly the single-case engine's answer on a large generated cohort.

Triage, suspicion band, the set of fired rule ids and "emergency questions not asked" must agree
for every episode between ``assess()`` and the SQL on DuckDB; a wrong rule in SQL (one mutated
rule) must make it fail. The cohort size is FUSIONWATCH_SCREEN_CASES (100,000 unless set).
"""

import os
from collections import Counter

import pyarrow as pa
import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.site import DEFAULT_SITE
from fusionwatch.screen.duck import screen_arrow
from fusionwatch.screen.query import STUDY_FACTS, evaluated_rules, rule_column
from fusionwatch.screen.reference import Verdict, parallel_verdicts
from fusionwatch.screen.synthetic import Cohort, generate
from tests.conftest import AS_OF

SIZE = int(os.environ.get("FUSIONWATCH_SCREEN_CASES", "100000"))
# Rules that read the longest run of serial studies without progress: the screen takes imaging
# summaries, not per-level studies, so the generated cohort cannot make them fire.
NEEDS_STUDIES = frozenset(STUDY_FACTS)


@pytest.fixture(scope="module")
def cohort(kb: Knowledge) -> Cohort:
    return generate(kb, SIZE, AS_OF, seed=2026)


@pytest.fixture(scope="module")
def reference(cohort: Cohort) -> list[Verdict]:
    return parallel_verdicts(cohort.episodes, cohort.visits, AS_OF, workers=2)


def _verdicts(table: pa.Table) -> list[Verdict]:
    cols = [
        table[c].to_pylist()
        for c in ("episode_id", "triage", "suspicion", "fired", "screen_not_done")
    ]
    return [Verdict(*row) for row in zip(*cols, strict=True)]


def _differences(expected: list[Verdict], got: list[Verdict]) -> list[tuple[Verdict, Verdict]]:
    assert [v.episode for v in expected] == [v.episode for v in got]
    return [(e, g) for e, g in zip(expected, got, strict=True) if e != g]


def test_duckdb_agrees_with_assess_on_every_episode(
    kb: Knowledge, cohort: Cohort, reference: list[Verdict]
) -> None:
    assert len(reference) == SIZE >= 1000
    screened = _verdicts(screen_arrow(kb, cohort.episodes, cohort.visits, AS_OF))
    wrong = _differences(reference, screened)
    assert not wrong, f"{len(wrong)} episodes differ, first: {wrong[:3]}"


def test_the_cohort_exercises_every_outcome(kb: Knowledge, reference: list[Verdict]) -> None:
    triage = Counter(v.triage for v in reference)
    suspicion = Counter(v.suspicion for v in reference)
    assert set(triage) == {"emergency", "prompt_referral", "routine"}
    assert set(suspicion) == {"low", "moderate", "high"}
    fired = Counter(rule for v in reference for rule in v.fired.split())
    rules = evaluated_rules(kb, DEFAULT_SITE)
    never = {
        r.rule.id for r in rules if not fired[r.rule.id] and not set(r.when.facts) & NEEDS_STUDIES
    }
    assert not never, f"rules that never fired in the generated cohort: {sorted(never)}"


def _mutant(target: str, change: str):  # type: ignore[no-untyped-def]
    def mutate(rule_id: str, sql: str) -> str:
        if rule_id != target:
            return sql
        if change == "unknown as no":
            return f"COALESCE({sql}, FALSE)"
        if change == "all as any":
            return sql.replace(" AND ", " OR ")
        return sql.replace("= TRUE", "= FALSE", 1)

    return mutate


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        ("FW-EMERG-001", "unknown as no"),
        ("FW-EMERG-001", "flip an answer"),
        ("FW-SUSP-001", "flip an answer"),
        ("FW-CAP-001", "all as any"),
    ],
)
def test_a_mutated_rule_is_caught(
    kb: Knowledge, cohort: Cohort, reference: list[Verdict], rule: str, change: str
) -> None:
    table = screen_arrow(kb, cohort.episodes, cohort.visits, AS_OF, mutate=_mutant(rule, change))
    assert rule_column(rule) in table.column_names
    assert _differences(reference, _verdicts(table))
