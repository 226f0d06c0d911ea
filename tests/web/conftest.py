"""Fixtures for the web tests: an app on a fresh SQLite file, a fixed clock, signed-in clients."""

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fusionwatch.core.compiled import Knowledge
from fusionwatch.settings import Settings
from fusionwatch.store import accounts, teams
from fusionwatch.store.access import Role, Scope
from fusionwatch.store.database import Database
from fusionwatch.web.app import create_app

NOW = dt.datetime(2026, 11, 23, 12, 0)
PASSWORD = "a-long-test-password"


class Clock:
    """A clock the tests move forward by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'fusionwatch.sqlite3'}")
    db.migrate()
    with db.session() as s:
        accounts.add_user(s, "alice", PASSWORD, NOW)
        accounts.add_user(s, "bob", PASSWORD, NOW)
        # Alice administers the care team "north"; Bob is a clinician in it.
        teams.add_team(s, "north", NOW)
        teams.set_member(s, "north", "alice", Role.ADMINISTRATOR)
        teams.set_member(s, "north", "bob", Role.CLINICIAN)
    yield db
    db.close()


@pytest.fixture
def client(database: Database, kb: Knowledge, clock: Clock) -> Iterator[TestClient]:
    settings = Settings(database_url=database.url)
    app = create_app(settings, db=database, kb=kb, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def csrf(client: TestClient, path: str = "/check") -> str:
    """Load a page so the browser token cookie is set, and return it."""
    client.get(path)
    return str(client.cookies["fw_csrf"])


def session_token(html: str) -> str:
    match = re.search(r'name="session_csrf" value="([^"]+)"', html)
    if match is None:
        raise AssertionError("the page has no session token")
    return match.group(1)


def sign_in(client: TestClient, username: str = "alice", password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session CSRF token of the patients page."""
    token = csrf(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return session_token(response.text)


def api_token(database: Database, *scopes: Scope, user: str = "alice") -> str:
    with database.session() as s:
        return accounts.create_token(
            s, username=user, name="test", scopes=frozenset(scopes), now=NOW, expires_at=None
        )
