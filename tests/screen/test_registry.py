"""Registry input: the committed example screens like assess(); bad input is named and refused."""

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fusionwatch.cli.main import app
from fusionwatch.cli.screen import _counted
from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.site import DEFAULT_SITE
from fusionwatch.screen.errors import ScreenInputError
from fusionwatch.screen.query import screening_sql
from fusionwatch.screen.reference import verdicts
from fusionwatch.screen.registry import load_registry
from fusionwatch.screen.saved import worklist_rows
from fusionwatch.screen.worklist import NOT_DONE, screen
from tests.conftest import AS_OF

EXAMPLE = Path(__file__).parents[2] / "examples" / "screen" / "registry"
runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "registry"
    shutil.copytree(EXAMPLE, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _load(kb: Knowledge, folder: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_registry(con, kb, folder, AS_OF)
    return con


def test_the_example_screens_as_assess_judges_each_episode(kb: Knowledge, folder: Path) -> None:
    con = _load(kb, folder)
    episodes, visits, operations, studies = (
        con.table(t).to_arrow_table() for t in ("episodes", "visits", "operations", "studies")
    )
    assert episodes.num_rows == 60
    assert visits.num_rows > 100
    assert operations.num_rows > 10
    assert studies.num_rows == 9
    assert episodes["answers_not_sure"].null_count < 60
    screen(con, kb, AS_OF, DEFAULT_SITE)
    screened = con.table("screened").to_arrow_table().to_pylist()
    got = {
        r["episode_id"]: (r["triage"], r["suspicion"], r["fired_rules"], r["screen_not_done"])
        for r in screened
    }
    # Every derivation from studies is SQL: no episode's studies are left unread.
    flagged = {r["episode_id"] for r in screened if r["imaging_studies_not_read"]}
    assert flagged == set()
    unread = pa.array(sorted(flagged), type=pa.string())
    read = studies.filter(pc.invert(pc.is_in(studies["episode_id"], unread)))
    expected = verdicts(episodes, visits, AS_OF, DEFAULT_SITE, operations, read)
    assert {v.episode: (v.triage, v.suspicion, v.fired, v.not_done) for v in expected} == got


def _error(kb: Knowledge, folder: Path) -> ScreenInputError:
    with pytest.raises(ScreenInputError) as caught:
        _load(kb, folder)
    return caught.value


def test_a_row_wider_than_the_header_is_named(kb: Knowledge, folder: Path) -> None:
    # DuckDB's sniffer would take the wider last row for the header ("column missing").
    episodes = folder / "episodes.csv"
    lines = episodes.read_text().rstrip("\n").split("\n")
    episodes.write_text("\n".join([*lines[:-1], lines[-1] + ",surplus"]) + "\n")
    error = _error(kb, folder)
    assert error.where.file.endswith("episodes.csv")
    assert error.where.row == len(lines) - 1
    assert "fields where the header has" in str(error)


def test_missing_required_column(kb: Knowledge, folder: Path) -> None:
    _edit(folder / "episodes.csv", "episode_id,", "id,")
    error = _error(kb, folder)
    assert error.where.column == "episode_id"
    assert "episodes.csv" in error.where.file


def test_wrong_type_names_row_and_column(kb: Knowledge, folder: Path) -> None:
    path = folder / "episodes.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("person.age")] = "sixty"
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    error = _error(kb, folder)
    assert (error.where.row, error.where.column) == (3, "person.age")
    assert "number" in error.message


def test_unknown_code_names_row_and_column(kb: Knowledge, folder: Path) -> None:
    path = folder / "episodes.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[5].split(",")
    cells[header.index("signs.mechanical_pain")] = "maybe"
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    error = _error(kb, folder)
    assert (error.where.row, error.where.column) == (5, "signs.mechanical_pain")


def test_out_of_range_score_in_visits(kb: Knowledge, folder: Path) -> None:
    path = folder / "visits.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("nrs_axial")] = "11"
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    error = _error(kb, folder)
    assert (error.where.row, error.where.column) == (2, "nrs_axial")
    assert "visits.csv" in error.where.file


def test_visit_for_an_unknown_episode(kb: Knowledge, folder: Path) -> None:
    with (folder / "visits.csv").open("a") as handle:
        handle.write("E9999999,6,5,,,,,,\n")
    error = _error(kb, folder)
    assert error.where.column == "episode_id"
    assert "no episode" in error.message


def test_corrupt_csv_line(kb: Knowledge, folder: Path) -> None:
    with (folder / "episodes.csv").open("a") as handle:
        handle.write('E9999999,too,many,"unclosed\n')
    error = _error(kb, folder)
    assert "episodes.csv" in str(error)


def test_corrupt_parquet(kb: Knowledge, folder: Path, tmp_path: Path) -> None:
    table = duckdb.read_csv(str(folder / "episodes.csv"), all_varchar=True).to_arrow_table()
    pq.write_table(table, folder / "episodes.parquet")
    (folder / "episodes.csv").unlink()
    data = (folder / "episodes.parquet").read_bytes()
    (folder / "episodes.parquet").write_bytes(data[: len(data) // 2])
    error = _error(kb, folder)
    assert "episodes.parquet" in error.where.file


def test_columns_outside_the_layout_are_counted(kb: Knowledge, folder: Path) -> None:
    path = folder / "episodes.csv"
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",favourite_colour"] + [line + ",blue" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    con = duckdb.connect()
    loaded = load_registry(con, kb, folder, AS_OF)
    assert loaded.not_used == {"episodes.csv:favourite_colour": 60}


def test_cli_worklist_needs_the_patient_level_flag(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "worklist.parquet"
    result = runner.invoke(app, ["screen", str(folder), "--out", str(out), "--as-of", "2026-11-23"])
    assert result.exit_code == 2
    assert not out.exists()


def test_cli_writes_a_ranked_worklist(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "worklist.parquet"
    args = ["screen", str(folder), "--out", str(out), "--patient-level", "--as-of", "2026-11-23"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == 60
    groups = [r["worklist_group"] for r in rows]
    order = ["emergency", "urgent", NOT_DONE, "prompt referral", "routine"]
    assert groups == sorted(groups, key=order.index)
    assert set(groups) == set(order)
    assert all(r["rank"] is None for r in rows if r["worklist_group"] == NOT_DONE)
    assert all(r["screen_not_done"] for r in rows if r["worklist_group"] == NOT_DONE)
    ranked = [r["rank"] for r in rows if r["rank"] is not None]
    assert ranked == list(range(1, len(ranked) + 1))
    assert {r["knowledge_version"] for r in rows}
    assert rows[0]["site_stimulator_policy"] == "ncd_150_2"
    assert rows[0]["site_motion_cutoff_deg"] == 5.0
    assert all(r["reasons"].startswith("FW-EMERG") for r in rows if r["triage"] == "emergency")
    assert "<11" in result.output
    counts = " ".join(result.output.split())  # the console folds long lines
    assert "Screened 60 episodes (139 score visits, 23 later operations," in counts


def test_cli_bad_input_leaves_no_file(folder: Path, tmp_path: Path) -> None:
    _edit(folder / "episodes.csv", "episode_id,", "id,")
    out = tmp_path / "worklist.csv"
    args = ["screen", str(folder), "--out", str(out), "--patient-level", "--as-of", "2026-11-23"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "episode_id" in result.output
    assert not list(tmp_path.glob("*worklist*"))


def test_typed_parquet_reads_as_the_csv(kb: Knowledge, folder: Path, tmp_path: Path) -> None:
    typed = tmp_path / "typed"
    typed.mkdir()
    con = _load(kb, folder)
    for name in ("episodes", "visits", "operations", "imaging_studies"):
        source = duckdb.read_csv(str(folder / f"{name}.csv"))  # DuckDB infers the types
        source.write_parquet(str(typed / f"{name}.parquet"))
    kinds = dict(
        zip(
            *[
                duckdb.read_parquet(str(typed / "episodes.parquet")).columns,
                [str(t) for t in duckdb.read_parquet(str(typed / "episodes.parquet")).types],
            ],
            strict=True,
        )
    )
    assert kinds["person.age"] in {"BIGINT", "DOUBLE"}
    assert kinds["surgery.date"] == "DATE"
    again = _load(kb, typed)
    for name in ("episodes", "visits", "operations", "studies"):
        order = "episode_id" if name == "episodes" else "ALL"
        first = con.sql(f"SELECT * FROM {name} ORDER BY {order}").fetchall()
        assert again.sql(f"SELECT * FROM {name} ORDER BY {order}").fetchall() == first


def test_the_site_policy_comes_from_the_settings(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUSIONWATCH_STIMULATOR_POLICY", "mp_524")
    monkeypatch.setenv("FUSIONWATCH_MOTION_CUTOFF_DEG", "4")
    out = tmp_path / "worklist.csv"
    args = ["screen", str(folder), "--out", str(out), "--patient-level", "--as-of", "2026-11-23"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = duckdb.read_csv(str(out))
    got = dict(zip(table.columns, table.limit(1).fetchall()[0], strict=True))
    assert (got["site_stimulator_policy"], got["site_motion_cutoff_deg"]) == ("mp_524", 4.0)


def test_an_unknown_policy_is_refused_before_reading(folder: Path) -> None:
    args = ["screen", str(folder), "--as-of", "2026-11-23", "--stimulator-policy", "nope"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "ncd_150_2" in result.output


def test_not_sure_is_kept_apart_from_unknown(kb: Knowledge, folder: Path) -> None:
    path = folder / "episodes.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("emergency.new_weakness")] = "not sure"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    con = _load(kb, folder)
    listed = con.execute(
        "SELECT answers_not_sure, emergency__new_weakness FROM episodes ORDER BY episode_id LIMIT 1"
    ).fetchone()
    assert listed is not None
    assert "emergency.new_weakness" in listed[0].split(";")
    assert listed[1] is None


def test_other_spellings_of_the_codes_pass_and_a_later_bad_code_is_still_named(
    kb: Knowledge, folder: Path
) -> None:
    """The quick scan (codes as written) sends odd spellings to the full check, which accepts
    them; a bad code in a later row and column is still the one named."""
    path = folder / "episodes.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("signs.mechanical_pain")] = " Yes "
    cells[header.index("emergency.new_weakness")] = "NOT SURE"
    cells[header.index("signs.focal_pain")] = "unknown"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    con = _load(kb, folder)
    first = con.execute(
        "SELECT signs__mechanical_pain, signs__focal_pain, answers_not_sure FROM episodes"
        " ORDER BY episode_id LIMIT 1"
    ).fetchone()
    assert first is not None
    assert first[:2] == (True, None)
    assert "emergency.new_weakness" in first[2].split(";")
    cells = lines[4].split(",")
    cells[header.index("signs.focal_pain")] = "sometimes"
    lines[4] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    error = _error(kb, folder)
    assert (error.where.row, error.where.column) == (4, "signs.focal_pain")


def test_temperature_without_its_unit(kb: Knowledge, folder: Path) -> None:
    path = folder / "episodes.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("infection.temperature")] = "38.5"
    cells[header.index("infection.temperature_unit")] = ""
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    error = _error(kb, folder)
    assert (error.where.row, error.where.column) == (2, "infection.temperature_unit")


def test_operation_before_the_index_fusion(kb: Knowledge, folder: Path) -> None:
    with (folder / "operations.csv").open("a") as handle:
        handle.write("E0000000,extension,1990-01-01,,,\n")
    error = _error(kb, folder)
    assert error.where.column == "date"
    assert "operations.csv" in error.where.file


def test_reason_only_for_a_revision(kb: Knowledge, folder: Path) -> None:
    with (folder / "operations.csv").open("a") as handle:
        handle.write("E0000001,extension,,3,,nonunion\n")
    error = _error(kb, folder)
    assert (error.where.column, error.message) == (
        "reason",
        "an operation's reason is only given for a revision",
    )


def test_operation_levels_outside_the_region(kb: Knowledge, folder: Path) -> None:
    lumbar = duckdb.sql(
        f"SELECT episode_id FROM read_csv('{folder / 'episodes.csv'}', all_varchar = true)"
        " WHERE \"surgery.region\" = 'lumbar' ORDER BY 1 LIMIT 1"
    ).fetchall()[0]
    with (folder / "operations.csv").open("a") as handle:
        handle.write(f"{lumbar[0]},extension,,3,C4-C5,\n")
    error = _error(kb, folder)
    assert (error.where.column, "operations.csv" in error.where.file) == ("levels", True)
    assert "region" in error.message


def test_a_dated_visit_at_the_month_of_an_undated_one(kb: Knowledge, folder: Path) -> None:
    """The case model places a dated visit at its month: two visits at one point are refused."""
    episodes = duckdb.read_csv(str(folder / "episodes.csv"), all_varchar=True)
    dated = episodes.filter('"surgery.date" IS NOT NULL').limit(1).fetchall()[0]
    names = episodes.columns
    row = dict(zip(names, dated, strict=True))
    day = dt.date.fromisoformat(row["surgery.date"])
    three_months = (
        day.replace(month=day.month + 3)
        if day.month <= 9
        else day.replace(year=day.year + 1, month=day.month - 9)
    )
    with (folder / "visits.csv").open("a") as handle:
        handle.write(f"{row['episode_id']},{three_months.isoformat()},5,,,,,,\n")
        handle.write(f"{row['episode_id']},3,5,,,,,,\n")
    error = _error(kb, folder)
    assert (error.where.column, error.message) == (
        "when",
        "the same time point as an earlier visit",
    )


def test_studies_open_as_the_case_the_screen_read(kb: Knowledge, folder: Path) -> None:
    """The case data of an episode carries its studies (the workspace opens the same case),
    and the record facts come from them: films on record, months after the later operation."""
    con = _load(kb, folder)
    screen(con, kb, AS_OF, DEFAULT_SITE)
    rows = {r["episode_id"]: r for r in worklist_rows(con, kb)}
    studies = rows["E0000002"]["case_data"]["imaging"]["studies"]
    assert [s["modality"] for s in studies] == ["static_xray", "flexion_extension", "mri"]
    assert [lv["level"] for lv in studies[0]["levels"]] == ["T10-T11", "T11-T12"]
    assert studies[0]["levels"][0]["periscrew_lucency_mm"] == 0.5
    assert studies[2] == {
        "modality": "mri",
        "date": "2023-01-15",
        "nerve_compression": "yes",
        "infection_signs": "no",
        "collection": "no",
        "levels": [],
    }
    data = json.dumps(rows["E0000012"]["case_data"])
    case = Case.model_validate_json(data, context={"as_of": AS_OF})
    result = assess(case, kb, AS_OF, DEFAULT_SITE)
    fired = {t.rule for t in result.provenance.rules if t.outcome == "fires"}
    assert "FW-NEXT-011" in fired  # radiographs on record: compared with, not repeated
    assert rows["E0000012"]["triage"] == result.triage.level
    months = con.sql(
        "SELECT derived__last_xray_month FROM (" + screening_sql(kb, AS_OF) + ")"
        " WHERE episode_id = 'E0000012'"
    ).fetchall()
    assert months == [(0.46,)]  # 2026-10-18 revision at C5-C6 to the 2026-11-01 films


@pytest.mark.parametrize(
    ("old", "new", "column", "says"),
    [
        ("E0000011,fe,flexion_extension", "E0000011,fe,pet", "modality", "must be one of"),
        (
            "E0000011,fe,flexion_extension",
            "E9999999,fe,flexion_extension",
            "episode_id",
            "no episode",
        ),
        (",,,,T10-T11,", ",,,,L4-L5,", "level", "neither fused nor adjacent"),
        (",,,,T10-T11,", ",,,,T10-T12,", "level", "one motion segment"),
        (
            "E0000002,films,static_xray,2022-08-10,,,,,T11-T12",
            "E0000002,films,ct,2022-08-10,,,,,T11-T12",
            "modality",
            "same study",
        ),
        (
            "E0000011,fe,flexion_extension,2023-11-10,",
            "E0000011,fe,flexion_extension,2027-01-01,",
            "date",
            "after the assessment date",
        ),
        (
            "E0000011,fe,flexion_extension,2023-11-10,,",
            "E0000011,fe,flexion_extension,2023-11-10,4,",
            "months_since",
            "not both",
        ),
        (",,I,,,no,", ",,VI,,,no,", "bridwell", "unknown code"),
        (",,,,,,,,3.0,1.0,", ",,,,,,,,50,1.0,", "angle_deg", "at most 45"),
        (
            "E0000002,films,static_xray,2022-08-10,,,,,T11-T12,",
            "E0000002,films,static_xray,2022-08-10,,,,,T10-T11,",
            "level",
            "once per study",
        ),
    ],
)
def test_a_bad_study_row_is_named(  # noqa: PLR0917
    kb: Knowledge, folder: Path, old: str, new: str, column: str, says: str
) -> None:
    _edit(folder / "imaging_studies.csv", old, new)
    error = _error(kb, folder)
    assert error.where.file.endswith("imaging_studies.csv")
    assert error.where.column == column
    assert error.where.row is not None
    assert says in str(error)


def test_a_study_column_outside_the_layout_is_counted(kb: Knowledge, folder: Path) -> None:
    path = folder / "imaging_studies.csv"
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",landmarks"] + [line + ",x" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    loaded = load_registry(duckdb.connect(), kb, folder, AS_OF)
    assert loaded.not_used == {"imaging_studies.csv:landmarks": 9}


def test_counts_in_the_cli_summary_are_worded_for_one_and_many() -> None:
    assert _counted(1, "later operation") == "1 later operation"
    assert _counted(0, "later operation") == "0 later operations"
    assert _counted(1_000_000, "episode") == "1,000,000 episodes"
