"""Break the glass: a clinician of another team reads one patient for a while, with a recorded
reason that the patient's team administrators see; ids still answer 404 without it."""

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import NOW, PASSWORD, Clock, api_token, sign_in
from fusionwatch.core.compiled import Knowledge
from fusionwatch.settings import Settings
from fusionwatch.store import accounts, teams
from fusionwatch.store.access import Role, Scope
from fusionwatch.store.database import Database
from fusionwatch.store.tables import AuditEvent, BreakGlass, Team
from fusionwatch.web.app import create_app

EXAMPLES = Path(__file__).parents[2] / "examples"
NAME, REFERENCE = "Ximena Northteam", "NORTH-MRN-4411"
REASON = "Seen in the emergency department tonight; her own team cannot be reached."
MINUTES = 10
PER_DAY = 3
BASE = "http://127.0.0.1"


@pytest.fixture
def app(database: Database, kb: Knowledge, clock: Clock) -> FastAPI:
    """Team north (Alice administers, Bob is a clinician); team south: Carol is a clinician,
    Rita read-only, Olga administers. The access lasts ``MINUTES``."""
    with database.session() as s:
        for name in ("carol", "rita", "olga"):
            accounts.add_user(s, name, PASSWORD, NOW)
        teams.add_team(s, "south", NOW)
        teams.set_member(s, "south", "carol", Role.CLINICIAN)
        teams.set_member(s, "south", "rita", Role.READ_ONLY)
        teams.set_member(s, "south", "olga", Role.ADMINISTRATOR)
    settings = Settings(
        database_url=database.url, break_glass_minutes=MINUTES, break_glass_max_per_day=PER_DAY
    )
    return create_app(settings, db=database, kb=kb, clock=clock)


@pytest.fixture
def north(app: FastAPI, database: Database) -> Iterator[dict[str, Any]]:
    """Alice's signed-in client and token, and a patient of north with one assessment."""
    with TestClient(app, base_url=BASE) as c:
        auth = {"authorization": f"Bearer {api_token(database, Scope.READ, Scope.WRITE)}"}
        patient = c.post(
            "/api/v1/patients", json={"display_name": NAME, "reference": REFERENCE}, headers=auth
        ).json()
        case = json.loads((EXAMPLES / "referral-smoker-mechanical-pain.json").read_text())
        record = c.post(
            f"/api/v1/patients/{patient['id']}/assessments", json={"case": case}, headers=auth
        )
        assert record.status_code == 201, record.text
        session = sign_in(c)
        with database.session() as s:
            team = s.scalar(select(Team.id).where(Team.name == "north"))
        yield {
            "client": c,
            "auth": auth,
            "session": session,
            "patient_id": patient["id"],
            "assessment_id": record.json()["id"],
            "team_id": team,
        }


def _break(client: TestClient, session: str, **fields: str) -> Any:
    data = {
        "csrf_token": client.cookies.get("fw_csrf", ""),
        "session_csrf": session,
        "reference": REFERENCE,
        "category": "emergency",
        "reason": REASON,
    } | fields
    return client.post("/break-glass", data=data, follow_redirects=False)


def _events(database: Database, action: str) -> list[AuditEvent]:
    with database.session(read_only=True) as s:
        found = s.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return list(found)


def test_a_clinician_of_another_team_breaks_the_glass_reads_and_the_access_ends(
    app: FastAPI, database: Database, clock: Clock, north: dict[str, Any]
) -> None:
    patient_id, assessment_id = north["patient_id"], north["assessment_id"]
    with TestClient(app, base_url=BASE) as carol:
        session = sign_in(carol, "carol")
        # Without the glass: 404, the same page as for a patient that does not exist.
        hidden = carol.get(f"/patients/{patient_id}")
        missing = carol.get("/patients/987654321")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text == missing.text
        assert 'href="/break-glass"' in hidden.text
        assert NAME not in hidden.text
        form = carol.get("/break-glass")
        assert form.status_code == 200
        assert f"{MINUTES} minutes" in form.text

        granted = _break(carol, session)
        assert granted.status_code == 303
        assert granted.headers["location"] == f"/patients/{patient_id}"

        page = carol.get(f"/patients/{patient_id}")
        assert page.status_code == 200
        assert NAME in page.text
        assert "Emergency access (break the glass) is on" in page.text
        assert "2026-11-23 12:10 UTC" in page.text  # NOW + MINUTES
        assert "New evaluation" not in page.text  # read only
        assert carol.get(f"/assessments/{assessment_id}").status_code == 200
        pdf = carol.get(f"/assessments/{assessment_id}/report.pdf")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        # Other pages show the banner too, while the access lasts.
        assert "Emergency access (break the glass) is on" in carol.get("/patients").text
        # Writes stay refused: read-only access.
        assert carol.get(f"/patients/{patient_id}/evaluate").status_code == 403
        # A token neither breaks the glass nor reads through it.
        token = {"authorization": f"Bearer {api_token(database, Scope.READ, user='carol')}"}
        assert carol.get(f"/api/v1/patients/{patient_id}", headers=token).status_code == 404

        # The audit: the grant and every read under it, with the reason, marked with north.
        grants = _events(database, "break_glass")
        assert len(grants) == 1
        assert grants[0].team_id == north["team_id"]
        assert grants[0].actor.startswith("carol")
        assert REASON in (grants[0].detail or "")
        reads = _events(database, "break_glass_access")
        assert {(e.object_type, e.object_id) for e in reads} >= {
            ("patient", str(patient_id)),
            ("assessment", str(assessment_id)),
        }
        assert all(REASON in (e.detail or "") for e in reads)

        # The access ends: 404 again, and no banner.
        clock.now = NOW + dt.timedelta(minutes=MINUTES, seconds=1)
        after = carol.get(f"/patients/{patient_id}")
        assert after.status_code == 404
        assert NAME not in after.text
        assert "break the glass) is on" not in after.text
        assert carol.get(f"/assessments/{assessment_id}").status_code == 404


