"""saved cohort screening runs and their worklist rows (issue 14)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "screening_runs",
        sa.Column("id", BIG, nullable=False),
        sa.Column("team_id", BIG, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", BIG, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("input_format", sa.String(length=20), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("knowledge_version", sa.String(length=40), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("episodes", BIG, nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_screening_runs_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_screening_runs_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_runs")),
    )
    op.create_index("ix_screening_runs_team", "screening_runs", ["team_id", "id"])
    op.create_table(
        "screening_rows",
        sa.Column("id", BIG, nullable=False),
        sa.Column("run_id", BIG, nullable=False),
        sa.Column("position", BIG, nullable=False),
        sa.Column("rank", BIG, nullable=True),
        sa.Column("worklist_group", sa.String(length=40), nullable=False),
        sa.Column("episode_id", sa.String(length=200), nullable=False),
        sa.Column("triage", sa.String(length=40), nullable=False),
        sa.Column("suspicion", sa.String(length=40), nullable=False),
        sa.Column("months_since_surgery", sa.Float(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("open_questions", sa.Text(), nullable=True),
        sa.Column("next_follow_up", sa.Text(), nullable=True),
        sa.Column("case_data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["screening_runs.id"],
            name=op.f("fk_screening_rows_run_id_screening_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_rows")),
    )
    op.create_index("ix_screening_rows_run", "screening_rows", ["run_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_screening_rows_run", table_name="screening_rows")
    op.drop_table("screening_rows")
    op.drop_index("ix_screening_runs_team", table_name="screening_runs")
    op.drop_table("screening_runs")
