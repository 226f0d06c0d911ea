"""Imaging studies in a screen: every fact core.derive.studies derives from them is SQL, equal
to the engine's level by level and fact by fact.

On a generated cohort with studies (every modality, dated, in months or untimed, at fused and
adjacent levels, after later operations): for every episode each fused level's judgement and
every fact derived from the studies must be ``core.derive.studies``' own. Mutating the study SQL
must fail this.
"""

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.derive.fusion import SEVERITY, Cutoffs
from fusionwatch.core.derive.studies import study_findings
from fusionwatch.core.engine import NOTHING_ON_RECORD
from fusionwatch.core.site import DEFAULT_SITE, Site
from fusionwatch.screen import query
from fusionwatch.screen.derived import RECORD
from fusionwatch.screen.dialect import DUCKDB
from fusionwatch.screen.duck import screen_arrow
from fusionwatch.screen.episode import cases
from fusionwatch.screen.query import screening_sql
from fusionwatch.screen.record import LEVEL_DERIVED, RECORD_SQL, SUMMARY
from fusionwatch.screen.registry import load_registry
from fusionwatch.screen.schema import STUDY_COLUMNS, column
from fusionwatch.screen.synthetic import Cohort, generate, write_registry
from tests.conftest import AS_OF

SIZE = min(int(os.environ.get("FUSIONWATCH_SCREEN_CASES", "100000")), 20000)
MUTANT_SIZE = min(SIZE, 3000)


@pytest.fixture(scope="module")
def cohort(kb: Knowledge) -> Cohort:
    return generate(kb, SIZE, AS_OF, seed=1914)


def _screened(kb: Knowledge, cohort: Cohort, site: Site = DEFAULT_SITE) -> pa.Table:
    tables = (cohort.episodes, cohort.visits, cohort.operations)
    return screen_arrow(kb, *tables, AS_OF, site=site, studies=cohort.studies)


def _levels(
    kb: Knowledge, cohort: Cohort, cut: Cutoffs
) -> dict[tuple[str, str], tuple[object, ...]]:
    """Each fused level's judgement as the study SQL gives it (``level_status``)."""
    con = duckdb.connect()
    for name in ("episodes", "operations", "studies"):
        con.register(name, getattr(cohort, name))
    today = DUCKDB.date_literal(AS_OF.isoformat())
    ctes = query.study_ctes(DUCKDB, today, "studies", "operations", "episodes", cut)
    body = ",\n".join(f"{name} AS ({sql})" for name, sql in ctes)
    rows = con.execute(
        f"WITH {body} SELECT episode_id, level, severity, deciding, m, hardware, instability,"
        " progress, CASE WHEN progress IS FALSE THEN span END FROM level_status"
    ).fetchall()
    con.close()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def _problems(
    kb: Knowledge, cohort: Cohort, screened: pa.Table, site: Site = DEFAULT_SITE
) -> tuple[list[str], Counter]:
    """Every episode whose facts from studies differ from the engine's (each fused level's
    judgement, the record facts, the summary answers used, ct_solid_fusion, months without
    progress), or that is not flagged while its studies give what the screen does not derive;
    and counts of what the cohort exercised."""
    cutoffs = Cutoffs.from_thresholds(kb.thresholds, site.motion_cutoff_deg)
    facts = [*RECORD_SQL, *SUMMARY, *LEVEL_DERIVED]
    rows = screened.select(["episode_id", "studies_not_read", *map(column, facts)])
    by_id = {r["episode_id"]: r for r in rows.to_pylist()}
    levels = _levels(kb, cohort, cutoffs)
    wrong: list[str] = []
    seen: Counter = Counter()
    for case in cases(kb, cohort.episodes, cohort.visits, AS_OF, cohort.operations, cohort.studies):
        row = by_id[case.label]
        flagged = row["studies_not_read"]
        got = {fact: row[column(fact)] for fact in facts}
        if not case.imaging.studies:
            given = {m: _given(case, m) for m in SUMMARY}
            expected = {
                **NOTHING_ON_RECORD,
                **given,
                "derived.months_without_progress": None,
                "derived.adjacent_segment_change": None,
            }
        else:
            found = study_findings(case, cutoffs, AS_OF)
            seen["with studies"] += 1
            seen["set aside"] += len(found.set_aside)
            for lv in found.levels:
                judged = (
                    SEVERITY[lv.status],
                    None if lv.modality == "none" else lv.modality,
                    lv.months,
                    lv.hardware_failure,
                    lv.instability,
                    lv.progress,
                    lv.months_without_progress,
                )
                if levels.get((case.label, lv.level)) != judged:
                    wrong.append(
                        f"{case.label} {lv.level}: SQL {levels.get((case.label, lv.level))}"
                        f" != engine {judged}"
                    )
                seen[f"level: {lv.status.value}"] += 1
                seen["level: progress judged"] += lv.progress is not None
            if flagged:
                expected = {**RECORD, **{m.fact: m.given for m in found.summary}}
                expected["derived.months_without_progress"] = None
                expected["derived.adjacent_segment_change"] = None
                seen["flagged"] += 1
            else:
                expected = {**found.record, **{m.fact: m.used for m in found.summary}}
                expected["derived.months_without_progress"] = found.months_without_progress
                expected["derived.adjacent_segment_change"] = found.adjacent_change
                seen["read"] += 1
                seen.update(f"read: {f}" for f in facts if expected[f] not in (None, False))
                seen["read: summary filled"] += any(
                    m.given is None and m.derived is not None for m in found.summary
                )
                if case.surgery.operations and any(
                    found.record[f] is not None for f in RECORD_SQL if "month" in f
                ):
                    seen["read: months after a later operation"] += 1
        expected = {f: expected[f] for f in facts}
        if got != expected:
            diff = {f: (got[f], expected[f]) for f in facts if got[f] != expected[f]}
            wrong.append(f"{case.label}: (screen, engine) {diff} (flagged {flagged})")
    return wrong, seen


