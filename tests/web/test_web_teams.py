"""Care teams: another team's records answer 404 on every route, roles limit what members do.

The routes are enumerated from the app itself, so a new route that takes a record id, or lists
records, is checked without anyone remembering to add it here.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from conftest import NOW, PASSWORD, Clock, api_token, sign_in
from fusionwatch.core.compiled import Knowledge
from fusionwatch.settings import Settings
from fusionwatch.store import accounts, teams
from fusionwatch.store.access import Role, Scope
from fusionwatch.store.database import Database
from fusionwatch.store.screening import RunFacts, save_run
from fusionwatch.web.app import create_app

EXAMPLES = Path(__file__).parents[2] / "examples"
NAME, REFERENCE = "Zebediah Northteam", "NORTH-REF-77"
# Routes that read or write no stored patient record (self-check, sign-in, CDS Hooks, docs).
NO_RECORDS = {
    "/",
    "/check",
    "/check/{step_id}",
    "/check-summary.pdf",
    "/check-answers.json",
    "/login",
    "/logout",
    "/api/v1/assess",
    "/api/v1/openapi.json",
    "/api/docs",
    "/docs/oauth2-redirect",
    "/static",
    "/cds-services",
    "/cds-services/{service_id}",
    "/cds-services/{service_id}/feedback",
}
# Ids of records that belong to a team: a patient, an assessment, the team itself (its
# administration page), a member of the team, a token of a member, a screening run and its rows.
RECORD_PARAMS = {
    "patient_id",
    "assessment_id",
    "team_id",
    "user_id",
    "token_id",
    "run_id",
    "position",
}


@pytest.fixture
def app(database: Database, kb: Knowledge, clock: Clock) -> FastAPI:
    with database.session() as s:
        accounts.add_user(s, "olga", PASSWORD, NOW)
        accounts.add_user(s, "rita", PASSWORD, NOW)
        teams.add_team(s, "south", NOW)
        # Olga administers another team: the most a user of that team can be.
        teams.set_member(s, "south", "olga", Role.ADMINISTRATOR)
        teams.set_member(s, "north", "rita", Role.READ_ONLY)
    return create_app(Settings(database_url=database.url), db=database, kb=kb, clock=clock)


@pytest.fixture
def north(app: FastAPI, database: Database) -> Iterator[dict[str, Any]]:
    """Alice's client, and a patient of team north with an assessment that has a chart."""
    with TestClient(app, base_url="http://127.0.0.1") as c:
        auth = {"authorization": f"Bearer {api_token(database, Scope.READ, Scope.WRITE)}"}
        patient = c.post(
            "/api/v1/patients", json={"display_name": NAME, "reference": REFERENCE}, headers=auth
        ).json()
        case = yaml.safe_load((EXAMPLES / "follow-up" / "case-with-scores.yaml").read_text())
        record = c.post(
            f"/api/v1/patients/{patient['id']}/assessments",
            json={"case": _jsonable(case), "as_of": "2026-11-23"},
            headers=auth,
        )
        assert record.status_code == 201, record.text
        tokens = sign_in(c)
        run_id = _screening_run(database, patient["team_id"], _jsonable(case))
        api_token(database, Scope.READ, user="bob")
        with database.session() as s:
            north_team = teams.team_named(s, "north")
            bob = accounts.user_named(s, "bob")
            bob_token = max(t.id for t, owner in accounts.all_tokens(s) if owner == "bob")
            assert north_team is not None
            team_ids = {"team_id": north_team.id, "user_id": bob.id, "token_id": bob_token}
        yield {
            "client": c,
            "auth": auth,
            "session": tokens,
            "ids": {
                "patient_id": patient["id"],
                "assessment_id": record.json()["id"],
                "run_id": run_id,
                "position": 1,
            }
            | team_ids,
            "case": _jsonable(case),
        }


def _screening_run(database: Database, team_id: int, case: Any) -> int:
    """A saved screening run of team north whose one episode is named by the patient's reference."""
    facts = RunFacts("registry", "registry", "duckdb", NOW.date(), "test", {})
    row = {
        "rank": 1,
        "worklist_group": "routine",
        "episode_id": REFERENCE,
        "triage": "routine",
        "suspicion": "low",
        "months_since_surgery": 12.0,
        "reasons": None,
        "open_questions": None,
        "next_follow_up": None,
        "case_data": case,
    }
    with database.session() as s:
        user = accounts.user_named(s, "alice")
        run = save_run(s, team_id=team_id, user_id=user.id, now=NOW, facts=facts, rows=[row])
        return run.id


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in iter_route_contexts(app.routes):
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                found.append((method, route.path))
    return found


def _call(
    client: TestClient, method: str, path: str, *, auth: dict[str, str], session: str, case: Any
) -> Any:
    if path.startswith("/api/"):
        body = {"case": case, "as_of": "2026-11-23"} if method == "POST" else None
        if path == "/api/v1/patients" and method == "POST":
            body = {"display_name": "Other team's patient"}
        return client.request(method, path, json=body, headers=auth)
    data = None
    if method == "POST":
        data = {"csrf_token": client.cookies.get("fw_csrf", ""), "session_csrf": session}
    return client.request(method, path, data=data, follow_redirects=False)


