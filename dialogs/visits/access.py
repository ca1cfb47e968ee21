"""Who records a school's notes of visit, and who reads them."""

from __future__ import annotations

from storage.directory import Actor
from storage.models import Role

# Advisers visit their schools, trust leads any (admins load data; they don't visit).
ADVISERS = frozenset({Role.sia, Role.trust_lead})
# Notes of visit are written "so that governors are well informed" (seed 002): the
# school's head and governors read them, its adviser, and trust leads for any school.
# Teachers and other staff do not; neither do admins, who load data.
READERS = frozenset({Role.head, Role.governor, Role.sia, Role.trust_lead})


def reads_visits(actor: Actor, school_id: int) -> bool:
    """Whether `actor` may read this school's notes of visit: a reader's role held
    at the school, or for the whole trust. A role at another school gives nothing."""
    return actor.has_role_at(school_id, READERS)


def advises(actor: Actor, school_id: int) -> bool:
    """The school's own adviser, or a trust lead."""
    return actor.has_role_at(school_id, ADVISERS)
