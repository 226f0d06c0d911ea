"""OMOP CDM input: mapped source codes become facts; the rest is counted; bad dates are named."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.screen.errors import ScreenInputError
from fusionwatch.screen.omop import load_omop
from fusionwatch.screen.reference import verdicts
from tests.conftest import AS_OF

EXAMPLE = Path(__file__).parents[2] / "examples" / "screen" / "omop"


def test_the_example_maps_codes_and_counts_the_rest(kb: Knowledge) -> None:
    con = duckdb.connect()
    loaded = load_omop(con, kb, EXAMPLE, AS_OF)
    assert loaded.episodes == 4
    rows = {r["episode_id"]: r for r in con.table("episodes").to_arrow_table().to_pylist()}
    assert rows["1"]["risk__diabetes"] is True
    assert rows["1"]["risk__hba1c_percent"] == 8.4
    assert rows["1"]["risk__nicotine"] == "current"
    assert rows["1"]["person__sex"] == "female"
    assert rows["2"]["signs__mechanical_pain"] is True
    assert rows["2"]["emergency__new_weakness"] is False
    assert rows["3"]["imaging__fusion_status"] == "nonunion"
    # A vitamin D value in nmol/L is not the fact's ng/mL: left out, and counted.
    assert rows["3"]["risk__vitamin_d_ng_ml"] is None
    assert rows["3"]["risk__diabetes"] is None  # no diagnosis is "unknown", never "no"
    assert loaded.not_used["measurement.measurement_source_value: code or unit not mapped"] == 1
    assert (
        loaded.not_used["person: no fusion procedure (CPT 22612/22630) by the screening date"] == 1
    )


def test_omop_episodes_screen_as_assess(kb: Knowledge) -> None:
    from fusionwatch.core.site import DEFAULT_SITE
    from fusionwatch.screen.worklist import screen

    con = duckdb.connect()
    load_omop(con, kb, EXAMPLE, AS_OF)
    episodes, visits, operations = (
        con.table(t).to_arrow_table() for t in ("episodes", "visits", "operations")
    )
    screen(con, kb, AS_OF, DEFAULT_SITE)
    rows = con.table("screened").to_arrow_table().to_pylist()
    got = {r["episode_id"]: (r["triage"], r["suspicion"], r["fired_rules"]) for r in rows}
    expected = {
        v.episode: (v.triage, v.suspicion, v.fired)
        for v in verdicts(episodes, visits, AS_OF, DEFAULT_SITE, operations)
    }
    assert {k: fired_ids(v[2]) for k, v in got.items()} == {
        k: set(v[2].split()) for k, v in expected.items()
    }
    # Person 1 has no core sign on record: the engine cannot tell (not "low"), nor can the screen.
    # Person 5's scores stalled after a later operation of unknown kind (the engine's own reading).
    assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in expected.items()}
    assert {k: v[1] for k, v in got.items()} == {
        "1": "cannot_tell",
        "2": "moderate",
        "3": "high",
        "5": "high",
    }


def fired_ids(fired: str | None) -> set[str]:
    """Rule ids of a worklist row's ``fired_rules`` (policy pathways left out)."""
    return {f for f in (fired or "").replace(";", " ").split() if ":" not in f}


def test_a_bad_date_is_named(kb: Knowledge, tmp_path: Path) -> None:
    folder = tmp_path / "omop"
    shutil.copytree(EXAMPLE, folder)
    path = folder / "measurement.csv"
    path.write_text(path.read_text().replace("2026-01-05", "5 Jan 2026", 1))
    with pytest.raises(ScreenInputError) as caught:
        load_omop(duckdb.connect(), kb, folder, AS_OF)
    assert (caught.value.where.row, caught.value.where.column) == (4, "measurement_date")


def test_a_gender_concept_outside_the_two_standard_ones_is_counted(
    kb: Knowledge, tmp_path: Path
) -> None:
    folder = tmp_path / "omop"
    shutil.copytree(EXAMPLE, folder)
    path = folder / "person.csv"
    path.write_text(path.read_text().replace("3,8532,1970", "3,8551,1970"))
    con = duckdb.connect()
    loaded = load_omop(con, kb, folder, AS_OF)
    rows = {r["episode_id"]: r for r in con.table("episodes").to_arrow_table().to_pylist()}
    assert (rows["2"]["person__sex"], rows["3"]["person__sex"]) == ("male", None)
    assert loaded.not_used["person.gender_concept_id: not 8507 or 8532 (sex left unknown)"] == 1


