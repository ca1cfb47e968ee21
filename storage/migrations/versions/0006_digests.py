"""digests: the trust's digest schedule, and one digest run per trust and week

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("digest_weekday", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("digest_time", sa.String(length=5), server_default="07:30", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "digest_timezone",
                sa.String(length=64),
                server_default="Europe/London",
                nullable=False,
            )
        )
    op.create_table(
        "digest_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("composed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_digest_run_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_run")),
        sa.UniqueConstraint("trust_id", "period", name=op.f("uq_digest_run_trust_id_period")),
    )


def downgrade() -> None:
    op.drop_table("digest_run")
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.drop_column("digest_timezone")
        batch_op.drop_column("digest_time")
        batch_op.drop_column("digest_weekday")
