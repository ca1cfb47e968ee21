"""A synthetic trust's records: each school's years of history, drawn at random.

For each school (bench/synthetic_people.py's Staff): two categorisations (the last
two summers' standards meetings), coaching sessions, QA summaries for every subject
and past term (some resubmitted, some of the current term not in yet), attendance
concerns (the recent ones partly still open), and actions with a status event for
each one done. How many of each is the TrustShape's; every choice comes from the
seeded generator the caller passes, so the same shape gives the same records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from bench.synthetic_people import Staff
from bench.synthetic_rows import Rows
from bench.synthetic_shape import TrustShape
from storage.academic_calendar import Term
from storage.attendance.rules import CONCERN_TYPES, STAGES, VULNERABLE_GROUPS
from storage.models import (
    ActionEvent,
    AttendanceConcern,
    Category,
    CoachingSession,
    QaSummary,
    SchoolAction,
    SchoolCategorisation,
)
from storage.qa import EVIDENCE


@dataclass(frozen=True)
class TrustHistory:
    """What every school's records are drawn from."""

    trust_id: int
    shape: TrustShape
    today: date
    # The school days of the whole history, and its terms begun by today.
    days: list[date]
    past_terms: list[Term]
    categories: list[Category]
    strands: list[int]
    # Who recorded the categorisations: a trust lead.
    recorded_by: int


def school_days(first: date, last: date) -> list[date]:
    days: list[date] = []
    day = first
    while day <= last:
        # Weekdays outside August: near enough a school's calendar for volume.
        if day.weekday() < 5 and day.month != 8:
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, hour: int = 16) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=UTC)


def add_school_history(rows: Rows, rng: random.Random, history: TrustHistory, staff: Staff) -> None:
    """One school's records, in this order (the generator's draws depend on it)."""
    _categorisations(rows, rng, history, staff)
    _coaching(rows, rng, history, staff)
    _qa_summaries(rows, rng, history, staff)
    _concerns(rows, rng, history, staff)
    _actions(rows, rng, history, staff)


def _categorisations(rows: Rows, rng: random.Random, history: TrustHistory, staff: Staff) -> None:
    # Two standards meetings: last summer's and the one before.
    for year in (history.today.year - 2, history.today.year - 1):
        category = rng.choice(history.categories)
        decided = date(year, 7, rng.randint(1, 15))
        rows.add(
            SchoolCategorisation,
            {
                "id": rows.take_id(SchoolCategorisation),
                "trust_id": history.trust_id,
                "school_id": staff.school_id,
                "category_id": category.id,
                "category_name": category.name,
                "decided_on": decided,
                "attendees": "Trust lead, adviser, head",
                "rationale": "Standards meeting.",
                "recorded_by": history.recorded_by,
                "form_id": f"synthetic-{staff.school_id}-{year}",
                "recorded_at": _at(decided),
            },
        )


def _coaching(rows: Rows, rng: random.Random, history: TrustHistory, staff: Staff) -> None:
    coachees = staff.coachees
    for _ in range(history.shape.coaching_sessions):
        coach = rng.choice(staff.coaches)
        coachee = rng.choice(coachees)
        if coachee == coach:
            coachee = staff.teachers[0]
        held_on = rng.choice(history.days)
        session_id = rows.take_id(CoachingSession)
        rows.add(
            CoachingSession,
            {
                "id": session_id,
                "trust_id": history.trust_id,
                "school_id": staff.school_id,
                "coach_id": coach,
                "coachee_id": coachee,
                "held_on": held_on,
                "strand_id": rng.choice(history.strands),
                "status": "held" if rng.random() < 0.9 else "cancelled",
                "action_step": "Three retrieval questions to open every lesson.",
                "notes": "",
                "next_session_on": held_on + timedelta(days=14),
                "form_id": f"{session_id:032x}",
                "created_at": _at(held_on),
                "updated_at": _at(held_on),
            },
        )


