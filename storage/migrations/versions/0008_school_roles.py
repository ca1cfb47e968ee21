"""school roles: a role belongs to a school, or to the trust for trust-wide roles

person_role gains a surrogate key and a school; person_school goes, since the schools
a person is linked to are the schools of their roles.

Today's access is kept for today's data: every role other than trust_lead and admin
is held at every school the person is linked to, as before; trust_lead and admin
are held for the trust; an attendance lead linked to no school, who followed every
school's concerns, becomes an explicit trust-wide attendance lead. A school role of
someone linked to no school gave no reach and has nowhere to be held: it goes.

Downgrade links each person to the schools of their roles and gives every role at
all of them, the old model's only meaning (head of A and teacher at B becomes both
at both).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the code says them at this revision; the migration must not follow later edits.
TRUST_WIDE = "('admin', 'trust_lead')"
TRUST_WIDE_OR_SCHOOL = "('attendance_lead')"
NEVER_AT_A_SCHOOL_OR_EITHER = "('admin', 'attendance_lead', 'trust_lead')"
SCHOOL_FITS_ROLE = (
    f"(role IN {TRUST_WIDE} AND school_id IS NULL)"
    f" OR role IN {TRUST_WIDE_OR_SCHOOL}"
    f" OR (role NOT IN {NEVER_AT_A_SCHOOL_OR_EITHER} AND school_id IS NOT NULL)"
)
# Rows in flight between the old tables and the new ones.
STAGING = "person_role_0008"


def _create_school_roles() -> None:
    op.create_table(
        "person_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(SCHOOL_FITS_ROLE, name=op.f("ck_person_role_school_fits_role")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_role_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_person_role_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_role")),
        sa.UniqueConstraint(
            "person_id", "role", "school_id", name=op.f("uq_person_role_person_id_role_school_id")
        ),
    )
    with op.batch_alter_table("person_role", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_role_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            "uq_person_role_trust_wide",
            ["person_id", "role"],
            unique=True,
            sqlite_where=sa.text("school_id IS NULL"),
            postgresql_where=sa.text("school_id IS NULL"),
        )


def _create_person_roles() -> None:
    op.create_table(
        "person_role",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_role_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "role", name=op.f("pk_person_role")),
    )


def _create_person_schools() -> None:
    op.create_table(
        "person_school",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_school_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_person_school_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "school_id", name=op.f("pk_person_school")),
    )
    with op.batch_alter_table("person_school", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_school_school_id"), ["school_id"], unique=False)


def _create_staging() -> None:
    # No keys: it lives for the length of the migration.
    op.create_table(
        STAGING,
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
    )


def upgrade() -> None:
    _create_staging()
    # Every school role at every linked school; an attendance lead likewise.
    op.execute(
        f"INSERT INTO {STAGING} (person_id, role, school_id) "
        "SELECT r.person_id, r.role, s.school_id FROM person_role r "
        "JOIN person_school s ON s.person_id = r.person_id "
        f"WHERE r.role NOT IN {TRUST_WIDE}"
    )
    # Trust-wide roles, and the attendance lead linked to no school, who followed
    # every school's concerns: held for the trust.
    op.execute(
        f"INSERT INTO {STAGING} (person_id, role, school_id) "
        "SELECT r.person_id, r.role, NULL FROM person_role r "
        f"WHERE r.role IN {TRUST_WIDE} OR (r.role IN {TRUST_WIDE_OR_SCHOOL} AND NOT EXISTS "
        "(SELECT 1 FROM person_school s WHERE s.person_id = r.person_id))"
    )
    op.drop_table("person_role")
    with op.batch_alter_table("person_school", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_school_school_id"))
    op.drop_table("person_school")
    _create_school_roles()
    op.execute(
        "INSERT INTO person_role (person_id, role, school_id) "
        f"SELECT person_id, role, school_id FROM {STAGING} ORDER BY person_id, role, school_id"
    )
    op.drop_table(STAGING)


def downgrade() -> None:
    _create_staging()
    op.execute(
        f"INSERT INTO {STAGING} (person_id, role, school_id) "
        "SELECT person_id, role, school_id FROM person_role"
    )
    with op.batch_alter_table("person_role", schema=None) as batch_op:
        batch_op.drop_index("uq_person_role_trust_wide")
        batch_op.drop_index(batch_op.f("ix_person_role_school_id"))
    op.drop_table("person_role")
    _create_person_roles()
    _create_person_schools()
    op.execute(
        f"INSERT INTO person_role (person_id, role) SELECT DISTINCT person_id, role FROM {STAGING}"
    )
    op.execute(
        "INSERT INTO person_school (person_id, school_id) "
        f"SELECT DISTINCT person_id, school_id FROM {STAGING} WHERE school_id IS NOT NULL"
    )
    op.drop_table(STAGING)
