"""a handled activity is marked finished, so a claim whose replica died can be taken over

Revision ID: 0014
Revises: 0013

An activity was claimed (a `processed_activity` row) when its turn began, and the claim
was dropped only when the turn raised. A replica killed mid-turn left its claim behind,
and Teams' retry of that activity, landing on another replica, was taken for a
redelivery and dropped. Now a turn marks its claim finished; an unfinished claim older
than a turn can last is taken over by the retry. Rows already here were handled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_processed = sa.table(
    "processed_activity",
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("finished_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("processed_activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(_processed.update().values(finished_at=_processed.c.received_at))


def downgrade() -> None:
    with op.batch_alter_table("processed_activity", schema=None) as batch_op:
        batch_op.drop_column("finished_at")
