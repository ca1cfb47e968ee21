"""Who submits and reads QA summaries, and what a refusal leaves on the trail."""

from __future__ import annotations

from storage.audit import record_refusal
from storage.directory import Actor
from storage.engine import AsyncSession
from storage.models import QaSummary, Role
from storage.schools import school_in_trust

SUBMITTERS = frozenset({Role.subject_lead})
# Who reads a school's summaries and status: its head, its adviser (seed 002: "SI Team
# have access to school data and would not expect data to be prepared for the
# visit"), and trust leads.
SCHOOL_READERS = frozenset({Role.head, Role.sia, Role.trust_lead})
# They read status; a subject lead their own.
STATUS_READERS = SCHOOL_READERS | {Role.subject_lead}

NOT_YOURS = (
    "You don't have access to submit a QA summary for that subject and school: "
    "subject leads submit for the subjects they lead at their own schools."
)


def may_read(actor: Actor, row: QaSummary) -> bool:
    """The author, the school's head and adviser, trust leads."""
    if actor.trust_id != row.trust_id:
        return False
    return row.author_id == actor.person_id or actor.has_role_at(row.school_id, SCHOOL_READERS)


async def refused(
    session: AsyncSession, actor: Actor, action: str, *, school_id: int | None
) -> None:
    """Keep a refusal on the trail; only a school of the actor's trust is named in it."""
    school = (
        await school_in_trust(session, trust_id=actor.trust_id, school_id=school_id)
        if school_id is not None
        else None
    )
    await record_refusal(session, actor, action, school_id=school.id if school else None)
