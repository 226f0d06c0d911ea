"""break the glass: recorded emergency read access to a patient outside one's teams (issue 16)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "break_glass",
        sa.Column("id", BIG, nullable=False),
        sa.Column("user_id", BIG, nullable=False),
        sa.Column("patient_id", BIG, nullable=False),
        sa.Column("team_id", BIG, nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_break_glass_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_break_glass_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_break_glass_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass")),
    )
    op.create_index("ix_break_glass_user", "break_glass", ["user_id", "patient_id", "expires_at"])
    op.create_index("ix_break_glass_team", "break_glass", ["team_id", "id"])
    op.create_index("ix_audit_actor_action", "audit_events", ["actor_id", "action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_actor_action", table_name="audit_events")
    op.drop_index("ix_break_glass_team", table_name="break_glass")
    op.drop_index("ix_break_glass_user", table_name="break_glass")
    op.drop_table("break_glass")
