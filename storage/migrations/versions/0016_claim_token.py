"""a claim names the turn that holds it, so two replicas can never both think it theirs

Revision ID: 0016
Revises: 0015

A turn claims its activity in one statement (INSERT … ON CONFLICT DO UPDATE) and
learns from what it hands back whether the claim is its own. It knew it by the claim's
time stamp, but two replicas can read the same instant from their clocks: the cluster
run saw both copies of a redelivered activity claimed at the same microsecond, and
both answered. Each claim now carries a random token of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_activity", schema=None) as batch_op:
        batch_op.drop_column("claim")
