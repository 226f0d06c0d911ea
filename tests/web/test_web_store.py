"""Storage: migrations up and down, models in step with migrations, nothing lost on restart."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from fusionwatch.settings import Settings
from fusionwatch.store import accounts, records, teams
from fusionwatch.store.database import Database, downgrade, upgrade
from fusionwatch.store.tables import Base

TABLES = {
    "users",
    "sessions",
    "api_tokens",
    "patients",
    "assessments",
    "audit_events",
    "cds_feedback",
    "teams",
    "memberships",
    "cds_token_uses",
    "login_throttle",
    "patient_name_words",
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
        team = teams.add_team(s, "west", NOW)
        records.add_patient(
            s,
            display_name="Kept Patient",
            reference=None,
            user_id=user.id,
            now=NOW,
            team_id=team.id,
        )
    first.close()
    second = Database(url)
    second.migrate()
    with second.session() as s:
        assert [p.display_name for p in records.patient_page(s, [team.id])] == ["Kept Patient"]
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


def seed_previous_head(db: Database) -> None:
    """A database as revision 0002 left it: a user, a patient with two assessments, audit."""
    upgrade(db.engine, "0002")
    with db.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (id, username, password_hash, created_at, failed_logins, active)"
                " VALUES (7, 'old-user', 'x', '2026-01-01 00:00:00', 0, true)"
            )
        )
        c.execute(
            text(
                "INSERT INTO patients (id, display_name, reference, created_at, created_by)"
                " VALUES (3, 'Old Patient', 'R-1', '2026-01-01 00:00:00', 7)"
            )
        )
        for record_id, triage in ((10, "routine"), (11, "soon")):
            c.execute(
                text(
                    "INSERT INTO assessments (id, patient_id, created_at, created_by, as_of,"
                    " knowledge_version, triage, suspicion, case_data, result) VALUES"
                    " (:id, 3, '2026-01-02 00:00:00', 7, '2026-01-02', 'k', :t, 'low', '{}', '{}')"
                ),
                {"id": record_id, "t": triage},
            )
        c.execute(
            text(
                "INSERT INTO audit_events (at, actor, action, object_type, object_id, outcome)"
                " VALUES ('2026-01-02 00:00:00', 'old-user (web)', 'view', 'patient', '3', 'ok')"
            )
        )


def check_carried_over(db: Database) -> None:
    """Everything of revision 0002 is in the team 'default'; summaries are filled in."""
    db.migrate()
    with db.session() as s:
        team = teams.team_named(s, "default")
        assert team is not None
        assert [(u.username, r) for u, r in teams.members(s, team.id)] == [
            ("old-user", "clinician")
        ]
        (patient,) = records.patient_page(s, [team.id])
        assert (patient.display_name, patient.latest_assessment_id) == ("Old Patient", 11)
        # The 0005 migration filled in the words of names stored before it.
        assert [p.id for p in records.patient_page(s, [team.id], text="OLD pat")] == [3]
        assert (patient.latest_triage, patient.latest_suspicion) == ("soon", "low")
        assert str(patient.latest_as_of) == "2026-01-02"
        assert records.patient(s, [team.id + 1], 3) is None
        events = records.audit_trail(s, [team.id])
        assert [e.object_id for e in events] == ["3"]
    downgrade(db.engine, "0002")
    with db.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM assessments")).scalar() == 2
    db.migrate()


def test_migration_carries_existing_data_into_a_default_team(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    seed_previous_head(db)
    check_carried_over(db)
    db.close()


def check_name_search(db: Database) -> None:
    """A name search matches the start of words, ignoring case and accents; a reference must
    match exactly; another team's patients are never found."""
    from conftest import NOW

    db.migrate()
    with db.session() as s:
        user = accounts.add_user(s, "searcher", "a-long-search-password", NOW)
        mine, other = teams.add_team(s, "search-mine", NOW), teams.add_team(s, "search-other", NOW)
        names = {}
        for name, reference, team in (
            ("José O'Brien-Smith", None, mine),
            ("Anna SMITHSON", "R-77", mine),
            ("Bob Jones", "smith", mine),
            ("Blacksmith Carla", None, mine),
            ("Anna Smith", None, other),
        ):
            made = records.add_patient(
                s, display_name=name, reference=reference, user_id=user.id, now=NOW, team_id=team.id
            )
            names[made.id] = name
        mine_id = mine.id

    def found(text: str) -> list[str]:
        with db.session() as s:
            return [names[p.id] for p in records.patient_page(s, [mine_id], text=text)]

    assert found("smith") == ["Bob Jones", "Anna SMITHSON", "José O'Brien-Smith"]
    assert found("jose") == found("JOSÉ") == found("o'bri") == ["José O'Brien-Smith"]
    assert found("anna smiths") == ["Anna SMITHSON"]
    assert found("anna jones") == []
    assert found("mith") == found("%") == found("_") == []
    assert found("R-77") == ["Anna SMITHSON"]
    assert found("r-77") == []  # a reference is matched exactly
    with db.session() as s:  # paging goes on within the matches
        first = records.patient_page(s, [mine_id], text="smith", limit=1)
        rest = records.patient_page(s, [mine_id], text="smith", before=first[0].id)
        assert [names[p.id] for p in rest] == ["Anna SMITHSON", "José O'Brien-Smith"]


@pytest.mark.parametrize("narrow", [records.NARROW, 1, 0])
def test_name_search_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, narrow: int
) -> None:
    # A small NARROW makes every word "common": the same answers by the other way of looking.
    monkeypatch.setattr(records, "NARROW", narrow)
    db = Database(f"sqlite:///{tmp_path / 's.sqlite3'}")
    check_name_search(db)
    db.close()


def test_the_migration_folds_names_as_the_code_does() -> None:
    import importlib

    migration = importlib.import_module(
        "fusionwatch.store.migrations.versions.0005_patient_name_words"
    )
    for name in ("José O'Brien-Smith", "ÅSA  straße", "Ｆｕｌｌ　width", "李 小龍", "x" * 250, "-"):
        assert migration._name_words(name) == records.name_words(name)
    assert records.name_words("José O'Brien-Smith") == ["brien", "jose", "o", "smith"]
