"""form ids are unique per trust, for every form; concern cards get a record of their own

Revision ID: 0009
Revises: 0008

Coaching sessions already had a form id unique per trust; categorisations,
notes of visit, QA summaries and attendance concerns had one unique across every
trust. Each becomes (trust_id, form_id), the one rule storage/forms.py relies on.
A form id unique across trusts is unique within each, so no row can conflict.

Update and close cards of a concern made events unique on (form_id, kind); they
now make a concern_change row each, unique on (trust_id, form_id), built here
from the events that carry a form id (a close card's change is "close").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the old constraint on form_id alone)
FORM_TABLES = (
    ("school_categorisation", "uq_school_categorisation_form_id"),
    ("visit", "uq_visit_form_id"),
    ("qa_summary", "uq_qa_summary_form_id"),
    ("attendance_concern", "uq_attendance_concern_form_id"),
)


def upgrade() -> None:
    for table, old in FORM_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(old, type_="unique")
            batch_op.create_unique_constraint(
                batch_op.f(f"uq_{table}_trust_id_form_id"), ["trust_id", "form_id"]
            )
    op.create_table(
        "concern_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("by_person_id", sa.Integer(), nullable=True),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_person_id"],
            ["person.id"],
            name=op.f("fk_concern_change_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["attendance_concern.id"],
            name=op.f("fk_concern_change_concern_id_attendance_concern"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_concern_change_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_change")),
        sa.UniqueConstraint("trust_id", "form_id", name=op.f("uq_concern_change_trust_id_form_id")),
    )
    with op.batch_alter_table("concern_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concern_change_concern_id"), ["concern_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_concern_change_trust_id"), ["trust_id"], unique=False)
    op.execute(
        """
        INSERT INTO concern_change (trust_id, concern_id, kind, by_person_id, form_id, at)
        SELECT c.trust_id, e.concern_id,
               CASE WHEN MAX(CASE WHEN e.kind = 'closed' THEN 1 ELSE 0 END) = 1
                    THEN 'close' ELSE 'update' END,
               MIN(e.by_person_id), e.form_id, MIN(e.at)
        FROM concern_event e JOIN attendance_concern c ON c.id = e.concern_id
        WHERE e.form_id IS NOT NULL
        GROUP BY c.trust_id, e.concern_id, e.form_id
        """
    )
    with op.batch_alter_table("concern_event", schema=None) as batch_op:
        batch_op.drop_constraint("uq_concern_event_form_id_kind", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("concern_event", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_concern_event_form_id_kind"), ["form_id", "kind"]
        )
    with op.batch_alter_table("concern_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_change_trust_id"))
        batch_op.drop_index(batch_op.f("ix_concern_change_concern_id"))
    op.drop_table("concern_change")
    for table, old in reversed(FORM_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_trust_id_form_id", type_="unique")
            batch_op.create_unique_constraint(old, ["form_id"])
