"""The standards review reminder: the card bot/scheduled/reviews.py queues for each
trust lead when a school's review (or annual standards meeting) is due before the
term ends; its button opens the review form (dialogs/review.py)."""

from __future__ import annotations

from typing import Any

from cards.render import render_card
from dialogs.review import ReviewVerb
from dialogs.words import full_day, long_date
from storage.academic_calendar import Term
from storage.standards import ReviewDue


def reminder_card(term: Term, due: ReviewDue) -> dict[str, Any]:
    """A trust lead's reminder that a school's review (or annual standards meeting) is
    due before the term ends, with the button that opens the form."""
    ends = full_day(term.ends)
    if due.annual and due.termly:
        title = f"Standards meeting due: {due.school_name}"
        text = (
            f"{term.title} holds the annual standards meeting, and {due.school_name}'s "
            f"category also brings a review every term. The term ends on {ends} and "
            "neither is recorded yet."
        )
    elif due.annual:
        title = f"Standards meeting due: {due.school_name}"
        text = (
            f"{term.title} holds the annual standards meeting. The term ends on {ends} and "
            f"none is recorded for {due.school_name} this year."
        )
    else:
        title = f"Standards review due: {due.school_name}"
        text = (
            f"{due.category} brings a standards review every term. {term.title} ends on "
            f"{ends} and no review is recorded for it yet."
        )
    category = (
        f"{due.category}, since {long_date(due.since)}"
        if due.category and due.since
        else "Not categorised yet"
    )
    return render_card(
        "review_reminder",
        verbs=ReviewVerb,
        title=title,
        text=text,
        facts=[
            ("School", due.school_name),
            ("Category", category),
            ("Last review", long_date(due.last_review) if due.last_review else "None recorded"),
        ],
        button="Record the meeting" if due.annual else "Record the review",
        school_id=due.school_id,
    )
