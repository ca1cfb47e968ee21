"""an action's progress notes: a head marks an action done and says how far it got

Revision ID: 0012
Revises: 0011

A note is an action_event of kind "note" with its text; the rating stays the
adviser's (issue 15). An action marked done now waits for the adviser's rating at
the next visit (status "done"), and is closed once rated (status "closed"): the
actions already done are exactly those awaiting a rating, so no row changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("action_event", schema=None) as batch_op:
        batch_op.drop_column("note")
