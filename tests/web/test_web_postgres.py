"""The same store on a real PostgreSQL server: migrations, models in step, a full round trip.

The server is a throw-away cluster started for this module (initdb + postgres on a free loopback
port, run as the ``postgres`` system user, since PostgreSQL refuses to run as root). ``make test``
installs Debian's PostgreSQL when it is missing; without it the tests fail under CI and are
skipped on a developer machine.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from conftest import NOW
from fusionwatch.store import accounts, records, teams
from fusionwatch.store.database import Database, downgrade
from fusionwatch.store.tables import Base

pytestmark = pytest.mark.postgres


def _binaries() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bin_dir = _binaries()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; `make test` installs it")
        pytest.skip("PostgreSQL is not installed")
    folder = Path(tempfile.mkdtemp(prefix="fw-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    subprocess.run(
        _as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "fw"),
        check=True,
        capture_output=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        _as_postgres(
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(folder),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg://fw@127.0.0.1:{port}/postgres"
    try:
        _wait_for(port)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.3)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("PostgreSQL did not start within 30 s")


def test_migrations_and_models_agree_on_postgres(postgres_url: str) -> None:
    db = Database(postgres_url)
    db.migrate()
    assert {"users", "patients", "assessments", "audit_events"} <= set(
        inspect(db.engine).get_table_names()
    )
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    downgrade(db.engine, "base")
    assert "patients" not in inspect(db.engine).get_table_names()
    db.close()


def test_records_round_trip_on_postgres(postgres_url: str) -> None:
    db = Database(postgres_url)
    db.migrate()
    with db.session() as s:
        user = accounts.add_user(s, "pg-user", "a-long-pg-password", NOW)
        team = teams.add_team(s, "pg-team", NOW)
        records.add_patient(
            s,
            display_name="Pg Patient",
            reference="REF-9",
            user_id=user.id,
            now=NOW,
            team_id=team.id,
        )
    with db.session() as s:
        assert [p.reference for p in records.patient_page(s, [team.id])] == ["REF-9"]
        outcome, _ = accounts.login(
            s, "pg-user", "a-long-pg-password", NOW, accounts.LoginPolicy(5, NOW - NOW)
        )
        assert outcome is accounts.LoginOutcome.OK
    db.close()


def test_migration_carries_existing_data_on_postgres(postgres_url: str) -> None:
    from test_web_store import check_carried_over, seed_previous_head

    db = Database(postgres_url)
    downgrade(db.engine, "base")
    seed_previous_head(db)
    check_carried_over(db)
    db.close()


def test_name_search_on_postgres(postgres_url: str) -> None:
    from test_web_store import check_name_search

    db = Database(postgres_url)
    downgrade(db.engine, "base")
    check_name_search(db)
    db.close()
