"""School improvement: the trust's categorisation framework and each school's
category, advisers' notes of visit, and the actions a school must carry out."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, utcnow


class Framework(Base):
    """A trust's categorisation framework: its own data, copied from a preset.

    One per trust; a trust that changes framework replaces this row's categories.
    """

    __tablename__ = "framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    categories: Mapped[list[Category]] = relationship(
        back_populates="framework", order_by="Category.rank", cascade="all, delete-orphan"
    )


class Category(Base):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("framework_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    # 1 is the strongest position; higher ranks need more support.
    rank: Mapped[int] = mapped_column(Integer)
    descriptor: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    support: Mapped[list[str]] = mapped_column(JSON, default=list)
    challenge: Mapped[list[str]] = mapped_column(JSON, default=list)
    improvement_target: Mapped[str] = mapped_column(Text, default="")
    monitoring: Mapped[str] = mapped_column(Text, default="")
    needs_attention: Mapped[bool] = mapped_column(default=False)
    # Schools in this category get a standards review every term, beside the annual
    # standards meeting (the five-categories preset's Recovery and Repair).
    termly_review: Mapped[bool] = mapped_column(default=False, server_default=false())

    framework: Mapped[Framework] = relationship(back_populates="categories")


class SchoolCategorisation(Base):
    """A school's category as agreed at a standards meeting; the latest one is current."""

    __tablename__ = "school_categorisation"
    __table_args__ = (UniqueConstraint("trust_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    # The name as it was, so history survives a change of framework.
    category_name: Mapped[str] = mapped_column(String(100))
    decided_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The card's own id (storage/forms.py); none for a categorisation loaded by a command.
    form_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Visit(Base):
    """A school improvement adviser's note of visit.

    Visits are numbered from 1 in each academic year (the year of `visited_on`,
    starting 1 September: storage.academic_calendar), against the trust's visit
    programme (storage.models.programme).
    """

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("school_id", "academic_year", "number"),
        UniqueConstraint("trust_id", "form_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    number: Mapped[int] = mapped_column(Integer)
    visited_on: Mapped[date] = mapped_column(Date)
    # "2026-27": the academic year of `visited_on`, in which `number` counts.
    academic_year: Mapped[str] = mapped_column(String(7))
    focus: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[str] = mapped_column(Text, default="")
    next_visit_on: Mapped[date | None] = mapped_column(Date)
    # The card's own id (storage/forms.py); none for a visit loaded by a command.
    form_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SchoolAction(Base):
    """A next step a school must carry out: from a visit, or set by hand."""

    __tablename__ = "school_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    # open; done (the school says so: awaiting the adviser's rating at the next visit);
    # closed (rated after it was done); or dropped.
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # The latest RAG rating (red, amber, green); its history is in action_event.
    rag: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ActionEvent(Base):
    """Every RAG rating, status change and progress note of an action: who, when, what."""

    __tablename__ = "action_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("school_action.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # "rag", "status" or "note".
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(16))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))
    # A progress note's text (kind "note"): how far the school has got.
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
