"""A note of visit, once saved, goes to the school's heads and the owner of its next
steps: the whole note, as `visits` shows it."""

from __future__ import annotations

from dialogs.turn import Reply, Turn
from dialogs.visits.note import note_of_visit_card
from storage.actions import school_heads
from storage.directory import person_name
from storage.engine import AsyncSession
from storage.models import School


async def share_note(
    session: AsyncSession,
    turn: Turn,
    visit_id: int,
    *,
    owner_id: int | None,
    school: School,
    new: bool,
) -> list[str]:
    """The whole note to the school's heads and the next steps' owner (seed 002: notes
    of visit are written "so that governors are well informed"; the head takes them to
    the governing body). Queued in the note's own transaction: both kept, or neither.
    A note sent again (not `new`) was shared the first time: it is not sent again,
    and the answer names the same people. The names of those told."""
    heads = await school_heads(session, school_id=school.id)
    told = {person.id: person.display_name for person in heads}
    if owner_id is not None and owner_id not in told:
        owner = await person_name(session, owner_id)
        if owner is not None:
            told[owner_id] = owner
    told.pop(turn.actor.person_id, None)
    card = (
        await note_of_visit_card(
            session, trust_id=turn.actor.trust_id, visit_id=visit_id, zone=turn.zone
        )
        if new and told
        else None
    )
    for person_id in told if card is not None else ():
        await turn.notifier.notify(
            trust_id=turn.actor.trust_id,
            person_id=person_id,
            reply=Reply(card=card),
            key=f"visit-{visit_id}",
            session=session,
        )
    return list(told.values())
