"""a trust's directory version, so each process may cache who its people are

Revision ID: 0015
Revises: 0014

Every change to a trust's people, their roles and subjects, its schools or its own
settings adds one to `trust.directory_version` in the same transaction
(storage/directory_stamp.py). A replica keeps the people it has identified and reads
only this number on their next turn: the same number, the same directory.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("directory_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.drop_column("directory_version")
