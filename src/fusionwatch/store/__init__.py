"""Storage of accounts, patients and immutable assessments (SQLAlchemy 2 + Alembic)."""