def test_another_teams_records_answer_404_on_every_route(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as outsider:
        session = sign_in(outsider, "olga")
        auth = {
            "authorization": f"Bearer {api_token(database, Scope.READ, Scope.WRITE, user='olga')}"
        }
        checked = 0
        for method, template in _routes(app):
            params = {p for p in RECORD_PARAMS if "{" + p + "}" in template}
            if template in NO_RECORDS:
                continue
            path = template.format(**north["ids"]) if params else template
            if "{" in path:
                pytest.fail(f"{method} {template}: a new kind of id; teach this test about it")
            response = _call(outsider, method, path, auth=auth, session=session, case=north["case"])
            if params:
                assert response.status_code == 404, (method, path, response.status_code)
                control = _call(
                    north["client"],
                    method,
                    path,
                    auth=north["auth"],
                    session=north["session"],
                    case=north["case"],
                )
                assert control.status_code != 404, (method, path, "the owner must reach it")
            assert NAME not in response.text, (method, path)
            assert REFERENCE not in response.text, (method, path)
            checked += 1
        assert checked >= 16
        # Break the glass and the administration page's JSON twin are among the routes checked.
        covered = set(_routes(app))
        assert {
            ("GET", "/break-glass"),
            ("POST", "/break-glass"),
            ("POST", "/break-glass/end"),
        } <= covered
        assert {
            ("GET", f"/api/v1/teams/{{team_id}}/{what}")
            for what in ("members", "tokens", "audit", "break-glass")
        } <= covered
        # The EHR's smart link (CDS Hooks card) by reference: 404 for the other team.
        link = f"/patients?fhir_patient={REFERENCE}"
        assert outsider.get(link, follow_redirects=False).status_code == 404
        assert north["client"].get(link, follow_redirects=False).status_code == 303


def test_refusals_are_in_the_owning_teams_audit_log(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as outsider:
        sign_in(outsider, "olga")
        assert outsider.get(f"/patients/{north['ids']['patient_id']}").status_code == 404
        own = outsider.get("/api/v1/audit", headers=_token(database, "olga")).json()
    events = north["client"].get("/api/v1/audit", headers=north["auth"]).json()
    denied = [e for e in events if e["outcome"] == "denied"]
    assert denied
    assert denied[0]["actor"].startswith("olga")
    # Olga's own audit log holds her team's events only: nothing about team north's patient.
    assert all(
        e["object_id"] != str(north["ids"]["patient_id"]) or e["team_id"] is None for e in own
    )
    assert not any(e["team_id"] == events[0]["team_id"] for e in own if e["team_id"])


def _token(database: Database, user: str, *scopes: Scope) -> dict[str, str]:
    token = api_token(database, *(scopes or (Scope.READ,)), user=user)
    return {"authorization": f"Bearer {token}"}


def test_the_audit_log_is_for_team_administrators_only(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as bob:
        sign_in(bob, "bob")
        assert bob.get("/audit").status_code == 403
        assert bob.get("/api/v1/audit", headers=_token(database, "bob")).status_code == 403
        assert 'href="/audit"' not in bob.get("/patients").text
    assert north["client"].get("/audit").status_code == 200


def test_read_only_members_read_but_never_write(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    patient_id = north["ids"]["patient_id"]
    with TestClient(app, base_url="http://127.0.0.1") as rita:
        sign_in(rita, "rita")
        page = rita.get(f"/patients/{patient_id}")
        assert page.status_code == 200
        assert NAME in page.text
        assert "New evaluation" not in page.text
        assert rita.get(f"/patients/{patient_id}/evaluate").status_code == 403
        auth = _token(database, "rita", Scope.READ, Scope.WRITE)
        assert rita.get(f"/api/v1/patients/{patient_id}", headers=auth).status_code == 200
        write = rita.post(
            f"/api/v1/patients/{patient_id}/assessments",
            json={"case": north["case"]},
            headers=auth,
        )
        assert write.status_code == 403
        added = rita.post("/api/v1/patients", json={"display_name": "New"}, headers=auth)
        assert added.status_code == 422
        assert added.json()["problems"][0]["field"] == "team_id"


def test_a_user_in_two_teams_chooses_the_team_of_a_new_patient(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    with database.session() as s:
        teams.set_member(s, "south", "alice", Role.CLINICIAN)
        south = teams.team_named(s, "south")
        assert south is not None
        south_id = south.id
    client, auth = north["client"], north["auth"]
    unclear = client.post("/api/v1/patients", json={"display_name": "Where?"}, headers=auth)
    assert unclear.status_code == 422
    placed = client.post(
        "/api/v1/patients", json={"display_name": "South", "team_id": south_id}, headers=auth
    )
    assert placed.status_code == 201
    assert placed.json()["team_id"] == south_id
    page = client.get("/patients").text
    assert 'name="team_id"' in page


def test_a_removed_member_loses_access_at_once(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    patient_id = north["ids"]["patient_id"]
    with TestClient(app, base_url="http://127.0.0.1") as bob:
        sign_in(bob, "bob")
        assert bob.get(f"/patients/{patient_id}").status_code == 200
        with database.session() as s:
            teams.remove_member(s, "north", "bob")
        assert bob.get(f"/patients/{patient_id}").status_code == 404
        assert NAME not in bob.get("/patients").text
