"""Proactive messages: the outbox of deliveries, Teams' throttle on sending, and the
weekly digest runs that fill the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Delivery(Base):
    """One proactive message to one person: a digest, a reminder or a notice.

    Unique per (trust, kind, period, recipient): composing the same digest twice,
    or on two replicas at once, queues it once.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("trust_id", "kind", "period", "recipient_id"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_recipient_status", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    # trust_digest, school_digest, qa_reminder, coaching_step, attendance_notice, …
    kind: Mapped[str] = mapped_column(String(32))
    # The digest period ("2026-W47") or the notice's own key ("coaching:123").
    period: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # Who asked for it (a trust lead's "digest", a coach's session), for the report.
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The message to send: {"text": …, "card": …}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending → sending → sent | gone | failed | unconfirmed; or, for someone who has
    # not installed Waypoint, waiting → pending (when they install) | expired.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # How long it may wait for a recipient who has not installed Waypoint (the bound
    # for its kind, storage/outbox.py WAIT_BOUNDS); None for rows queued before 0013.
    expires_at: Mapped[datetime | None]


class SendThrottle(Base):
    """Teams said 429: every sender waits until `until` (one row per trust)."""

    __tablename__ = "send_throttle"

    trust_id: Mapped[int] = mapped_column(
        ForeignKey("trust.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime]


class DigestRun(Base):
    """A week's digests composed for a trust: once per period, whoever asks."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("trust_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))
    composed_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued: Mapped[int] = mapped_column(Integer, default=0)
