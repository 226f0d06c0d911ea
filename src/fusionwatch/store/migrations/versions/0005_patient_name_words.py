"""the words of patients' names, folded, for a search by index (issue 16)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:00:00

A name search was a scan (``ILIKE '%…%'`` over every patient of the team: 0.3-0.8 s with
100,000 patients). Each patient's name is now also stored as its words, case-folded and without
accents, in ``patient_name_words``: its primary key (word, patient) makes "a word starting with"
a range of one index on SQLite and PostgreSQL alike ("C" collation there, so that the range is
by code point), and the index (patient, word) checks one patient's words. Existing patients are
carried over here.
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WORD_TYPE = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
BATCH = 5_000


def _name_words(text: str) -> list[str]:
    # A copy of fusionwatch.store.records.name_words as it was when this migration was written
    # (a migration must not change when the code does; a test checks that they still agree).
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return sorted({w[:200] for w in re.findall(r"\w+", plain)})


def upgrade() -> None:
    words = op.create_table(
        "patient_name_words",
        sa.Column("word", WORD_TYPE, nullable=False),
        sa.Column("patient_id", BIG, nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_name_words_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("word", "patient_id", name=op.f("pk_patient_name_words")),
    )
    op.create_index("ix_patient_name_words_patient", "patient_name_words", ["patient_id", "word"])
    patients = sa.table("patients", sa.column("id", BIG), sa.column("display_name", sa.String))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(patients.c.id, patients.c.display_name)
            .where(patients.c.id > last)
            .order_by(patients.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        found = [{"word": w, "patient_id": i} for i, name in rows for w in _name_words(name)]
        if found:
            connection.execute(sa.insert(words), found)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_patient_name_words_patient", table_name="patient_name_words")
    op.drop_table("patient_name_words")
