"""Subject leads' termly QA: a trust's term dates, the summaries, and the reminders
claimed for them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class TermDate(Base):
    """A term of a trust's academic year, as the trust set it (three terms or six).

    A year the trust has not set falls back to the default English calendar
    (storage.terms); rows here always win for their academic year.
    """

    __tablename__ = "term_date"
    __table_args__ = (UniqueConstraint("trust_id", "academic_year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    # "2026-27": the year starts in September.
    academic_year: Mapped[str] = mapped_column(String(7))
    # 1 for the first term of the year, in date order.
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date] = mapped_column(Date)


class QaSummary(Base):
    """A subject lead's termly QA summary; a resubmission is a new version, the latest counts."""

    __tablename__ = "qa_summary"
    __table_args__ = (
        UniqueConstraint("school_id", "subject", "academic_year", "term", "version"),
        UniqueConstraint("trust_id", "form_id"),
        # Compliance reads one term of a whole trust at once.
        Index("ix_qa_summary_term", "trust_id", "academic_year", "term"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(80))
    academic_year: Mapped[str] = mapped_column(String(7))
    term: Mapped[int] = mapped_column(Integer)
    # The term's name when submitted, so history survives a change of term dates.
    term_name: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    strengths: Mapped[str] = mapped_column(Text)
    areas_for_development: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    # red, amber or green.
    judgement: Mapped[str] = mapped_column(String(8))
    actions: Mapped[str] = mapped_column(Text, default="")
    cpd: Mapped[str] = mapped_column(Text, default="")
    # The card's own id: a double-clicked or redelivered submit stores one version.
    form_id: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class QaReminder(Base):
    """A QA reminder claimed for one subject lead, school, subject and term.

    The row is the promise that the reminder is sent at most once: it is written
    before sending and removed again only when the send fails.
    """

    __tablename__ = "qa_reminder"
    __table_args__ = (
        # Named by hand: the conventional name would pass PostgreSQL's 63 characters.
        UniqueConstraint(
            "trust_id",
            "school_id",
            "subject",
            "academic_year",
            "term",
            "person_id",
            name="uq_qa_reminder_once",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(80))
    academic_year: Mapped[str] = mapped_column(String(7))
    term: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
