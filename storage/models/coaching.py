"""Incremental coaching: the trust's focus strands, and each coaching session."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class CoachingStrand(Base):
    """A focus strand of the trust's own teaching approach (e.g. retrieval practice)."""

    __tablename__ = "coaching_strand"
    __table_args__ = (UniqueConstraint("trust_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer)
    # Strands dropped from the trust's list stay on the sessions that used them.
    active: Mapped[bool] = mapped_column(default=True)


class CoachingSession(Base):
    """One incremental coaching session. Notes and action step are for coach and coachee only."""

    __tablename__ = "coaching_session"
    __table_args__ = (UniqueConstraint("trust_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    coachee_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    strand_id: Mapped[int | None] = mapped_column(
        ForeignKey("coaching_strand.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))
    action_step: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    next_session_on: Mapped[date | None] = mapped_column(Date)
    # The card's own id: a double-clicked or redelivered submit stores one session.
    form_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