def _given(case: Any, fact: str) -> object:
    value = getattr(case.imaging, fact.split(".")[1])
    if fact == "imaging.fusion_status":
        return None if value is None else value.value
    return value.truth


def test_record_facts_equal_the_engines_and_the_flag_is_sufficient(
    kb: Knowledge, cohort: Cohort
) -> None:
    wrong, seen = _problems(kb, cohort, _screened(kb, cohort))
    assert not wrong, f"{len(wrong)} episodes wrong, first: {wrong[:3]}"
    # The cohort exercises what is read, what is flagged, and the flag being needed.
    assert seen["read"] >= SIZE // 100, seen
    # Every derivation of core.derive.studies is SQL: no episode of the table is left unread.
    assert seen["flagged"] == 0, seen
    for fact in (
        "derived.ct_on_record",
        "derived.last_ct_month",
        "derived.fe_on_record",
        "derived.xray_on_record",
        "derived.last_xray_month",
        "derived.months_without_progress",
        "derived.adjacent_segment_change",
        "imaging.fusion_status",
        "imaging.hardware_failure",
        "imaging.instability_on_motion_films",
        "imaging.nerve_compression",
        "imaging.infection_signs",
    ):
        assert seen[f"read: {fact}"] >= 10, seen
    for status in ("fused", "not_yet_fused", "indeterminate", "nonunion"):
        assert seen[f"level: {status}"] >= 10, seen
    assert seen["read: summary filled"] >= 10, seen
    assert seen["read: derived.ct_solid_fusion"] >= 3, seen  # every index level fused on CT
    assert seen["read: months after a later operation"] >= 10, seen
    # Readings taken before a later operation at their level (superseded) are set aside.
    assert seen["set aside"] >= 10, seen


def test_the_sites_motion_cutoff_judges_the_levels(kb: Knowledge) -> None:
    """A site's own angular cut-off (a setting) moves the level judgements as in assess()."""
    # A cohort in which a few levels are decided by an angle between the two cut-offs (5 of
    # 3,000 episodes at this seed; the generator's draws move with every new case field).
    small = generate(kb, MUTANT_SIZE, AS_OF, seed=2)
    strict, lax = Site(motion_cutoff_deg=2.0), Site(motion_cutoff_deg=9.0)
    for site in (strict, lax):
        wrong, _ = _problems(kb, small, _screened(kb, small, site), site)
        assert not wrong, f"{site}: {wrong[:3]}"
    assert (
        _screened(kb, small, strict)["imaging__fusion_status"]
        != _screened(kb, small, lax)["imaging__fusion_status"]
    )


