"""Registry input: the committed example screens like assess(); bad input is named and refused."""

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fusionwatch.cli.main import app
from fusionwatch.core.compiled import Knowledge
from fusionwatch.screen.errors import ScreenInputError
from fusionwatch.screen.reference import verdicts
from fusionwatch.screen.registry import load_registry
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
    episodes = con.table("episodes").to_arrow_table()
    visits = con.table("visits").to_arrow_table()
    assert episodes.num_rows == 60
    assert visits.num_rows > 100
    screen(con, kb, AS_OF, __import__("fusionwatch.core.site").core.site.DEFAULT_SITE)
    got = {
        r["episode_id"]: (r["triage"], r["suspicion"], r["fired_rules"])
        for r in con.table("screened").to_arrow_table().to_pylist()
    }
    expected = verdicts(episodes, visits, AS_OF)
    assert {v.episode: (v.triage, v.suspicion, v.fired) for v in expected} == got


def _error(kb: Knowledge, folder: Path) -> ScreenInputError:
    with pytest.raises(ScreenInputError) as caught:
        _load(kb, folder)
    return caught.value


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
    assert groups == sorted(groups, key=["emergency", NOT_DONE, "prompt referral", "routine"].index)
    assert all(r["rank"] is None for r in rows if r["worklist_group"] == NOT_DONE)
    ranked = [r["rank"] for r in rows if r["rank"] is not None]
    assert ranked == list(range(1, len(ranked) + 1))
    assert {r["knowledge_version"] for r in rows}
    assert rows[0]["site_stimulator_policy"] == "ncd_150_2"
    assert all(r["reasons"].startswith("FW-EMERG") for r in rows if r["triage"] == "emergency")
    assert "<11" in result.output


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
    for name in ("episodes", "visits"):
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
    for name in ("episodes", "visits"):
        order = "episode_id" if name == "episodes" else "ALL"
        first = con.sql(f"SELECT * FROM {name} ORDER BY {order}").fetchall()
        assert again.sql(f"SELECT * FROM {name} ORDER BY {order}").fetchall() == first