def test_values_a_case_file_cannot_hold_are_set_aside_and_counted(
    kb: Knowledge, tmp_path: Path
) -> None:
    """Out of range, a fraction of a whole-number score, a temperature without its unit, rehab
    longer than the time since surgery: each cell unknown and counted; every row opens."""
    from fusionwatch.core.site import DEFAULT_SITE
    from fusionwatch.files.case import parse_data
    from fusionwatch.screen.saved import worklist_rows
    from fusionwatch.screen.worklist import screen

    folder = tmp_path / "omop"
    shutil.copytree(EXAMPLE, folder)
    with (folder / "measurement.csv").open("a") as handle:
        handle.write("35,1,2026-06-01,72514-3,15,{score}\n36,2,2026-06-01,4548-4,55,%\n")
    with (folder / "observation.csv").open("a") as handle:
        handle.write("45,2,2026-05-10,pain.limb,6.5\n46,3,2026-05-10,infection.temperature,39\n")
        handle.write("47,2,2026-05-10,care.rehab_weeks,400\n")
        handle.write("48,3,2026-05-10,signs.mechanical_pain,maybe\n")
    con = duckdb.connect()
    loaded = load_omop(con, kb, folder, AS_OF)
    noted = {k: v for k, v in loaded.not_used.items() if k.endswith("(set aside as unknown)")}
    assert noted == {
        "pain.axial: outside 0-10 (set aside as unknown)": 1,
        "risk.hba1c_percent: outside 3-20 (set aside as unknown)": 1,
        "pain.limb: not a whole number (set aside as unknown)": 1,
        "infection.temperature: no unit (set aside as unknown)": 1,
        "care.rehab_weeks: longer than the time since surgery (set aside as unknown)": 1,
    }
    assert loaded.not_used["signs.mechanical_pain: value not an answer or code of the fact"] == 1
    screen(con, kb, AS_OF, DEFAULT_SITE)
    rows = list(worklist_rows(con, kb))
    assert len(rows) == 4
    for row in rows:
        parse_data(row["case_data"], AS_OF)  # opens as one case: no CaseError


def _tables(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, object]]:
    rows = con.table(name).to_arrow_table().to_pylist()
    return sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))


def test_later_fusion_days_are_later_operations_of_unspecified_kind(kb: Knowledge) -> None:
    """Person 5: fusion codes on 2024-01-15 (22612 with the add-on 22614) and 2025-06-20 (22630
    with 22849), and a 22612 dated after the screening date. The first day is the index fusion,
    the second a later operation whose kind, levels and reason stay unknown."""
    from fusionwatch.core.site import DEFAULT_SITE
    from fusionwatch.files.case import parse_data
    from fusionwatch.screen.saved import worklist_rows
    from fusionwatch.screen.worklist import screen

    con = duckdb.connect()
    loaded = load_omop(con, kb, EXAMPLE, AS_OF)
    assert loaded.operations == 1
    rows = {r["episode_id"]: r for r in con.table("episodes").to_arrow_table().to_pylist()}
    assert str(rows["5"]["surgery__date"]) == "2024-01-15"  # the first fusion day, not the last
    assert rows["5"]["history_failed_fusion"] is False
    assert rows["5"]["surgery__prior_failed_fusion_same_site"] is None  # unknown, not "no"
    assert _tables(con, "operations") == [
        {
            "episode_id": "5",
            "seq": 0,
            "kind": "unspecified",
            "op_date": dt.date(2025, 6, 20),
            "months_since": None,
            "levels": None,
            "reason": None,
        }
    ]
    # 20936, 64483, 22614 and 22849 are not read as operations; each row is counted.
    assert (
        loaded.not_used[
            "procedure_occurrence.procedure_source_value: not a fusion code (22612/22630)"
        ]
        == 4
    )
    assert (
        loaded.not_used["procedure_occurrence: fusion procedures dated after the screening date"]
        == 1
    )
    screen(con, kb, AS_OF, DEFAULT_SITE)
    screened = {r["episode_id"]: r for r in con.table("screened").to_arrow_table().to_pylist()}
    # Time since surgery counts from the later operation (2025-06-20 to 2026-11-23).
    assert screened["5"]["months_since_surgery"] == 17.1
    saved = {r["episode_id"]: r for r in worklist_rows(con, kb)}
    case = parse_data(saved["5"]["case_data"], AS_OF)
    assert [(op.kind.value, op.date, op.levels, op.reason) for op in case.surgery.operations] == [
        ("unspecified", dt.date(2025, 6, 20), (), None)
    ]