def test_the_patients_team_administrators_see_it_prominently(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url=BASE) as carol:
        assert _break(carol, sign_in(carol, "carol")).status_code == 303
        carol.get(f"/patients/{north['patient_id']}")
    alice = north["client"]
    admin = alice.get(f"/teams/{north['team_id']}/admin")
    assert admin.status_code == 200
    section = admin.text.split('id="glass-events"')[1].split("<h2>Members</h2>")[0]
    assert "carol" in section
    assert REASON in section
    assert "Emergency treatment" in section
    assert "access lasts until 12:10 UTC" in section
    audit = alice.get("/audit").text
    assert 'class="glass"' in audit
    assert REASON in audit
    listed = alice.get(f"/api/v1/teams/{north['team_id']}/break-glass", headers=north["auth"])
    assert listed.status_code == 200
    (grant,) = listed.json()
    assert (grant["username"], grant["reference"], grant["reason"]) == ("carol", REFERENCE, REASON)
    assert grant["active"] is True
    assert grant["expires_at"] == "2026-11-23T12:10:00"
    # South's administrator sees nothing of it: it is north's patient.
    with TestClient(app, base_url=BASE) as olga:
        sign_in(olga, "olga")
        south_admin = olga.get("/admin", follow_redirects=True).text
        assert REASON not in south_admin
        assert "No one outside the team has broken the glass" in south_admin


def test_a_read_only_member_cannot_break_the_glass(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url=BASE) as rita:
        session = sign_in(rita, "rita")
        assert rita.get("/break-glass").status_code == 403
        refused = _break(rita, session)
        assert refused.status_code == 403
        assert "read-only member cannot break the glass" in refused.text
        assert rita.get(f"/patients/{north['patient_id']}").status_code == 404
        # The 404 page does not offer it either.
        assert 'href="/break-glass"' not in rita.get("/patients/987654321").text
    with database.session(read_only=True) as s:
        assert s.scalars(select(BreakGlass)).all() == []
    denied = [e for e in _events(database, "access") if e.object_type == "break_glass"]
    assert denied
    assert denied[0].outcome == "denied"


def test_a_blank_reason_is_refused_naming_the_field_before_any_patient_is_looked_up(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url=BASE) as carol:
        session = sign_in(carol, "carol")
        blank = _break(carol, session, reason="   \n ")
        assert blank.status_code == 422
        assert "Reason:</a> Give the reason for emergency access: it is required." in blank.text
        assert 'id="reason-error"' in blank.text
        # The same answer whether the reference exists or not: nothing was looked up.
        unknown = _break(carol, session, reason="   \n ", reference="NO-SUCH-MRN")
        assert unknown.text.replace("NO-SUCH-MRN", REFERENCE) == blank.text
        short = _break(carol, session, reason="urgent")
        assert short.status_code == 422
        assert "at least 10 characters" in short.text
        no_kind = _break(carol, session, category="")
        assert no_kind.status_code == 422
        assert "Kind of reason:</a> Choose the kind of reason." in no_kind.text
        too_long = _break(carol, session, reason="x" * 501)
        assert too_long.status_code == 422
        assert carol.get(f"/patients/{north['patient_id']}").status_code == 404
    assert _events(database, "break_glass") == []


