"""Saved screening runs in the workspace: saved from the CLI for one team, paged and filtered,
each episode opened as the single-case engine's full assessment; another team gets 404."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import AS_OF
from typer.testing import CliRunner

from conftest import NOW, PASSWORD, sign_in
from fusionwatch.cli.main import app as cli
from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.timeline import timeline_problems
from fusionwatch.knowledge import load_labels
from fusionwatch.settings import Settings
from fusionwatch.store import accounts, teams
from fusionwatch.store.access import Role
from fusionwatch.store.database import Database
from fusionwatch.store.tables import ScreeningRow, ScreeningRun
from fusionwatch.web.app import create_app

REGISTRY = Path(__file__).parents[2] / "examples" / "screen" / "registry"
runner = CliRunner()


def _screen(database: Database, *extra: str, registry: Path = REGISTRY) -> tuple[int, str]:
    args = ["screen", str(registry), "--as-of", AS_OF.isoformat(), *extra]
    result = runner.invoke(cli, args, env={"FUSIONWATCH_DATABASE_URL": database.url})
    return result.exit_code, result.output


@pytest.fixture
def saved(database: Database) -> int:
    code, output = _screen(database, "--patient-level", "--save-to-team", "north", "--user", "bob")
    assert code == 0, output
    with database.session() as s:
        (run,) = s.query(ScreeningRun).all()
    assert f"/screening/{run.id}" in output
    return run.id


@pytest.fixture
def bob(client: TestClient) -> TestClient:
    sign_in(client, "bob")
    return client


def test_a_saved_run_keeps_the_worklist_order_and_every_episode(
    database: Database, saved: int, bob: TestClient
) -> None:
    with database.session() as s:
        run = s.get(ScreeningRun, saved)
        assert run is not None
        rows = s.query(ScreeningRow).filter_by(run_id=saved).order_by(ScreeningRow.position).all()
        assert run.episodes == len(rows) == 60
        assert run.source == "registry"
        assert run.settings["stimulator_policy"] == "ncd_150_2"
        order = [r.worklist_group for r in rows]
        # The worklist's ranking: emergencies first, routine last.
        assert order[0] == "emergency"
        assert order.index("routine") > max(i for i, g in enumerate(order) if g == "urgent")
        groups = dict(run.groups)
    page = bob.get("/screening")
    assert page.status_code == 200
    assert f'href="/screening/{saved}"' in page.text
    assert ">60<" in page.text
    assert str(groups["emergency"]) in page.text


def test_the_worklist_is_paged_and_filtered(saved: int, bob: TestClient) -> None:
    first = bob.get(f"/screening/{saved}")
    assert first.status_code == 200
    assert first.text.count(f'href="/screening/{saved}/episodes/') == 50
    assert f"/screening/{saved}?after=50" in first.text
    second = bob.get(f"/screening/{saved}?after=50")
    assert second.text.count(f'href="/screening/{saved}/episodes/') == 10
    assert "Next page" not in second.text
    emergencies = bob.get(f"/screening/{saved}?group=emergency")
    chips = emergencies.text.count('class="chip triage-')
    assert chips >= 1
    assert emergencies.text.count('class="chip triage-emergency"') == chips
    # An unknown filter value is ignored, never an error.
    assert bob.get(f"/screening/{saved}?group=bogus&suspicion=x").status_code == 200


def test_each_episode_opens_as_the_single_case_engine_judges_it(
    database: Database, kb: Knowledge, saved: int, bob: TestClient
) -> None:
    labels = load_labels()
    with database.session() as s:
        rows = s.query(ScreeningRow).filter_by(run_id=saved).order_by(ScreeningRow.position).all()
    for row in (rows[0], rows[len(rows) // 2], rows[-1]):
        case = Case.model_validate_json(json.dumps(row.case_data), context={"as_of": AS_OF})
        problems = timeline_problems(case, AS_OF)
        if problems:
            # Data the case model refuses is named on the page, never assessed by guesswork.
            page = bob.get(f"/screening/{saved}/episodes/{row.position}")
            assert page.status_code == 422
            assert "cannot be assessed as one case" in page.text
            assert problems[0].field in page.text
            continue
        expected = assess(case, kb, AS_OF)
        assert expected.triage.level == row.triage
        assert expected.suspicion.level == row.suspicion
        page = bob.get(f"/screening/{saved}/episodes/{row.position}")
        assert page.status_code == 200
        assert f"episode {row.episode_id}" in page.text
        assert labels.disposition(row.triage).clinician in page.text
    assert bob.get(f"/screening/{saved}/episodes/999").status_code == 404


def test_an_episode_names_the_answers_set_aside_and_still_opens(
    database: Database, tmp_path: Path, bob: TestClient
) -> None:
    # Rehabilitation of 500 weeks in the first episode: longer than any time since surgery.
    for name in ("episodes.csv", "visits.csv", "operations.csv"):
        (tmp_path / name).write_text((REGISTRY / name).read_text(encoding="utf-8"), "utf-8")
    lines = (tmp_path / "episodes.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")
    first[header.index("care.rehab_weeks")] = "500"
    lines[1] = ",".join(first)
    (tmp_path / "episodes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = _screen(
        database, "--patient-level", "--save-to-team", "north", "--user", "bob", registry=tmp_path
    )
    assert code == 0, output
    with database.session() as s:
        (row,) = s.query(ScreeningRow).filter_by(episode_id=first[0]).all()
        run_id = row.run_id
    assert row.set_aside == "care.rehab_weeks"
    assert "rehab_weeks" not in json.dumps(row.case_data.get("care", {}))
    page = bob.get(f"/screening/{run_id}/episodes/{row.position}")
    assert page.status_code == 200
    assert "Not used from the extract" in page.text
    assert load_labels().fact("care.rehab_weeks", "clinician") in page.text
    # An episode with nothing set aside says nothing of it.
    other = bob.get(f"/screening/{run_id}/episodes/{row.position % 60 + 1}")
    assert "Not used from the extract" not in other.text


def test_another_team_gets_404_for_the_run(database: Database, kb: Knowledge, saved: int) -> None:
    with database.session() as s:
        accounts.add_user(s, "olga", PASSWORD, NOW)
        teams.add_team(s, "south", NOW)
        teams.set_member(s, "south", "olga", Role.ADMINISTRATOR)
    app = create_app(Settings(database_url=database.url), db=database, kb=kb)
    with TestClient(app, base_url="http://127.0.0.1") as olga:
        sign_in(olga, "olga")
        assert f"/screening/{saved}" not in olga.get("/screening").text
        for path in (f"/screening/{saved}", f"/screening/{saved}/episodes/1"):
            assert olga.get(path).status_code == 404, path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--save-to-team", "north", "--user", "bob"], "--patient-level"),
        (["--patient-level", "--save-to-team", "north"], "--user"),
        (["--patient-level", "--save-to-team", "nowhere", "--user", "bob"], "no team named"),
        (["--patient-level", "--save-to-team", "north", "--user", "rita"], "not an active"),
    ],
)
def test_saving_is_refused_before_screening_when_it_cannot_be_done(
    database: Database, args: list[str], message: str
) -> None:
    with database.session() as s:
        accounts.add_user(s, "rita", PASSWORD, NOW)
        teams.set_member(s, "north", "rita", Role.READ_ONLY)
    code, output = _screen(database, *args)
    assert code == 2
    assert message in output
    with database.session() as s:
        assert s.query(ScreeningRun).count() == 0