def test_score_visits_are_placed_and_what_is_left_out_is_counted(kb: Knowledge) -> None:
    con = duckdb.connect()
    loaded = load_omop(con, kb, EXAMPLE, AS_OF)
    visits = [
        {k: v for k, v in r.items() if v is not None and k != "episode_id"}
        for r in _tables(con, "visits")
    ]
    assert sorted(visits, key=lambda v: str(v.get("visit_date", ""))) == [
        {"baseline": True, "odi": 48.0, "promis_pf": 31.0},  # the latest pre-operative day
        {"baseline": False, "visit_date": dt.date(2024, 7, 15), "odi": 30.0},
        {"baseline": False, "visit_date": dt.date(2025, 1, 15), "odi": 42.0, "promis_pf": 36.0},
        {"baseline": False, "visit_date": dt.date(2025, 12, 1), "odi": 44.0},
        {"baseline": False, "visit_date": dt.date(2026, 9, 1), "odi": 46.0, "promis_pf": 35.0},
    ]
    assert loaded.visits == 5
    scores = {k: v for k, v in loaded.not_used.items() if "score" in k}
    assert scores == {
        "measurement.value_as_number: odi score earlier than the latest pre-operative score": 1,
        "measurement.value_as_number: ndi score that does not fit the fused region": 1,
    }


def test_bad_score_rows_are_counted_by_reason(kb: Knowledge, tmp_path: Path) -> None:
    folder = tmp_path / "omop"
    shutil.copytree(EXAMPLE, folder)
    with (folder / "measurement.csv").open("a") as handle:
        handle.write("70,5,2026-10-01,97909-6,140,{score}\n")  # outside 0-100
        handle.write("71,5,2026-10-02,97909-6,40,mg\n")  # not a score unit
        handle.write("72,5,2026-12-01,97909-6,40,{score}\n")  # after the screening date
        handle.write("73,5,2024-01-15,97909-6,40,{score}\n")  # the fusion day
        handle.write("74,5,2026-10-03,97909-6,40,{score}\n")  # two values on one day
        handle.write("75,5,2026-10-03,97909-6,41,{score}\n")
        handle.write("76,4,2026-10-03,97909-6,41,{score}\n")  # person 4 had no fusion
        handle.write("77,1,2026-10-03,97909-6,20,{score}\n")  # person 1: odi and ndi,
        handle.write("78,1,2026-10-04,82237-9,20,{score}\n")  # no region
        handle.write("79,5,2026-10-03,12345-6,20,{score}\n")  # a code not mapped
    con = duckdb.connect()
    loaded = load_omop(con, kb, folder, AS_OF)
    scores = {
        k.removeprefix("measurement.value_as_number: "): v
        for k, v in loaded.not_used.items()
        if k.startswith("measurement.value_as_number")
    }
    assert scores == {
        "odi score outside its scale": 1,
        "odi score in a unit that is not a score unit": 1,
        "odi score dated after the screening date": 1,
        "odi score on the day of the fusion (before or after it unknown)": 1,
        "odi score with a different value of the same score on the same day": 2,
        "odi score of a person with no fusion procedure": 1,
        "odi score odi and ndi in one series without surgery.region": 1,
        "ndi score odi and ndi in one series without surgery.region": 1,
        "odi score earlier than the latest pre-operative score": 1,
        "ndi score that does not fit the fused region": 1,
    }
    assert loaded.not_used["measurement.measurement_source_value: code or unit not mapped"] == 2
    assert loaded.visits == 5  # person 5's visits as before; nothing new was placed


