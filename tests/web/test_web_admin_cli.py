"""The admin commands: accounts and API tokens, with no default password anywhere."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fusionwatch.cli import app
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
        assert accounts.login(s, "erin", "pass-phrase-123", _now(), _policy())[0].value == "ok"
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
        principal = accounts.token_principal(s, token, _now())
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


def _now():  # type: ignore[no-untyped-def]
    from conftest import NOW

    return NOW


def _policy() -> accounts.LoginPolicy:
    import datetime as dt

    return accounts.LoginPolicy(5, dt.timedelta(minutes=15))