def test_an_unknown_reference_is_recorded_then_refused(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url=BASE) as carol:
        session = sign_in(carol, "carol")
        missing = _break(carol, session, reference="NO-SUCH-MRN")
        assert missing.status_code == 404
        assert "No patient of another team has this reference" in missing.text
        assert "your request was recorded" in missing.text
    (event,) = _events(database, "break_glass")
    assert event.outcome == "not_found"
    assert event.team_id is None
    assert REASON in (event.detail or "")
    with database.session(read_only=True) as s:
        assert s.scalars(select(BreakGlass)).all() == []


def test_the_ehr_link_404_offers_the_form_with_the_reference(
    app: FastAPI, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url=BASE) as carol:
        sign_in(carol, "carol")
        hidden = carol.get(f"/patients?fhir_patient={REFERENCE}", follow_redirects=False)
        assert hidden.status_code == 404
        assert f'href="/break-glass?reference={REFERENCE}"' in hidden.text
        form = carol.get(f"/break-glass?reference={REFERENCE}")
        assert f'value="{REFERENCE}"' in form.text


def test_the_admin_json_twin_is_for_the_teams_administrators_only(
    app: FastAPI, database: Database, north: dict[str, Any]
) -> None:
    team, alice, auth = north["team_id"], north["client"], north["auth"]
    secret = api_token(database, Scope.READ, user="bob")
    members = alice.get(f"/api/v1/teams/{team}/members", headers=auth)
    assert members.status_code == 200
    assert {(m["username"], m["role"]) for m in members.json()} == {
        ("alice", "administrator"),
        ("bob", "clinician"),
    }
    tokens = alice.get(f"/api/v1/teams/{team}/tokens", headers=auth)
    assert tokens.status_code == 200
    assert {t["owner"] for t in tokens.json()} == {"alice", "bob"}
    assert all(t["status"] == "active" for t in tokens.json())
    assert secret not in tokens.text
    assert auth["authorization"].removeprefix("Bearer ") not in tokens.text
    assert "hash" not in tokens.text
    audit = alice.get(f"/api/v1/teams/{team}/audit?limit=5", headers=auth)
    assert audit.status_code == 200
    assert len(audit.json()) == 5
    assert all(e["team_id"] in {team, None} for e in audit.json())
    # A clinician of the team, another team's administrator, and an unknown team: 404.
    bob = {"authorization": f"Bearer {secret}"}
    olga = {"authorization": f"Bearer {api_token(database, Scope.READ, user='olga')}"}
    for path in ("members", "tokens", "audit", "break-glass"):
        assert alice.get(f"/api/v1/teams/{team}/{path}", headers=bob).status_code == 404
        refused = alice.get(f"/api/v1/teams/{team}/{path}", headers=olga)
        nowhere = alice.get(f"/api/v1/teams/987654321/{path}", headers=olga)
        assert refused.status_code == nowhere.status_code == 404
        assert refused.json() == nowhere.json()
        assert alice.get(f"/api/v1/teams/{team}/{path}").status_code == 401


def test_requests_per_day_are_capped(
    app: FastAPI, database: Database, clock: Clock, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url=BASE) as carol:
        session = sign_in(carol, "carol")
        for n in range(PER_DAY):
            assert _break(carol, session, reference=f"GUESS-{n}").status_code == 404
        capped = _break(carol, session)
        assert capped.status_code == 429
        assert "as many emergency access requests as one day allows" in capped.text
        assert carol.get(f"/patients/{north['patient_id']}").status_code == 404
        assert len(_events(database, "break_glass")) == PER_DAY
        # A day later the count starts again.
        clock.now = NOW + dt.timedelta(days=1, minutes=1)
        session = sign_in(carol, "carol")
        assert _break(carol, session).status_code == 303


def test_the_clinician_ends_the_access_early(
    app: FastAPI, database: Database, clock: Clock, north: dict[str, Any]
) -> None:
    with TestClient(app, base_url=BASE) as carol:
        session = sign_in(carol, "carol")
        assert _break(carol, session).status_code == 303
        page = carol.get(f"/patients/{north['patient_id']}")
        assert "End emergency access now" in page.text
        clock.now = NOW + dt.timedelta(minutes=2)
        data = {"csrf_token": carol.cookies["fw_csrf"], "session_csrf": session}
        ended = carol.post("/break-glass/end", data=data, follow_redirects=False)
        assert ended.status_code == 303
        assert carol.get(f"/patients/{north['patient_id']}").status_code == 404
        assert "break the glass) is on" not in carol.get("/patients").text
        # Without the session's form token nothing ends (CSRF).
        assert carol.post("/break-glass/end", data={}).status_code == 403
    (event,) = _events(database, "break_glass_end")
    assert event.team_id == north["team_id"]
    listed = north["client"].get(
        f"/api/v1/teams/{north['team_id']}/break-glass", headers=north["auth"]
    )
    assert listed.json()[0]["active"] is False
    assert listed.json()[0]["expires_at"] == "2026-11-23T12:02:00"
