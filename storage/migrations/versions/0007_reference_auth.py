"""conversation references remember whether they came from an authenticated turn

Revision ID: 0007
Revises: 0006

A reference saved in anonymous (development) mode holds a service URL nobody
vouched for; a process with credentials must never send a token there. Existing
rows are judged by their service URL: Teams only ever sends https service URLs,
while anonymous mode answers loopback http ones (the Playground, the Emulator,
the tests). So an https reference is kept reachable (a production store keeps
delivering its digests after the upgrade, and the service-URL host allow-list
still guards the token), and an http one is marked anonymous.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("authenticated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    conversation_ref = sa.table(
        "conversation_ref",
        sa.column("service_url", sa.String()),
        sa.column("authenticated", sa.Boolean()),
    )
    op.execute(
        conversation_ref.update()
        .where(sa.func.lower(conversation_ref.c.service_url).like("https://%"))
        .values(authenticated=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.drop_column("authenticated")
