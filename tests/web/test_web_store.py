"""Storage: migrations up and down, models in step with migrations, nothing lost on restart."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from fusionwatch.settings import Settings
from fusionwatch.store import accounts, records
from fusionwatch.store.database import Database, downgrade
from fusionwatch.store.tables import Base

TABLES = {
    "users",
    "sessions",
    "api_tokens",
    "patients",
    "assessments",
    "audit_events",
    "cds_feedback",
}


def test_migrations_build_and_remove_every_table(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.migrate()
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    downgrade(db.engine, "base")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    db.migrate()
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    db.close()


def test_models_match_the_migrations(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.migrate()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.close()
    assert differences == []


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with db.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    db.close()
    assert mode == "wal"


def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    from conftest import NOW

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    first = Database(url)
    first.migrate()
    with first.session() as s:
        user = accounts.add_user(s, "carol", "another-long-password", NOW)
        records.add_patient(s, "Kept Patient", None, user.id, NOW)
    first.close()
    second = Database(url)
    second.migrate()
    with second.session() as s:
        assert [p.display_name for p, _ in records.patients(s)] == ["Kept Patient"]
    second.close()


def test_default_database_is_an_sqlite_file() -> None:
    assert Settings().database_url.startswith("sqlite:///")


def test_passwords_are_hashed_with_argon2(tmp_path: Path) -> None:
    from conftest import NOW

    db = Database(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    db.migrate()
    with db.session() as s:
        user = accounts.add_user(s, "dave", "yet-another-password", NOW)
        assert user.password_hash.startswith("$argon2id$")
        assert "yet-another-password" not in user.password_hash
    db.close()
