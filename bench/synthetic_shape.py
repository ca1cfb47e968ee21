"""The shape of a synthetic trust: how many schools, staff and records it has.

bench/synthetic.py generates a trust of a shape; bench/synthetic_people.py reads it
for each school's staff and bench/synthetic_history.py for each school's records.
The defaults are the issue's volumes at 200 schools; every figure scales with the
number of schools, so 50 schools is a quarter of it.
"""

from __future__ import annotations

from dataclasses import dataclass

SUBJECTS = (
    "English",
    "Mathematics",
    "Science",
    "History",
    "Geography",
    "Art",
    "Music",
    "Computing",
    "Design and technology",
    "Physical education",
    "Religious education",
    "Modern languages",
)


@dataclass(frozen=True)
class TrustShape:
    schools: int
    years: int = 3
    # Per school, over the whole history.
    coaching_sessions: int = 1_500
    concerns: int = 150
    actions: int = 100
    # Per school: 1 head, 2 coaches, one subject lead per subject, 1 attendance lead,
    # and teachers to make up the staff.
    staff: int = 30
    subjects: int = len(SUBJECTS)
    # Trust-wide people.
    trust_leads: int = 2
    advisers: int = 10
    seed: int = 20261122
