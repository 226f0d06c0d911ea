"""The admin commands: accounts and API tokens, with no default password anywhere."""

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from conftest import NOW
from fusionwatch.cli.exits import ExitCode
from fusionwatch.cli.main import app
from fusionwatch.cli.server import startup_lines
from fusionwatch.settings import Settings
from fusionwatch.store import accounts
from fusionwatch.store.database import Database

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    value = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("FUSIONWATCH_DATABASE_URL", value)
    return value


def test_users_add_asks_for_the_password_twice(url: str) -> None:
    result = runner.invoke(
        app, ["users", "add", "erin"], input="pass-phrase-123\npass-phrase-123\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created the account 'erin'" in result.output
    db = Database(url)
    with db.session() as s:
        assert accounts.login(s, "erin", "pass-phrase-123", NOW, _policy())[0].value == "ok"
    db.close()


def test_short_passwords_and_duplicates_are_refused(url: str) -> None:
    short = runner.invoke(app, ["users", "add", "frank"], input="short\nshort\n")
    assert short.exit_code == 2
    assert "at least 12 characters" in short.output
    runner.invoke(app, ["users", "add", "gina"], input="pass-phrase-123\npass-phrase-123\n")
    again = runner.invoke(app, ["users", "add", "gina"], input="pass-phrase-456\npass-phrase-456\n")
    assert again.exit_code == 2
    assert "already exists" in again.output


def test_tokens_are_shown_once_and_work_with_their_scope(url: str) -> None:
    runner.invoke(app, ["users", "add", "hana"], input="pass-phrase-123\npass-phrase-123\n")
    result = runner.invoke(app, ["tokens", "create", "--user", "hana", "--scope", "read"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("fw_")
    db = Database(url)
    with db.session() as s:
        principal = accounts.token_principal(s, token, NOW)
    db.close()
    assert principal is not None
    assert {str(scope) for scope in principal.scopes} == {"read"}


def test_tokens_for_unknown_users_are_refused(url: str) -> None:
    result = runner.invoke(app, ["tokens", "create", "--user", "nobody", "--scope", "write"])
    assert result.exit_code == 2
    assert "no account named 'nobody'" in result.output


def test_db_upgrade_reports_success(url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0
    assert "up to date" in result.output


def test_serve_creates_and_migrates_the_database_then_answers(tmp_path: Path) -> None:
    """What `make run` does: a new database file, migrated on start, and the app on a port."""
    database = tmp_path / "var" / "new.sqlite3"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "FUSIONWATCH_DATABASE_URL": f"sqlite:///{database}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "fusionwatch", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status = _first_answer(f"http://127.0.0.1:{port}/check")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert status == 200
    engine = create_engine(f"sqlite:///{database}")
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"users", "patients", "assessments", "audit_events"} <= tables


def test_serve_on_a_busy_port_says_so_and_exits_6(url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == ExitCode.PORT_IN_USE == 6
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output
    assert "running at" not in result.output


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("FUSIONWATCH_PORT", "eighty", "FUSIONWATCH_PORT"),
        ("FUSIONWATCH_SESSION_HOURS", "-1", "FUSIONWATCH_SESSION_HOURS"),
        ("FUSIONWATCH_DATABASE_URL", "not a url", "FUSIONWATCH_DATABASE_URL"),
        ("FUSIONWATCH_HOST", "203.0.113.7", "Cannot listen on 203.0.113.7"),
    ],
)
def test_serve_with_a_bad_setting_names_it_and_exits_7(
    url: str, monkeypatch: pytest.MonkeyPatch, name: str, value: str, shown: str
) -> None:
    monkeypatch.setenv(name, value)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    result = runner.invoke(app, ["serve", "--port", str(free)])
    assert result.exit_code == ExitCode.BAD_SETTING == 7, result.output
    assert shown in result.output
    assert "running at" not in result.output


def test_serve_warns_when_cds_hooks_run_without_jwt() -> None:
    safe = Settings(database_url="sqlite://")
    assert not any("without a JWT" in line for line in startup_lines(safe))
    unsafe = safe.model_copy(update={"cds_hooks_require_jwt": False})
    assert "without a JWT" in startup_lines(unsafe)[-1]


def _first_answer(url: str) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the server did not answer within 60 s")


def _policy() -> accounts.LoginPolicy:
    return accounts.LoginPolicy(5, dt.timedelta(minutes=15))


def _run(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_administration_from_the_command_line(url: str) -> None:
    secret = "first-pass-phrase"
    _run("users", "add", "fay", stdin=f"{secret}\n{secret}\n")
    _run("teams", "create", "east")
    _run("teams", "add-member", "east", "fay", "--role", "administrator")
    assert "fay:administrator" in _run("teams", "list")
    assert "east:administrator" in _run("users", "list")
    token = _run("tokens", "create", "--user", "fay", "--scope", "read").strip()
    listing = _run("tokens", "list")
    assert "fay" in listing
    assert token not in listing
    db = Database(url)
    policy = _policy()
    with db.session() as s:
        assert accounts.token_principal(s, token, NOW) is not None
    _run("tokens", "revoke", listing.split()[0])
    _run("users", "disable", "fay")
    with db.session() as s:
        assert accounts.token_principal(s, token, NOW) is None
        assert accounts.login(s, "fay", secret, NOW, policy)[0].value != "ok"
    _run("users", "enable", "fay")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for _ in range(policy.max_failures):
        with db.session() as s:
            accounts.login(s, "fay", "wrong-guess", now, policy)
    assert "locked" in _run("users", "list")
    _run("users", "unlock", "fay")
    # The new password is prompted for (twice), never an argument.
    _run("users", "reset-password", "fay", stdin="second-pass-phrase\nsecond-pass-phrase\n")
    with db.session() as s:
        assert accounts.login(s, "fay", "second-pass-phrase", NOW, policy)[0].value == "ok"
    assert "Ended 0 session(s)" in _run("users", "end-sessions", "fay")
    _run("teams", "remove-member", "east", "fay")
    assert "(no team)" in _run("users", "list")
    refused = runner.invoke(app, ["users", "disable", "nobody"])
    assert refused.exit_code == 2
    assert "no account named" in refused.output
    db.close()
