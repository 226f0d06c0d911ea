"""screening rows name the cells set aside because they contradict the timeline (issue 14)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Runs saved before this column carry no set-aside cells: their readers screened every cell
    # as given (decision 0017), so empty is the truth for them.
    with op.batch_alter_table("screening_rows") as batch:
        batch.add_column(sa.Column("set_aside", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_rows") as batch:
        batch.drop_column("set_aside")
