"""coaching, categorisation, visits, actions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:07:26.273769
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
        "coaching_strand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_coaching_strand_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_strand")),
        sa.UniqueConstraint("trust_id", "name", name=op.f("uq_coaching_strand_trust_id_name")),
    )
    with op.batch_alter_table("coaching_strand", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coaching_strand_trust_id"), ["trust_id"], unique=False)

    op.create_table(
        "coaching_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("coachee_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("strand_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action_step", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("next_session_on", sa.Date(), nullable=True),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coach_id"],
            ["person.id"],
            name=op.f("fk_coaching_session_coach_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["coachee_id"],
            ["person.id"],
            name=op.f("fk_coaching_session_coachee_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_coaching_session_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["strand_id"],
            ["coaching_strand.id"],
            name=op.f("fk_coaching_session_strand_id_coaching_strand"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_coaching_session_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_session")),
        sa.UniqueConstraint(
            "trust_id", "form_id", name=op.f("uq_coaching_session_trust_id_form_id")
        ),
    )
    with op.batch_alter_table("coaching_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coaching_session_coach_id"), ["coach_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coaching_session_coachee_id"), ["coachee_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_coaching_session_held_on"), ["held_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_coaching_session_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coaching_session_trust_id"), ["trust_id"], unique=False
        )

    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("adviser_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("focus", sa.Text(), nullable=False),
        sa.Column("strengths", sa.Text(), nullable=False),
        sa.Column("risks", sa.Text(), nullable=False),
        sa.Column("next_visit_on", sa.Date(), nullable=True),
        sa.Column("form_id", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["adviser_id"],
            ["person.id"],
            name=op.f("fk_visit_adviser_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_visit_school_id_school"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.id"], name=op.f("fk_visit_trust_id_trust"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        sa.UniqueConstraint("form_id", name=op.f("uq_visit_form_id")),
        sa.UniqueConstraint("school_id", "number", name=op.f("uq_visit_school_id_number")),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_trust_id"), ["trust_id"], unique=False)

    op.create_table(
        "school_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["person.id"],
            name=op.f("fk_school_action_owner_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_school_action_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_school_action_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit.id"],
            name=op.f("fk_school_action_visit_id_visit"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_action")),
    )
    with op.batch_alter_table("school_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_action_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_school_action_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_school_action_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_school_action_trust_id"), ["trust_id"], unique=False)

    op.create_table(
        "school_categorisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("category_name", sa.String(length=100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("form_id", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_school_categorisation_category_id_category"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["person.id"],
            name=op.f("fk_school_categorisation_recorded_by_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_school_categorisation_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_school_categorisation_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_categorisation")),
        sa.UniqueConstraint("form_id", name=op.f("uq_school_categorisation_form_id")),
    )
    with op.batch_alter_table("school_categorisation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_categorisation_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_school_categorisation_trust_id"), ["trust_id"], unique=False
        )

    op.create_table(
        "action_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["school_action.id"],
            name=op.f("fk_action_event_action_id_school_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_person_id"],
            ["person.id"],
            name=op.f("fk_action_event_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit.id"],
            name=op.f("fk_action_event_visit_id_visit"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_event")),
    )
    with op.batch_alter_table("action_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_event_action_id"), ["action_id"], unique=False)

    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("coaching_interval_days", sa.Integer(), server_default="14", nullable=False)
        )
        batch_op.add_column(
            sa.Column("coaching_target_percent", sa.Integer(), server_default="80", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.drop_column("coaching_target_percent")
        batch_op.drop_column("coaching_interval_days")

    with op.batch_alter_table("action_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_event_action_id"))

    op.drop_table("action_event")
    with op.batch_alter_table("school_categorisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_categorisation_trust_id"))
        batch_op.drop_index(batch_op.f("ix_school_categorisation_school_id"))

    op.drop_table("school_categorisation")
    with op.batch_alter_table("school_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_action_trust_id"))
        batch_op.drop_index(batch_op.f("ix_school_action_status"))
        batch_op.drop_index(batch_op.f("ix_school_action_school_id"))
        batch_op.drop_index(batch_op.f("ix_school_action_due_on"))

    op.drop_table("school_action")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_trust_id"))
        batch_op.drop_index(batch_op.f("ix_visit_school_id"))

    op.drop_table("visit")
    with op.batch_alter_table("coaching_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coaching_session_trust_id"))
        batch_op.drop_index(batch_op.f("ix_coaching_session_school_id"))
        batch_op.drop_index(batch_op.f("ix_coaching_session_held_on"))
        batch_op.drop_index(batch_op.f("ix_coaching_session_coachee_id"))
        batch_op.drop_index(batch_op.f("ix_coaching_session_coach_id"))

    op.drop_table("coaching_session")
    with op.batch_alter_table("coaching_strand", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coaching_strand_trust_id"))

    op.drop_table("coaching_strand")
