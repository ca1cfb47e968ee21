"""Pupil attendance concerns and their chronology: pupil data, for the school's
attendance staff only (storage.attendance)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class AttendanceConcern(Base):
    """A pupil attendance concern: pupil data, for the school's attendance staff only.

    The pupil is a reference (MIS id or initials), never a name. Derived flags are
    stored as they were worked out from the figures given when it was raised.
    """

    __tablename__ = "attendance_concern"
    __table_args__ = (
        # The open list of a school, most overdue review first.
        Index("ix_attendance_concern_open", "trust_id", "school_id", "status", "next_review_on"),
        UniqueConstraint("trust_id", "form_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    pupil_ref: Mapped[str] = mapped_column(String(20))
    year_group: Mapped[str] = mapped_column(String(4))
    # Exact to two places: 90.00 is persistent absence, 90.01 is not.
    attendance_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2, asdecimal=True))
    unauthorised_sessions_10_weeks: Mapped[int] = mapped_column(Integer)
    concern_type: Mapped[str] = mapped_column(String(32))
    vulnerable: Mapped[list[str]] = mapped_column(JSON, default=list)
    done_so_far: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(16))
    persistent_absence: Mapped[bool] = mapped_column(default=False)
    severe_absence: Mapped[bool] = mapped_column(default=False)
    consider_penalty_notice: Mapped[bool] = mapped_column(default=False)
    # open or closed.
    status: Mapped[str] = mapped_column(String(8), default="open")
    outcome: Mapped[str | None] = mapped_column(String(32))
    next_review_on: Mapped[date | None] = mapped_column(Date)
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The card's own id: a double-clicked or redelivered submit raises one concern.
    form_id: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    anonymised_at: Mapped[datetime | None] = mapped_column()


class ConcernEvent(Base):
    """One entry of a concern's chronology: raised, stage, action, review, closed, anonymised."""

    __tablename__ = "concern_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_concern.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(16))
    # The day an action was taken (it may be logged later), or the review date set.
    on_date: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")
    # The update or close card that made it (its ConcernChange), if a card did.
    form_id: Mapped[str | None] = mapped_column(String(64))


class ConcernChange(Base):
    """One update or close card applied to a concern: stored once per form
    (storage/forms.py), however often the card arrives; its entries are the
    concern's events with the same form id."""

    __tablename__ = "concern_change"
    __table_args__ = (UniqueConstraint("trust_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    concern_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_concern.id", ondelete="CASCADE"), index=True
    )
    # update or close.
    kind: Mapped[str] = mapped_column(String(8))
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    form_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
