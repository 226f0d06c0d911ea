"""Opens the database, applies migrations and hands out sessions."""

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = resources.files("fusionwatch.store") / "migrations"


class Database:
    """One engine and its session factory; create one per process in the entry point."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error.

        On SQLite a unit of work takes the write lock when it begins (BEGIN IMMEDIATE), so that
        it waits its turn (busy_timeout) instead of failing: nearly every request writes (an
        audit event at least), and a transaction that began as a reader is refused at once
        ("database is locked") when it tries to write after another connection has written.
        ``read_only=True`` begins a plain reader, which never waits and must not write.
        Never open a writing unit of work inside another one: it would wait for itself.
        """
        with self.sessions() as session, session.begin():
            if not read_only:
                session.connection(execution_options={"immediate": True})
            yield session

    def migrate(self) -> None:
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def open_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection: Any) -> None:
    # The driver's own transaction handling is off (see _sqlite_pragmas): BEGIN is ours.
    immediate = connection.get_execution_options().get("immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers continue while one request writes; foreign keys are off by default.
    cursor = connection.cursor()
    # busy_timeout first: switching to WAL takes a lock, and a new connection opened while
    # another writes must wait for it rather than fail with "database is locked".
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # SQLAlchemy's recipe for SQLite: let SQLAlchemy emit BEGIN, so it can be BEGIN IMMEDIATE.
    connection.isolation_level = None


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
