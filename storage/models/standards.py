"""Standards reviews: the meetings, between annual standards meetings, that confirm a
school's category or change it (a change is also a categorisation)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class StandardsReview(Base):
    """A standards review of a school, for the term its meeting was held in."""

    __tablename__ = "standards_review"
    __table_args__ = (
        UniqueConstraint("trust_id", "form_id"),
        # Who is due a reminder reads one term of a whole trust at once.
        Index("ix_standards_review_term", "trust_id", "academic_year", "term"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    # The term the review is for: "2026-27" and its number, and the term's name then,
    # so history survives a change of term dates.
    academic_year: Mapped[str] = mapped_column(String(7))
    term: Mapped[int] = mapped_column(Integer)
    term_name: Mapped[str] = mapped_column(String(40))
    held_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[str] = mapped_column(Text)
    trustees_attended: Mapped[bool] = mapped_column(default=False)
    # "confirmed" (the category stays) or "changed" (a new categorisation).
    outcome: Mapped[str] = mapped_column(String(16))
    # The category the school is in after the review, by name as it was then.
    category_name: Mapped[str] = mapped_column(String(100))
    # The categorisation a change made; none for a confirmation.
    categorisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("school_categorisation.id", ondelete="SET NULL")
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The card's own id (storage/forms.py): every review is recorded on a card.
    form_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