def _rewrite(old: str, new: str) -> Callable[..., list[tuple[str, str]]]:
    original = query.study_ctes

    def mutated(*args: Any) -> list[tuple[str, str]]:
        found = [(name, sql.replace(old, new)) for name, sql in original(*args)]
        assert found != original(*args), f"{old!r} is not in the study SQL"
        return found

    return mutated


@pytest.mark.parametrize(
    ("target", "mutant"),
    [
        ("study_ctes", _rewrite("WHERE pick = 1", "WHERE FALSE")),  # later operations ignored
        ("study_ctes", _rewrite("o.ago >= s.study_ago", "o.ago <= s.study_ago")),
        # a later operation at any level restarts the months
        (
            "study_ctes",
            _rewrite("concat(';', s.level, ';')) > 0", "concat(';', s.level, ';')) >= 0"),
        ),
        # a reading before a later operation at its level still judged it
        ("study_ctes", _rewrite("o.ago < s.study_ago", "FALSE")),
        ("study_ctes", _rewrite("AND x.seq IS NULL AS fused", "AS fused")),
        ("study_ctes", _rewrite("THEN r.months_since", "THEN NULL")),
        ("study_ctes", _rewrite("IN ('flexion_extension', 'static_xray')", "IN ('static_xray')")),
        # studies of a level in file order, not by time
        ("study_ctes", _rewrite("months, study, seq) AS pos", "study, seq) AS pos")),
        ("study_ctes", _rewrite("COALESCE(last_ct, last_pos)", "last_pos")),  # deciding study
        ("study_ctes", _rewrite("facet_bridging IS NOT FALSE", "facet_bridging IS TRUE")),
        ("study_ctes", _rewrite("WHEN BOOL_OR(hw_intact) THEN FALSE", "")),
        ("study_ctes", _rewrite("THEN last_score > first_score", "THEN last_score >= first_score")),
        ("study_ctes", _rewrite("(index_levels = 0 OR in_index)", "TRUE")),
        # adjacent segments: judged on the fused levels; always unstable
        (
            "study_ctes",
            _rewrite("FROM study_months WHERE adjacent", "FROM study_months WHERE fused"),
        ),
        (
            "study_ctes",
            _rewrite(
                " AS instability FROM adjacent_level", " OR TRUE AS instability FROM adjacent_level"
            ),
        ),
    ],
)
def test_a_mutated_study_sql_is_caught(
    kb: Knowledge, monkeypatch: pytest.MonkeyPatch, target: str, mutant: Any
) -> None:
    small = generate(kb, MUTANT_SIZE, AS_OF, seed=1915)
    monkeypatch.setattr(query, target, mutant)
    wrong, _ = _problems(kb, small, _screened(kb, small))
    assert wrong


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_written_registry_reads_back_the_same_studies(
    kb: Knowledge, tmp_path: Path, suffix: str
) -> None:
    """The registry reader turns a studies file into the table the generator drew (the study
    numbers, row order, levels and their place, every finding), and screens it the same."""
    small = generate(kb, 2000, AS_OF, seed=1916)
    write_registry(kb, small, tmp_path, suffix)
    con = duckdb.connect()
    load_registry(con, kb, tmp_path, AS_OF)
    read = con.table("studies").to_arrow_table()
    names = [n for n, _ in STUDY_COLUMNS if n != "seq"]
    order = [("episode_id", "ascending"), ("study", "ascending"), ("seq", "ascending")]
    assert read.sort_by(order).select(names) == small.studies.sort_by(order).select(names)
    screened = _screened(kb, small).select(["episode_id", "fired", "studies_not_read"])
    again = con.sql(
        f"SELECT episode_id, fired, studies_not_read FROM ({screening_sql(kb, AS_OF)})"
        " ORDER BY episode_id"
    ).to_arrow_table()
    assert again == screened