def _qa_summaries(rows: Rows, rng: random.Random, history: TrustHistory, staff: Staff) -> None:
    today = history.today
    for term in history.past_terms:
        for subject, lead in staff.subject_leads.items():
            submit_by = min(today, term.ends + timedelta(days=14))
            if term.ends > today and rng.random() < 0.4:
                continue  # not in yet this term
            versions = 2 if rng.random() < 0.2 else 1
            for version in range(1, versions + 1):
                summary_id = rows.take_id(QaSummary)
                submitted = submit_by - timedelta(
                    days=rng.randint(0, 20) + 5 * (versions - version)
                )
                rows.add(
                    QaSummary,
                    {
                        "id": summary_id,
                        "trust_id": history.trust_id,
                        "school_id": staff.school_id,
                        "subject": subject,
                        "academic_year": term.academic_year,
                        "term": term.number,
                        "term_name": term.name,
                        "version": version,
                        "author_id": lead,
                        "strengths": "Secure sequencing.",
                        "areas_for_development": "Retrieval in lower years.",
                        "evidence": rng.sample(sorted(EVIDENCE), 2),
                        "judgement": rng.choice(("red", "amber", "green", "green")),
                        "actions": "",
                        "cpd": "",
                        "form_id": f"qa{summary_id:030x}",
                        "submitted_at": _at(submitted),
                    },
                )


def _concerns(rows: Rows, rng: random.Random, history: TrustHistory, staff: Staff) -> None:
    today = history.today
    for _ in range(history.shape.concerns):
        concern_id = rows.take_id(AttendanceConcern)
        raised = rng.choice(history.days)
        percent = Decimal(rng.randint(3500, 9600)) / 100
        unauthorised = rng.randint(0, 16)
        still_open = (today - raised).days < 120 and rng.random() < 0.6
        closed_on = (
            None if still_open else min(today, raised + timedelta(days=rng.randint(20, 120)))
        )
        rows.add(
            AttendanceConcern,
            {
                "id": concern_id,
                "trust_id": history.trust_id,
                "school_id": staff.school_id,
                "pupil_ref": f"P{concern_id:06d}",
                "year_group": str(rng.randint(1, 11)),
                "attendance_percent": percent,
                "unauthorised_sessions_10_weeks": unauthorised,
                "concern_type": rng.choice(sorted(CONCERN_TYPES)),
                "vulnerable": rng.sample(sorted(VULNERABLE_GROUPS), rng.randint(0, 2)),
                "done_so_far": "Letter home; meeting with parents.",
                "stage": rng.choice(sorted(STAGES)),
                "persistent_absence": percent <= 90,
                "severe_absence": percent <= 50,
                "consider_penalty_notice": unauthorised >= 10,
                "status": "open" if still_open else "closed",
                "outcome": None if still_open else "improved",
                "next_review_on": raised + timedelta(days=28) if still_open else None,
                "raised_by": staff.attendance_lead,
                "form_id": f"ac{concern_id:030x}",
                "raised_at": _at(raised, 9),
                "updated_at": _at(raised, 9),
                "closed_at": _at(closed_on) if closed_on else None,
                "anonymised_at": None,
            },
        )


def _actions(rows: Rows, rng: random.Random, history: TrustHistory, staff: Staff) -> None:
    today = history.today
    for _ in range(history.shape.actions):
        action_id = rows.take_id(SchoolAction)
        created = rng.choice(history.days)
        due = created + timedelta(days=42)
        if due < today - timedelta(days=30):
            status = rng.choices(("done", "dropped", "open"), (80, 5, 15))[0]
        else:
            status = "open"
        rows.add(
            SchoolAction,
            {
                "id": action_id,
                "trust_id": history.trust_id,
                "school_id": staff.school_id,
                "visit_id": None,
                "description": "Embed the reading spine in Key Stage 2.",
                "owner_id": staff.head,
                "due_on": due,
                "status": status,
                "rag": rng.choice(("red", "amber", "green", "green", None)),
                "created_at": _at(created),
                "updated_at": _at(created),
            },
        )
        if status == "done":
            rows.add(
                ActionEvent,
                {
                    "id": rows.take_id(ActionEvent),
                    "action_id": action_id,
                    "at": _at(min(today, due - timedelta(days=rng.randint(0, 20)))),
                    "by_person_id": staff.head,
                    "kind": "status",
                    "value": "done",
                    "visit_id": None,
                },
            )
