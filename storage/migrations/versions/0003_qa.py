"""term dates, QA summaries and QA reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "term_date",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("academic_year", sa.String(length=7), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.id"], name=op.f("fk_term_date_trust_id_trust"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term_date")),
        sa.UniqueConstraint(
            "trust_id",
            "academic_year",
            "number",
            name=op.f("uq_term_date_trust_id_academic_year_number"),
        ),
    )
    with op.batch_alter_table("term_date", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_term_date_trust_id"), ["trust_id"], unique=False)

    op.create_table(
        "qa_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("academic_year", sa.String(length=7), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("term_name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("strengths", sa.Text(), nullable=False),
        sa.Column("areas_for_development", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("judgement", sa.String(length=8), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("cpd", sa.Text(), nullable=False),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
            name=op.f("fk_qa_summary_author_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_qa_summary_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_qa_summary_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_summary")),
        sa.UniqueConstraint("form_id", name=op.f("uq_qa_summary_form_id")),
        sa.UniqueConstraint(
            "school_id",
            "subject",
            "academic_year",
            "term",
            "version",
            name=op.f("uq_qa_summary_school_id_subject_academic_year_term_version"),
        ),
    )
    with op.batch_alter_table("qa_summary", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_summary_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_summary_trust_id"), ["trust_id"], unique=False)
        batch_op.create_index(
            "ix_qa_summary_term", ["trust_id", "academic_year", "term"], unique=False
        )

    op.create_table(
        "qa_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("academic_year", sa.String(length=7), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_qa_reminder_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_qa_reminder_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_qa_reminder_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_reminder")),
        sa.UniqueConstraint(
            "trust_id",
            "school_id",
            "subject",
            "academic_year",
            "term",
            "person_id",
            name="uq_qa_reminder_once",
        ),
    )
    with op.batch_alter_table("qa_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_reminder_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_reminder_trust_id"), ["trust_id"], unique=False)

    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("qa_window_weeks_before", sa.Integer(), server_default="4", nullable=False)
        )
        batch_op.add_column(
            sa.Column("qa_window_weeks_after", sa.Integer(), server_default="3", nullable=False)
        )
        batch_op.add_column(
            sa.Column("qa_reminder_days", sa.Integer(), server_default="14", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.drop_column("qa_reminder_days")
        batch_op.drop_column("qa_window_weeks_after")
        batch_op.drop_column("qa_window_weeks_before")

    with op.batch_alter_table("qa_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_reminder_trust_id"))
        batch_op.drop_index(batch_op.f("ix_qa_reminder_person_id"))
    op.drop_table("qa_reminder")

    with op.batch_alter_table("qa_summary", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_summary_term")
        batch_op.drop_index(batch_op.f("ix_qa_summary_trust_id"))
        batch_op.drop_index(batch_op.f("ix_qa_summary_school_id"))
    op.drop_table("qa_summary")

    with op.batch_alter_table("term_date", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_term_date_trust_id"))
    op.drop_table("term_date")
