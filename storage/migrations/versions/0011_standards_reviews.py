"""standards reviews: a category's termly review, the review records, the annual meeting's term

Revision ID: 0011
Revises: 0010

A category may bring a standards review every term (category.termly_review).
Existing trusts' frameworks are backfilled from their keys, as the presets now
say: five-categories' recovery and repair, four-phases' two lower phases (repair,
stabilise). A framework loaded from a file of the trust's own keeps false until it
is loaded again with the flag set.

standards_review holds each review: the term it is for, the meeting, its outcome
and the categorisation a change made. trust.standards_meeting_term is the term of
the annual standards meeting (null: the last term of the year).

Independent of 0010 (written alongside): it touches none of its tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Framework key -> the category keys that bring a termly review.
TERMLY = {
    "five-categories": ("recovery", "repair"),
    "four-phases": ("repair", "stabilise"),
}


def upgrade() -> None:
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("termly_review", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.add_column(sa.Column("standards_meeting_term", sa.Integer(), nullable=True))

    category = sa.table(
        "category",
        sa.column("framework_id", sa.Integer()),
        sa.column("key", sa.String()),
        sa.column("termly_review", sa.Boolean()),
    )
    framework = sa.table("framework", sa.column("id", sa.Integer()), sa.column("key", sa.String()))
    for framework_key, category_keys in TERMLY.items():
        op.execute(
            category.update()
            .where(
                category.c.key.in_(category_keys),
                category.c.framework_id.in_(
                    sa.select(framework.c.id).where(framework.c.key == framework_key)
                ),
            )
            .values(termly_review=True)
        )

    op.create_table(
        "standards_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("academic_year", sa.String(length=7), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("term_name", sa.String(length=40), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("trustees_attended", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("category_name", sa.String(length=100), nullable=False),
        sa.Column("categorisation_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["categorisation_id"],
            ["school_categorisation.id"],
            name=op.f("fk_standards_review_categorisation_id_school_categorisation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["person.id"],
            name=op.f("fk_standards_review_recorded_by_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_standards_review_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_standards_review_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standards_review")),
        sa.UniqueConstraint(
            "trust_id", "form_id", name=op.f("uq_standards_review_trust_id_form_id")
        ),
    )
    with op.batch_alter_table("standards_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_standards_review_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_standards_review_trust_id"), ["trust_id"], unique=False
        )
        batch_op.create_index(
            "ix_standards_review_term", ["trust_id", "academic_year", "term"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("standards_review", schema=None) as batch_op:
        batch_op.drop_index("ix_standards_review_term")
        batch_op.drop_index(batch_op.f("ix_standards_review_trust_id"))
        batch_op.drop_index(batch_op.f("ix_standards_review_school_id"))
    op.drop_table("standards_review")
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.drop_column("standards_meeting_term")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_column("termly_review")
