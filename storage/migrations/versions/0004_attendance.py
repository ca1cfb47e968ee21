"""attendance concerns, their chronology, and the trust's retention period

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_concern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_ref", sa.String(length=20), nullable=False),
        sa.Column("year_group", sa.String(length=4), nullable=False),
        sa.Column("attendance_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("unauthorised_sessions_10_weeks", sa.Integer(), nullable=False),
        sa.Column("concern_type", sa.String(length=32), nullable=False),
        sa.Column("vulnerable", sa.JSON(), nullable=False),
        sa.Column("done_so_far", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("persistent_absence", sa.Boolean(), nullable=False),
        sa.Column("severe_absence", sa.Boolean(), nullable=False),
        sa.Column("consider_penalty_notice", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("raised_by", sa.Integer(), nullable=True),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["raised_by"],
            ["person.id"],
            name=op.f("fk_attendance_concern_raised_by_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_attendance_concern_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_attendance_concern_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_concern")),
        sa.UniqueConstraint("form_id", name=op.f("uq_attendance_concern_form_id")),
    )
    with op.batch_alter_table("attendance_concern", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_concern_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attendance_concern_trust_id"), ["trust_id"], unique=False
        )
        batch_op.create_index(
            "ix_attendance_concern_open",
            ["trust_id", "school_id", "status", "next_review_on"],
            unique=False,
        )

    op.create_table(
        "concern_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("form_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_person_id"],
            ["person.id"],
            name=op.f("fk_concern_event_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["attendance_concern.id"],
            name=op.f("fk_concern_event_concern_id_attendance_concern"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_event")),
        sa.UniqueConstraint("form_id", "kind", name=op.f("uq_concern_event_form_id_kind")),
    )
    with op.batch_alter_table("concern_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concern_event_concern_id"), ["concern_id"], unique=False
        )

    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "attendance_retention_years", sa.Integer(), server_default="2", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.drop_column("attendance_retention_years")

    with op.batch_alter_table("concern_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_event_concern_id"))
    op.drop_table("concern_event")

    with op.batch_alter_table("attendance_concern", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_concern_open")
        batch_op.drop_index(batch_op.f("ix_attendance_concern_trust_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_concern_school_id"))
    op.drop_table("attendance_concern")
