"""visit programme: visits are numbered in each academic year; a trust's entitlement
per phase and the planned focus of each visit

Revision ID: 0010
Revises: 0009

`visit` gains `academic_year` ("2026-27"), filled for every past visit from its date
(the year starts on 1 September), and a visit's number is unique per school and
academic year rather than per school: numbers start again at 1 each September. Past
visits keep their numbers; each gets the year it happened in.

`visit_entitlement` holds the visits a year a trust gives a school of each phase, and
`visit_plan` the focus it plans for each visit number. Both start empty: a trust
that has loaded nothing gets the defaults (storage.visit_programme).

Downgrade puts back one number per school across all years. It refuses when a
school has the same number in two academic years (what this revision allows and
the previous one cannot hold) rather than renumber anyone's visits.
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The table as this revision reads and writes it; the migration must not follow
# later edits of the models.
_visit = sa.table(
    "visit",
    sa.column("id", sa.Integer),
    sa.column("school_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("visited_on", sa.Date),
    sa.column("academic_year", sa.String),
)


def _year_start(day: date) -> int:
    """The calendar year in which the academic year holding `day` began (September)."""
    return day.year if day.month >= 9 else day.year - 1


def _label(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _fill_academic_years() -> None:
    """Every visit's academic year, by date range: one UPDATE per year the visits
    span, the same SQL on both stores."""
    bind = op.get_bind()
    first, last = bind.execute(
        sa.select(sa.func.min(_visit.c.visited_on), sa.func.max(_visit.c.visited_on))
    ).one()
    if first is None or last is None:
        return
    for start in range(_year_start(first), _year_start(last) + 1):
        bind.execute(
            sa.update(_visit)
            .where(
                _visit.c.visited_on >= date(start, 9, 1),
                _visit.c.visited_on < date(start + 1, 9, 1),
            )
            .values(academic_year=_label(start))
        )


def upgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("academic_year", sa.String(length=7), nullable=True))
    _fill_academic_years()
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.alter_column("academic_year", existing_type=sa.String(length=7), nullable=False)
        batch_op.drop_constraint("uq_visit_school_id_number", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_visit_school_id_academic_year_number"),
            ["school_id", "academic_year", "number"],
        )
    op.create_table(
        "visit_entitlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_visit_entitlement_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_entitlement")),
        sa.UniqueConstraint("trust_id", "phase", name=op.f("uq_visit_entitlement_trust_id_phase")),
    )
    op.create_table(
        "visit_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("focus", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_visit_plan_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_plan")),
        sa.UniqueConstraint(
            "trust_id", "phase", "number", name=op.f("uq_visit_plan_trust_id_phase_number")
        ),
    )


def downgrade() -> None:
    bind = op.get_bind()
    repeated = bind.execute(
        sa.select(_visit.c.school_id, _visit.c.number)
        .group_by(_visit.c.school_id, _visit.c.number)
        .having(sa.func.count() > 1)
    ).all()
    if repeated:
        raise RuntimeError(
            f"cannot downgrade below 0010: {len(repeated)} visit numbers are used in more "
            "than one academic year at the same school, which revision 0009 cannot hold"
        )
    op.drop_table("visit_plan")
    op.drop_table("visit_entitlement")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_constraint("uq_visit_school_id_academic_year_number", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_visit_school_id_number"), ["school_id", "number"]
        )
        batch_op.drop_column("academic_year")
