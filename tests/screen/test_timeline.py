"""Timelines the single-case reader refuses are set aside cell by cell by the screen, in SQL.

The generated cohorts of the equivalence test are valid timelines (``screen.episode.cases``
refuses any other); these tests use cohorts generated with contradictory timelines left in.
"""

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.errors import CaseError
from fusionwatch.core.site import DEFAULT_SITE
from fusionwatch.core.timeline import timeline_problems
from fusionwatch.files.case import parse_data
from fusionwatch.screen import timeline
from fusionwatch.screen.episode import case_data, cases
from fusionwatch.screen.fhirbulk import load_fhir_bulk
from fusionwatch.screen.query import screening_sql
from fusionwatch.screen.reference import Verdict, verdicts
from fusionwatch.screen.registry import load_registry
from fusionwatch.screen.saved import worklist_rows
from fusionwatch.screen.synthetic import Cohort, generate, write_registry
from fusionwatch.screen.worklist import screen
from tests.conftest import AS_OF
from tests.screen.verdict_only import switched_off

SIZE = 3000
BULK = Path(__file__).parents[2] / "examples" / "screen" / "fhir-bulk"


@pytest.fixture(scope="module")
def invalid(kb: Knowledge) -> Cohort:
    return generate(kb, SIZE, AS_OF, seed=1414, invalid_timelines=True)


def _grouped(table: pa.Table) -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for row in table.to_pylist():
        found.setdefault(str(row["episode_id"]), []).append(row)
    return found


def _refused(kb: Knowledge, cohort: Cohort) -> set[tuple[str, str]]:
    """(episode, field) of every timeline problem the single-case reader names."""
    visits, ops = _grouped(cohort.visits), _grouped(cohort.operations)
    found = set()
    for row in cohort.episodes.to_pylist():
        key = row["episode_id"]
        data = case_data(kb, row, visits.get(key, ()), ops.get(key, ()))
        case = Case.model_validate_json(json.dumps(data, default=str), context={"as_of": AS_OF})
        found |= {(key, p.field) for p in timeline_problems(case, AS_OF)}
    return found


def _loaded(cohort: Cohort) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("episodes", "visits", "operations", "studies"):
        con.register(f"arrow_{name}", getattr(cohort, name))
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM arrow_{name}")
    return con


def test_the_generated_cohort_is_valid_unless_asked(kb: Knowledge, invalid: Cohort) -> None:
    valid = generate(kb, SIZE, AS_OF, seed=1414)
    assert sum(1 for _ in cases(kb, valid.episodes, valid.visits, AS_OF, valid.operations))
    with pytest.raises(CaseError, match=r"time since surgery|after today"):
        list(cases(kb, invalid.episodes, invalid.visits, AS_OF, invalid.operations))


def test_sql_sets_aside_exactly_the_cells_the_reader_refuses(
    kb: Knowledge, invalid: Cohort
) -> None:
    expected = _refused(kb, invalid)
    assert {field for _, field in expected} == {c.fact for c in timeline.CHECKS}
    con = _loaded(invalid)
    counts = timeline.set_aside(con, AS_OF)
    got = {
        (episode, fact)
        for episode, cells in con.execute(
            f"SELECT episode_id, {timeline.SET_ASIDE} FROM {timeline.TABLE}"
        ).fetchall()
        for fact in cells.split(timeline.SEP)
    }
    assert got == expected
    assert sum(counts.values()) == len(expected)
    left = con.execute(
        "SELECT COUNT(*) FROM episodes e JOIN timeline_set_aside s USING (episode_id)"
        " WHERE (s.bad1 AND e.care__rehab_weeks IS NOT NULL)"
        " OR (s.bad2 AND e.signs__worsening_began_month IS NOT NULL)"
    ).fetchall()[0][0]
    assert left == 0


def test_the_screen_without_the_cells_agrees_with_assess(kb: Knowledge, invalid: Cohort) -> None:
    con = _loaded(invalid)
    timeline.set_aside(con, AS_OF)
    episodes = con.table("episodes").to_arrow_table()
    sql = screening_sql(kb, AS_OF)
    rows = con.execute(
        f"SELECT episode_id, triage, suspicion, fired, screen_not_done, studies_not_read"
        f" FROM ({sql}) ORDER BY episode_id"
    ).fetchall()
    got = [Verdict(*row[:5]) for row in rows]
    # A flagged episode is screened without its studies (test_studies.py checks the flag).
    flagged = pa.array([row[0] for row in rows if row[5]], type=pa.string())
    studies = invalid.studies.filter(pc.invert(pc.is_in(invalid.studies["episode_id"], flagged)))
    with switched_off():
        # cases() refuses an invalid timeline: the cleaned rows open as one case each.
        expected = verdicts(
            episodes, invalid.visits, AS_OF, DEFAULT_SITE, invalid.operations, studies
        )
    assert [v.episode for v in got] == [v.episode for v in expected]
    wrong = [(e, g) for e, g in zip(expected, got, strict=True) if e != g]
    assert not wrong, f"{len(wrong)} differ, first: {wrong[:2]}"


def test_a_registry_run_counts_names_and_opens_every_row(kb: Knowledge, tmp_path: Path) -> None:
    cohort = generate(kb, 300, AS_OF, seed=15, invalid_timelines=True)
    write_registry(kb, cohort, tmp_path / "reg", suffix=".csv")
    con = duckdb.connect()
    loaded = load_registry(con, kb, tmp_path / "reg", AS_OF)
    expected = _refused(kb, cohort)
    assert expected
    for check in timeline.CHECKS:
        count = sum(1 for _, f in expected if f == check.fact)
        assert loaded.not_used.get(timeline.note(check), 0) == count
    screen(con, kb, AS_OF, DEFAULT_SITE)
    flagged = dict(
        con.execute(
            f"SELECT episode_id, {timeline.SET_ASIDE} FROM screened"
            f" WHERE {timeline.SET_ASIDE} IS NOT NULL"
        ).fetchall()
    )
    assert set(flagged) == {episode for episode, _ in expected}
    for row in worklist_rows(con, kb):
        parse_data(row["case_data"], AS_OF)  # the workspace opens it: no CaseError


def test_a_bulk_patient_is_screened_without_the_contradictory_answer(
    kb: Knowledge, tmp_path: Path
) -> None:
    folder = tmp_path / "bulk"
    shutil.copytree(BULK, folder)
    rehab = {
        "resourceType": "Observation",
        "id": "rehab-too-long",
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": "https://fusionwatch.example/fhir/CodeSystem/fact",
                    "code": "care.rehab_weeks",
                }
            ]
        },
        "subject": {"reference": "Patient/fw-bulk-1"},
        "valueQuantity": {"value": 400, "unit": "weeks"},
    }
    with (folder / "Observation.ndjson").open("a") as handle:
        handle.write(json.dumps(rehab) + "\n")
    con = duckdb.connect()
    loaded = load_fhir_bulk(con, kb, folder, AS_OF)
    assert loaded.not_used[timeline.note(timeline.CHECKS[1])] == 1
    screen(con, kb, AS_OF, DEFAULT_SITE)
    row = con.execute(
        f"SELECT {timeline.SET_ASIDE} FROM screened WHERE episode_id = 'fw-bulk-1'"
    ).fetchall()
    assert row == [("care.rehab_weeks",)]
