"""care teams and roles, patient summary columns, 64-bit ids, CDS jti memory, login throttle

Existing data moves into a team named "default": every patient, and every existing user as a
clinician (least privilege; name an administrator with `fusionwatch teams add-member`). Existing
audit events are marked as the default team's. Each patient's latest assessment is copied into
the summary columns the lists read.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 11:45:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TEAM = "default"
# (table, column) pairs that hold ids: BIGINT on PostgreSQL (SQLite's are 64-bit already).
ID_COLUMNS = (
    ("users", "id"),
    ("sessions", "id"),
    ("sessions", "user_id"),
    ("api_tokens", "id"),
    ("api_tokens", "user_id"),
    ("patients", "id"),
    ("patients", "created_by"),
    ("assessments", "id"),
    ("assessments", "patient_id"),
    ("assessments", "created_by"),
    ("audit_events", "id"),
    ("cds_feedback", "id"),
)
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", BIG, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", BIG, nullable=False),
        sa.Column("team_id", BIG, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_memberships_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "team_id", name=op.f("pk_memberships")),
    )
    op.create_table(
        "cds_token_uses",
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_cds_token_uses")),
    )
    op.create_index("ix_cds_token_uses_expires", "cds_token_uses", ["expires_at"])
    op.create_table(
        "login_throttle",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_login_throttle")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table, column in ID_COLUMNS:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_nullable=False)

    teams = sa.table("teams", sa.column("id"), sa.column("name"), sa.column("created_at"))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    op.bulk_insert(teams, [{"name": DEFAULT_TEAM, "created_at": now}])
    team_id = (
        op.get_bind()
        .execute(sa.text("SELECT id FROM teams WHERE name = :n"), {"n": DEFAULT_TEAM})
        .scalar_one()
    )
    op.execute(
        sa.text(
            "INSERT INTO memberships (user_id, team_id, role) "
            "SELECT id, :team, 'clinician' FROM users"
        ).bindparams(team=team_id)
    )

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", BIG, nullable=True))
        batch_op.add_column(sa.Column("latest_assessment_id", BIG, nullable=True))
        batch_op.add_column(sa.Column("latest_triage", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("latest_suspicion", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("latest_as_of", sa.Date(), nullable=True))
    op.execute(sa.text("UPDATE patients SET team_id = :team").bindparams(team=team_id))
    op.execute(
        "UPDATE patients SET latest_assessment_id = "
        "(SELECT max(a.id) FROM assessments a WHERE a.patient_id = patients.id)"
    )
    for column, source in (
        ("latest_triage", "triage"),
        ("latest_suspicion", "suspicion"),
        ("latest_as_of", "as_of"),
    ):
        op.execute(
            f"UPDATE patients SET {column} = (SELECT a.{source} FROM assessments a "  # noqa: S608
            "WHERE a.id = patients.latest_assessment_id)"
        )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.alter_column("team_id", existing_type=BIG, nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_patients_team_id_teams"), "teams", ["team_id"], ["id"]
        )
        batch_op.create_index("ix_patients_team", ["team_id", "id"], unique=False)
        batch_op.create_index("ix_patients_team_reference", ["team_id", "reference"], unique=False)

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", BIG, nullable=True))
        batch_op.add_column(sa.Column("team_id", BIG, nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_events_team_id"), ["team_id"], unique=False)
    op.execute(sa.text("UPDATE audit_events SET team_id = :team").bindparams(team=team_id))

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_team_id"))
        batch_op.drop_column("team_id")
        batch_op.drop_column("actor_id")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_team_reference")
        batch_op.drop_index("ix_patients_team")
        batch_op.drop_constraint(batch_op.f("fk_patients_team_id_teams"), type_="foreignkey")
        batch_op.drop_column("latest_as_of")
        batch_op.drop_column("latest_suspicion")
        batch_op.drop_column("latest_triage")
        batch_op.drop_column("latest_assessment_id")
        batch_op.drop_column("team_id")
    if op.get_bind().dialect.name == "postgresql":
        for table, column in ID_COLUMNS:
            op.alter_column(table, column, type_=sa.Integer(), existing_nullable=False)
    op.drop_table("login_throttle")
    op.drop_index("ix_cds_token_uses_expires", table_name="cds_token_uses")
    op.drop_table("cds_token_uses")
    op.drop_table("memberships")
    op.drop_table("teams")
