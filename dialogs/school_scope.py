"""Which school a request is about, and whether the person asking reaches it.

Shared by the category, visit and actions dialogs: a typed name is matched
forgivingly within the trust, two close names get a choice, and a school the
person does not reach is refused, audited and left untouched.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from cards.render import render_card
from dialogs.forms import record_id
from dialogs.turn import Reply, Turn
from storage import schools as school_store
from storage.audit import record_refusal
from storage.directory import schools_of
from storage.engine import AsyncSession
from storage.models import Role, School
from storage.schools import SchoolFound, SchoolsToChoose, find_school

# Choice cards list at most this many schools; beyond it, typing the name is quicker.
MAX_CHOICES = 60


def school_id_of(data: Mapping[str, Any]) -> int | None:
    """A school id from card data (choice sets send strings)."""
    return record_id(data.get("school_id"))


async def school_in_trust(turn: Turn, school_id: int | None) -> School | None:
    """The school with this id, if it is one of the asker's trust."""
    school_id = record_id(school_id)
    if school_id is None:
        return None
    async with turn.sessions() as session:
        return await school_store.school_in_trust(
            session, trust_id=turn.actor.trust_id, school_id=school_id
        )


async def school_named(turn: Turn, *, what: str, action: str, missing: str) -> School | Reply:
    """The school a card names, if it is one of the asker's trust.

    No school named gets `missing`; a school of another trust (only a tampered card
    can name one) is refused and audited, and is not said to exist.
    """
    school_id = school_id_of(turn.data)
    if school_id is None:
        return Reply(text=missing)
    school = await school_in_trust(turn, school_id)
    if school is None:
        return await refuse(turn, school=None, what=what, action=action)
    return school


async def refused(
    session: AsyncSession, turn: Turn, *, school: School | None, what: str, action: str
) -> Reply:
    """Say no plainly and keep a trace, in the caller's transaction; nothing else changes."""
    await record_refusal(session, turn.actor, action, school_id=school.id if school else None)
    return Reply(text=f"You don't have access to {what}.")


async def refuse(turn: Turn, *, school: School | None, what: str, action: str) -> Reply:
    """`refused`, in a transaction of its own."""
    async with turn.sessions.begin() as session:
        return await refused(session, turn, school=school, what=what, action=action)


def choose_school(
    schools: list[School], *, title: str, text: str, verb: str, extra: Mapping[str, Any]
) -> Reply:
    choices = [{"title": s.name, "value": str(s.id)} for s in schools[:MAX_CHOICES]]
    card = render_card(
        "choose_school", title=title, text=text, choices=choices, data={**extra, "verb": verb}
    )
    return Reply(card=card)


async def pick_school(
    turn: Turn,
    *,
    query: str,
    verb: str,
    asking: str,
    extra: Mapping[str, Any] | None = None,
    roles: Collection[Role] | None = None,
) -> School | Reply:
    """The school meant by `query`, or by default the person's only school (with
    `roles`, the only school where they hold one of them).

    Returns a Reply when there is nothing to act on yet: a choice to make, or a
    name that matched nothing. Reach is the caller's check.
    """
    actor = turn.actor
    extra = extra or {}
    async with turn.sessions() as session:
        if query.strip():
            match = await find_school(session, trust_id=actor.trust_id, query=query)
            if isinstance(match, SchoolFound):
                return match.school
            if isinstance(match, SchoolsToChoose):
                return choose_school(
                    list(match.schools),
                    title="Which school do you mean?",
                    text=f"More than one school is close to “{query}”.",
                    verb=verb,
                    extra=extra,
                )
            return Reply(
                text=f"I couldn't find a school called “{query}” in {actor.trust_name}. "
                "Check the name, or give its URN."
            )
        schools = await schools_of(session, actor, roles=roles)
    if len(schools) == 1 and not actor.trust_wide:
        return schools[0]
    if not schools:
        return Reply(text="Waypoint doesn't link you to a school yet; your trust admin can.")
    return choose_school(
        schools,
        title="Which school?",
        text=f"Choose the school for {asking}, or type its name after the command.",
        verb=verb,
        extra=extra,
    )
