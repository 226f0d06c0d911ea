"""CDS Hooks card feedback

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("service_id", sa.String(length=80), nullable=False),
        sa.Column("card_uuid", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("outcome_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_suggestions", sa.JSON(), nullable=False),
        sa.Column("override_code", sa.String(length=120), nullable=True),
        sa.Column("override_comment", sa.Text(), nullable=True),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_feedback")),
    )
    with op.batch_alter_table("cds_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_cds_feedback_card", ["service_id", "card_uuid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cds_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_cds_feedback_card")
    op.drop_table("cds_feedback")
