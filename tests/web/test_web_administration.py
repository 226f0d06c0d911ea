"""The team administration page: members, roles, accounts, sessions and tokens, for a team's
administrators only (404 to everyone else), CSRF-protected and audited."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import NOW, PASSWORD, api_token, sign_in
from fusionwatch.store import accounts, teams
from fusionwatch.store.access import Role, Scope
from fusionwatch.store.database import Database
from fusionwatch.store.tables import AuditEvent, Team, User


@pytest.fixture
def ids(database: Database) -> dict[str, int]:
    """Team north (Alice administers, Bob is a clinician) and team south (Olga administers)."""
    with database.session() as s:
        accounts.add_user(s, "olga", PASSWORD, NOW)
        accounts.add_user(s, "carol", PASSWORD, NOW)
        teams.add_team(s, "south", NOW)
        teams.set_member(s, "south", "olga", Role.ADMINISTRATOR)
        found = {u.username: u.id for u in s.scalars(select(User))}
        found |= {t.name: t.id for t in s.scalars(select(Team))}
    return found


@pytest.fixture
def alice(client: TestClient, ids: dict[str, int]) -> tuple[TestClient, str]:
    return client, sign_in(client)


def _form(client: TestClient, session: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": client.cookies["fw_csrf"], "session_csrf": session, **fields}


def _member(
    client: TestClient, session: str, team: int, user: int, **fields: str
) -> tuple[int, str]:
    response = client.post(
        f"/teams/{team}/admin/members/{user}",
        data=_form(client, session, **fields),
        follow_redirects=False,
    )
    return response.status_code, response.headers.get("location", response.text)


def test_the_page_lists_members_roles_and_tokens(
    alice: tuple[TestClient, str], ids: dict[str, int], database: Database
) -> None:
    client, _ = alice
    api_token(database, Scope.READ, user="bob")
    page = client.get(f"/teams/{ids['north']}/admin")
    assert page.status_code == 200
    assert "Administration: north" in page.text
    assert "bob" in page.text
    assert "Clinician (read and write)" in page.text
    assert "Revoke" in page.text
    # The nav links administrators (only them) to their team's page.
    assert 'href="/admin"' in page.text
    assert client.get("/admin", follow_redirects=False).headers["location"] == (
        f"/teams/{ids['north']}/admin"
    )


def test_change_role_add_and_remove_members(
    alice: tuple[TestClient, str], ids: dict[str, int], database: Database
) -> None:
    client, session = alice
    north = ids["north"]
    assert _member(client, session, north, ids["bob"], action="role", role="read_only") == (
        303,
        f"/teams/{north}/admin?done=role",
    )
    added = client.post(
        f"/teams/{north}/admin/members",
        data=_form(client, session, username="carol", role="clinician"),
        follow_redirects=False,
    )
    assert added.status_code == 303
    unknown = client.post(
        f"/teams/{north}/admin/members",
        data=_form(client, session, username="nobody", role="clinician"),
    )
    assert unknown.status_code == 422
    assert "no account with that username" in unknown.text
    assert _member(client, session, north, ids["carol"], action="remove")[0] == 303
    with database.session() as s:
        assert accounts.roles_of(s, ids["bob"]) == {north: Role.READ_ONLY}
        assert accounts.roles_of(s, ids["carol"]) == {}
        actions = [
            e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.team_id == north))
        ]
    assert {"admin_role", "admin_add_member", "admin_remove"} <= set(actions)


def test_disable_enable_and_end_sessions(
    alice: tuple[TestClient, str], ids: dict[str, int], database: Database, client: TestClient
) -> None:
    _, session = alice
    north = ids["north"]
    with TestClient(client.app, base_url="http://127.0.0.1") as bob:
        sign_in(bob, "bob")
        assert bob.get("/patients").status_code == 200
        assert _member(client, session, north, ids["bob"], action="end_sessions")[0] == 303
        assert bob.get("/patients", follow_redirects=False).status_code == 303  # to sign-in
        sign_in(bob, "bob")
        token = api_token(database, Scope.READ, user="bob")
        assert _member(client, session, north, ids["bob"], action="disable")[0] == 303
        assert bob.get("/patients", follow_redirects=False).status_code == 303
        auth = {"authorization": f"Bearer {token}"}
        assert bob.get("/api/v1/patients", headers=auth).status_code == 401
        assert _member(client, session, north, ids["bob"], action="enable")[0] == 303
        assert bob.get("/api/v1/patients", headers=auth).status_code == 200


def test_a_token_is_revoked_from_the_page(
    alice: tuple[TestClient, str], ids: dict[str, int], database: Database
) -> None:
    client, session = alice
    token = api_token(database, Scope.READ, user="bob")
    with database.session() as s:
        token_id = max(t.id for t, _ in accounts.all_tokens(s))
    revoked = client.post(
        f"/teams/{ids['north']}/admin/tokens/{token_id}/revoke",
        data=_form(client, session),
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    auth = {"authorization": f"Bearer {token}"}
    assert client.get("/api/v1/patients", headers=auth).status_code == 401


def test_the_team_keeps_an_administrator_and_admins_do_not_lock_themselves_out(
    alice: tuple[TestClient, str], ids: dict[str, int]
) -> None:
    client, session = alice
    north, me = ids["north"], ids["alice"]
    status, text = _member(client, session, north, me, action="role", role="clinician")
    assert status == 422
    assert "at least one administrator" in text
    for action in ("remove", "disable", "end_sessions"):
        status, text = _member(client, session, north, me, action=action)
        assert status == 422, action
        assert "Nothing was changed" in text
    # With a second administrator, Alice may step down; the page then is no longer hers.
    assert (
        _member(client, session, north, ids["bob"], action="role", role="administrator")[0] == 303
    )
    assert _member(client, session, north, me, action="role", role="clinician") == (
        303,
        "/patients",
    )
    assert client.get(f"/teams/{north}/admin").status_code == 404


def test_enabling_needs_every_team_of_the_user(
    alice: tuple[TestClient, str], ids: dict[str, int], database: Database
) -> None:
    client, session = alice
    with database.session() as s:
        teams.set_member(s, "south", "bob", Role.CLINICIAN)
    # Protective actions are open to every team of the user; enabling again is not.
    assert _member(client, session, ids["north"], ids["bob"], action="disable")[0] == 303
    status, text = _member(client, session, ids["north"], ids["bob"], action="enable")
    assert status == 422
    assert "teams you do not administer" in text


def test_non_administrators_and_other_teams_get_404(
    client: TestClient, ids: dict[str, int], database: Database
) -> None:
    token = api_token(database, Scope.READ, user="bob")
    with database.session() as s:
        token_id = max(t.id for t, _ in accounts.all_tokens(s))
    north = ids["north"]
    for who in ("bob", "olga"):
        with TestClient(client.app, base_url="http://127.0.0.1") as other:
            session = sign_in(other, who)
            refused = other.get(f"/teams/{north}/admin")
            assert refused.status_code == 404
            assert "Administration" not in refused.text
            assert "north" not in refused.text
            assert _member(other, session, north, ids["bob"], action="disable")[0] == 404
            assert _member(other, session, north, ids["bob"])[0] == 404  # no field: still 404
            added = other.post(
                f"/teams/{north}/admin/members",
                data=_form(other, session, username=who, role="administrator"),
            )
            assert added.status_code == 404
            revoke = other.post(
                f"/teams/{north}/admin/tokens/{token_id}/revoke", data=_form(other, session)
            )
            assert revoke.status_code == 404
            expected = 404 if who == "bob" else 303
            assert other.get("/admin", follow_redirects=False).status_code == expected
            if who == "bob":
                assert 'href="/admin"' not in other.get("/patients").text
    # Nothing changed, and the refusals are in team north's audit log.
    with database.session() as s:
        assert accounts.roles_of(s, ids["bob"]) == {north: Role.CLINICIAN}
        assert s.get(User, ids["bob"]).active  # type: ignore[union-attr]
        denied = s.scalars(
            select(AuditEvent).where(AuditEvent.team_id == north, AuditEvent.outcome == "denied")
        ).all()
    assert {e.actor.split()[0] for e in denied} == {"bob", "olga"}
    assert (
        client.get("/api/v1/patients", headers={"authorization": f"Bearer {token}"}).status_code
        == 200
    )


def test_a_member_of_another_team_and_a_token_of_one_are_404(
    alice: tuple[TestClient, str], ids: dict[str, int], database: Database
) -> None:
    client, session = alice
    api_token(database, Scope.READ, user="olga")
    with database.session() as s:
        olga_token = max(t.id for t, _ in accounts.all_tokens(s))
    assert _member(client, session, ids["north"], ids["olga"], action="disable")[0] == 404
    revoke = client.post(
        f"/teams/{ids['north']}/admin/tokens/{olga_token}/revoke", data=_form(client, session)
    )
    assert revoke.status_code == 404
    # South is not Alice's team: 404 even for her own name.
    assert client.get(f"/teams/{ids['south']}/admin").status_code == 404


def test_forms_need_the_session_token(alice: tuple[TestClient, str], ids: dict[str, int]) -> None:
    client, _ = alice
    forged = client.post(
        f"/teams/{ids['north']}/admin/members/{ids['bob']}",
        data={
            "csrf_token": client.cookies["fw_csrf"],
            "session_csrf": "forged",
            "action": "disable",
        },
    )
    assert forged.status_code == 403