def test_a_score_that_is_not_a_number_is_named(kb: Knowledge, tmp_path: Path) -> None:
    folder = tmp_path / "omop"
    shutil.copytree(EXAMPLE, folder)
    with (folder / "measurement.csv").open("a") as handle:
        handle.write("70,5,2026-10-01,97909-6,forty,{score}\n")
    with pytest.raises(ScreenInputError) as caught:
        load_omop(duckdb.connect(), kb, folder, AS_OF)
    where = caught.value.where
    assert (Path(where.file).name, where.row, where.column) == (
        "measurement.csv",
        16,
        "value_as_number",
    )


def test_a_corrupt_row_is_refused_with_its_file(kb: Knowledge, tmp_path: Path) -> None:
    folder = tmp_path / "omop"
    shutil.copytree(EXAMPLE, folder)
    with (folder / "procedure_occurrence.csv").open("a") as handle:
        handle.write('20,5,"2026-10-01,22612\n')  # a quote never closed
    with pytest.raises(ScreenInputError) as caught:
        load_omop(duckdb.connect(), kb, folder, AS_OF)
    where = caught.value.where
    assert (Path(where.file).name, where.row, where.column) == (
        "procedure_occurrence.csv",
        11,
        "procedure_date",
    )


# The OMOP example as the registry layout: the same facts, visits and later operation, written
# by hand (kind ``unspecified``, no levels, no reason).
_REGISTRY = {
    "episodes.csv": """episode_id,surgery.date,surgery.region,person.sex,risk.nicotine,\
risk.diabetes,risk.hba1c_percent,risk.vitamin_d_ng_ml,signs.mechanical_pain,\
emergency.new_weakness,risk.bmi,risk.albumin_g_dl,imaging.fusion_status
1,2025-12-15,,female,current,yes,8.4,14,,,,,
2,2026-03-02,,male,,,,,yes,no,31.2,,
3,2024-10-20,,female,,,,,,,,3.1,nonunion
5,2024-01-15,lumbar,male,,,,,yes,no,,,
""",
    "visits.csv": """episode_id,when,odi,promis_pf
5,baseline,48,31
5,2024-07-15,30,
5,2025-01-15,42,36
5,2025-12-01,44,
5,2026-09-01,46,35
""",
    "operations.csv": """episode_id,kind,date,levels,reason
5,unspecified,2025-06-20,,
""",
}


def test_the_omop_episodes_equal_the_same_episodes_from_the_registry_layout(
    kb: Knowledge, tmp_path: Path
) -> None:
    """Same episode table, visits and operations, the same worklist rows, and assess() agrees."""
    from fusionwatch.core.site import DEFAULT_SITE
    from fusionwatch.screen.registry import load_registry
    from fusionwatch.screen.saved import worklist_rows
    from fusionwatch.screen.worklist import screen

    folder = tmp_path / "registry"
    folder.mkdir()
    for name, body in _REGISTRY.items():
        (folder / name).write_text(body)
    omop, registry = duckdb.connect(), duckdb.connect()
    load_omop(omop, kb, EXAMPLE, AS_OF)
    load_registry(registry, kb, folder, AS_OF)
    for table in ("episodes", "visits", "operations"):
        assert _tables(omop, table) == _tables(registry, table), table
    for con in (omop, registry):
        screen(con, kb, AS_OF, DEFAULT_SITE)
    assert list(worklist_rows(omop, kb)) == list(worklist_rows(registry, kb))
    got = {r["episode_id"]: r for r in _tables(omop, "screened")}
    assert got == {r["episode_id"]: r for r in _tables(registry, "screened")}
    assert len(got) == 4
    episodes, visits, operations = (
        omop.table(t).to_arrow_table() for t in ("episodes", "visits", "operations")
    )
    for verdict in verdicts(episodes, visits, AS_OF, DEFAULT_SITE, operations):
        row = got[verdict.episode]
        assert (row["triage"], row["suspicion"]) == (verdict.triage, verdict.suspicion)
        assert fired_ids(row["fired_rules"]) == set(verdict.fired.split())
