"""Imaging studies in a screen: the record facts in SQL equal the engine's, and the flag for the
derivations not in SQL yet is sufficient (an episode left unflagged gets nothing from them).

On a generated cohort with studies (every modality, dated, in months or untimed, at fused and
adjacent levels, after later operations): for every episode the screen's record facts must be
``core.derive.studies``' own (``study_findings(...).record``), or those of a case without studies
when the episode is flagged; and for every episode left unflagged, the derivations the screen
does not do yet must give nothing (no ``ct_solid_fusion``, months without progress or
adjacent-segment change, no summary answer filled in). Mutating the study SQL must fail this.
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
from fusionwatch.core.derive.fusion import Cutoffs
from fusionwatch.core.derive.studies import study_findings
from fusionwatch.core.engine import NOTHING_ON_RECORD
from fusionwatch.screen import query
from fusionwatch.screen.derived import RECORD
from fusionwatch.screen.duck import screen_arrow
from fusionwatch.screen.episode import cases
from fusionwatch.screen.query import screening_sql
from fusionwatch.screen.record import RECORD_SQL
from fusionwatch.screen.registry import load_registry
from fusionwatch.screen.schema import STUDY_COLUMNS, column
from fusionwatch.screen.synthetic import Cohort, generate, write_registry
from tests.conftest import AS_OF

SIZE = min(int(os.environ.get("FUSIONWATCH_SCREEN_CASES", "100000")), 20000)
MUTANT_SIZE = min(SIZE, 3000)


@pytest.fixture(scope="module")
def cohort(kb: Knowledge) -> Cohort:
    return generate(kb, SIZE, AS_OF, seed=1914)


def _screened(kb: Knowledge, cohort: Cohort) -> pa.Table:
    tables = (cohort.episodes, cohort.visits, cohort.operations)
    return screen_arrow(kb, *tables, AS_OF, studies=cohort.studies)


def _problems(kb: Knowledge, cohort: Cohort, screened: pa.Table) -> tuple[list[str], Counter]:
    """Every episode whose record facts differ from the engine's, or whose studies would give a
    derivation not in SQL while it is not flagged; and counts of what the cohort exercised."""
    cutoffs = Cutoffs.from_thresholds(kb.thresholds, None)
    rows = screened.select(["episode_id", "studies_not_read", *map(column, RECORD_SQL)])
    by_id = {r["episode_id"]: r for r in rows.to_pylist()}
    wrong: list[str] = []
    seen: Counter = Counter()
    for case in cases(kb, cohort.episodes, cohort.visits, AS_OF, cohort.operations, cohort.studies):
        row = by_id[case.label]
        flagged = row["studies_not_read"]
        got = {fact: row[column(fact)] for fact in RECORD_SQL}
        if not case.imaging.studies:
            expected = {f: NOTHING_ON_RECORD[f] for f in RECORD_SQL}
            hidden: list[str] = []
        else:
            found = study_findings(case, cutoffs, AS_OF)
            hidden = _not_in_sql(found)
            seen["with studies"] += 1
            if flagged:
                expected = {f: RECORD[f] for f in RECORD_SQL}
                seen["flagged"] += 1
                seen["flag needed"] += bool(hidden)
            else:
                expected = {f: found.record[f] for f in RECORD_SQL}
                seen["read"] += 1
                seen.update(f"read: {f}" for f in RECORD_SQL if expected[f] not in (None, False))
                if case.surgery.operations and any(
                    found.record[f] is not None for f in RECORD_SQL if "month" in f
                ):
                    seen["read: months after a later operation"] += 1
        if got != expected:
            wrong.append(f"{case.label}: record {got} != {expected} (flagged {flagged})")
        if hidden and not flagged:
            wrong.append(f"{case.label}: not flagged, but the studies give {hidden}")
    return wrong, seen


def _not_in_sql(found: Any) -> list[str]:
    """What the engine derived from the studies that the screen does not derive yet."""
    hidden = [m.fact for m in found.summary if m.given is None and m.derived is not None]
    for name, value in (
        ("derived.ct_solid_fusion", found.record["derived.ct_solid_fusion"]),
        ("derived.months_without_progress", found.months_without_progress),
        ("derived.adjacent_segment_change", found.adjacent_change),
    ):
        if value is not None:
            hidden.append(name)
    return hidden


def test_record_facts_equal_the_engines_and_the_flag_is_sufficient(
    kb: Knowledge, cohort: Cohort
) -> None:
    wrong, seen = _problems(kb, cohort, _screened(kb, cohort))
    assert not wrong, f"{len(wrong)} episodes wrong, first: {wrong[:3]}"
    # The cohort exercises what is read, what is flagged, and the flag being needed.
    assert seen["read"] >= SIZE // 100, seen
    assert seen["flag needed"] >= SIZE // 100, seen
    for fact in ("derived.fe_on_record", "derived.xray_on_record", "derived.last_xray_month"):
        assert seen[f"read: {fact}"] >= 10, seen
    assert seen["read: months after a later operation"] >= 10, seen


def _rewrite(old: str, new: str) -> Callable[..., list[tuple[str, str]]]:
    original = query.study_ctes

    def mutated(*args: Any) -> list[tuple[str, str]]:
        found = [(name, sql.replace(old, new)) for name, sql in original(*args)]
        assert found != original(*args), f"{old!r} is not in the study SQL"
        return found

    return mutated


def _never(what: str) -> Callable[[str, str], str]:
    original = query.not_read_sql

    def mutated(facts: str, row: str) -> str:
        sql = original(facts, row)
        assert facts + what in sql
        return sql.replace(facts + what, "FALSE")

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
        ("study_ctes", _rewrite("IN ('flexion_extension', 'static_xray')", "IN ('static_xray')")),
        ("study_ctes", _rewrite("THEN r.months_since", "THEN NULL")),
        ("not_read_sql", _never(".any_adjacent")),
        ("not_read_sql", _never(".any_ct_fused")),
        ("not_read_sql", _never(".serial")),
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
