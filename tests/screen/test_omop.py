"""OMOP CDM input: mapped source codes become facts; the rest is counted; bad dates are named."""

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
    assert loaded.episodes == 3
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
    episodes = con.table("episodes").to_arrow_table()
    visits = con.table("visits").to_arrow_table()
    screen(con, kb, AS_OF, DEFAULT_SITE)
    got = {
        r["episode_id"]: r["suspicion"] for r in con.table("screened").to_arrow_table().to_pylist()
    }
    expected = {v.episode: v.suspicion for v in verdicts(episodes, visits, AS_OF)}
    # Person 1 has no core sign on record: the engine cannot tell (not "low"), nor can the screen.
    assert got == expected == {"1": "cannot_tell", "2": "moderate", "3": "high"}


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
    assert len(rows) == 3
    for row in rows:
        parse_data(row["case_data"], AS_OF)  # opens as one case: no CaseError
