"""messages wait for a reader who has not installed Waypoint yet

Revision ID: 0013
Revises: 0012

A delivery for someone without a chat with Waypoint used to end at once as "gone"
("not installed"). It now waits (status "waiting") until they install, or until its
kind's bound (`expires_at`) has passed. Rows that already ended "gone: not installed"
were never delivered and are weeks old by now: they become "expired" ("never
installed") rather than delivered late, and "gone" is left meaning blocked or removed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_delivery = sa.table(
    "delivery",
    sa.column("status", sa.String()),
    sa.column("last_error", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        _delivery.update()
        .where(_delivery.c.status == "gone", _delivery.c.last_error == "not installed")
        .values(status="expired", last_error="never installed")
    )


def downgrade() -> None:
    op.execute(
        _delivery.update()
        .where(_delivery.c.status.in_(["waiting", "expired"]))
        .values(status="gone", last_error="not installed")
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
