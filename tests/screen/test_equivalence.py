"""The screen gives exactly the single-case engine's answer on a large generated cohort.

Triage (four dispositions), suspicion band (``cannot_tell`` included), the set of fired rule and
policy-pathway ids and "emergency questions not asked" must agree for every episode between
``assess()`` and the SQL on DuckDB, under the default site policy on SIZE episodes and under
every other coverage policy on a smaller cohort; a wrong rule in SQL (one mutated rule) must make
it fail. SIZE is FUSIONWATCH_SCREEN_CASES (100,000 unless set).
"""

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.site import DEFAULT_SITE, Site
from fusionwatch.screen.candidacy import pathways
from fusionwatch.screen.compiler import CompileError
from fusionwatch.screen.derived import STUDY_FACTS
from fusionwatch.screen.duck import screen_arrow
from fusionwatch.screen.query import evaluated_rules, rule_column
from fusionwatch.screen.reference import Verdict, parallel_verdicts, verdicts
from fusionwatch.screen.synthetic import Cohort, generate
from tests.conftest import AS_OF
from tests.screen.verdict_only import switch_off, switched_off

SIZE = int(os.environ.get("FUSIONWATCH_SCREEN_CASES", "100000"))
POLICY_SIZE = min(SIZE, 2000)
# Mutants are screened on the first MUTANT_SIZE episodes (enough for each to show).
MUTANT_SIZE = min(SIZE, 20000)
# Facts a screen does not derive from per-level imaging studies yet (screen.derived: the
# adjacent-segment change): rules that need them cannot fire in a screen (an episode whose
# studies could set them is flagged and screened without its studies).
FIXED_IN_A_SCREEN = frozenset(STUDY_FACTS)


@pytest.fixture(scope="module")
def cohort(kb: Knowledge) -> Cohort:
    return generate(kb, SIZE, AS_OF, seed=2026)


@pytest.fixture(scope="module")
def flagged(kb: Knowledge, cohort: Cohort) -> pa.Array:
    return flagged_episodes(_screened(kb, cohort))


@pytest.fixture(scope="module")
def reference(cohort: Cohort, flagged: pa.Array) -> list[Verdict]:
    return parallel_verdicts(
        cohort.episodes,
        cohort.visits,
        AS_OF,
        cohort.operations,
        initializer=switch_off,
        studies=studies_read(cohort, flagged),
    )


def flagged_episodes(screened: pa.Table) -> pa.Array:
    """The episodes the screen flags: their studies feed a derivation not in SQL yet."""
    return pc.filter(screened["episode_id"], screened["studies_not_read"])


def studies_read(cohort: Cohort, flagged: pa.Array) -> pa.Table:
    """The studies the screen reads: a flagged episode is screened as one without studies, so
    its reference is ``assess()`` of the case without them (test_studies.py checks the flag)."""
    return cohort.studies.filter(pc.invert(pc.is_in(cohort.studies["episode_id"], flagged)))


def _screened(
    kb: Knowledge, cohort: Cohort, site: Site = DEFAULT_SITE, mutate: object = None
) -> pa.Table:
    tables = (cohort.episodes, cohort.visits, cohort.operations)
    return screen_arrow(kb, *tables, AS_OF, site=site, mutate=mutate, studies=cohort.studies)  # type: ignore[arg-type]


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
    wrong = _differences(reference, _verdicts(_screened(kb, cohort)))
    assert not wrong, f"{len(wrong)} episodes differ, first: {wrong[:3]}"


def _other_policies(kb: Knowledge) -> list[str]:
    return sorted(p for p in kb.policies if p != DEFAULT_SITE.stimulator_policy)


