"""Alembic environment: runs migrations on the engine the application passes in."""

from alembic import context
from sqlalchemy import create_engine

from fusionwatch.store.tables import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(
    config.get_main_option("sqlalchemy.url") or "sqlite://"
)
sqlite = engine.dialect.name == "sqlite"

with engine.connect() as connection:
    if sqlite:
        # SQLite's batch migrations copy and drop tables; with foreign keys enforced, dropping a
        # referenced table fails. The pragma only works outside a transaction.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    with connection.begin():
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite
        )
        context.run_migrations()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