def test_every_site_policy_agrees_with_assess(kb: Knowledge) -> None:
    """Each coverage policy a site may choose, on its own cohort (the pathways differ)."""
    policies = _other_policies(kb)
    cohorts = [generate(kb, POLICY_SIZE, AS_OF, seed=300 + i) for i in range(len(policies))]
    sites = [Site(policy) for policy in policies]
    tables = [
        (
            c.episodes,
            c.visits,
            AS_OF,
            s,
            c.operations,
            studies_read(c, flagged_episodes(_screened(kb, c, s))),
        )
        for c, s in zip(cohorts, sites, strict=True)
    ]
    context = get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context, initializer=switch_off) as pool:
        expected = list(pool.map(verdicts, *zip(*tables, strict=True)))
    for policy, site, cohort, found in zip(policies, sites, cohorts, expected, strict=True):
        wrong = _differences(found, _verdicts(_screened(kb, cohort, site)))
        assert not wrong, f"{policy}: {len(wrong)} episodes differ, first: {wrong[:2]}"
        _every_rule_fires(kb, site, found, pathways_only=True)


def test_the_what_if_search_does_not_move_the_verdict(kb: Knowledge) -> None:
    cohort = generate(kb, 400, AS_OF, seed=7)
    tables = (cohort.episodes, cohort.visits, AS_OF, DEFAULT_SITE, cohort.operations)
    full = verdicts(*tables, cohort.studies)
    with switched_off():
        fast = verdicts(*tables, cohort.studies)
    assert full == fast


def test_the_cohort_exercises_every_outcome(kb: Knowledge, reference: list[Verdict]) -> None:
    triage = Counter(v.triage for v in reference)
    suspicion = Counter(v.suspicion for v in reference)
    assert set(triage) == {"emergency", "urgent", "prompt_referral", "routine"}
    assert set(suspicion) == {"low", "cannot_tell", "moderate", "high"}
    assert {v.not_done for v in reference} == {True, False}
    _every_rule_fires(kb, DEFAULT_SITE, reference)


def _every_rule_fires(
    kb: Knowledge, site: Site, reference: list[Verdict], *, pathways_only: bool = False
) -> None:
    fired = Counter(rule for v in reference for rule in v.fired.split())
    rules = () if pathways_only else evaluated_rules(kb, site)
    reads = {r.rule.id: set(r.when.facts) for r in rules}
    for p in pathways(kb, site):
        reads[p.id] = {f for c in p.compiled.criteria for f in c.when.facts}
    never = {i for i, facts in reads.items() if not fired[i] and not facts & FIXED_IN_A_SCREEN}
    assert not never, f"never fired in the generated cohort ({site}): {sorted(never)}"


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
        ("FW-URG-003", "flip an answer"),
        ("FW-SUSP-001", "flip an answer"),
        ("FW-CAP-001", "all as any"),
        ("ncd_150_2:adjunct", "all as any"),
    ],
)
def test_a_mutated_rule_is_caught(
    kb: Knowledge, cohort: Cohort, reference: list[Verdict], rule: str, change: str
) -> None:
    first_after = _first_after(cohort)
    head = Cohort(
        cohort.episodes.slice(0, MUTANT_SIZE),
        cohort.visits.filter(pc.less(cohort.visits["episode_id"], first_after)),
        cohort.operations.filter(pc.less(cohort.operations["episode_id"], first_after)),
        cohort.studies.filter(pc.less(cohort.studies["episode_id"], first_after)),
    )
    table = _screened(kb, head, mutate=_mutant(rule, change))
    if ":" not in rule:
        assert rule_column(rule) in table.column_names
    assert _differences(reference[:MUTANT_SIZE], _verdicts(table))


def _first_after(cohort: Cohort) -> str:
    """The first episode id after the mutants' slice (ids are generated in sorted order)."""
    ids = cohort.episodes["episode_id"]
    return str(ids[MUTANT_SIZE]) if len(ids) > MUTANT_SIZE else "~"


def test_an_unknown_policy_is_refused(kb: Knowledge) -> None:
    with pytest.raises(CompileError, match="unknown stimulator policy"):
        _screened(kb, generate(kb, 10, AS_OF), Site("no_such_policy"))
