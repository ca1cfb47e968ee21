"""`my coaching` and one session in full: for its coach and its coachee only."""

from __future__ import annotations

from cards.render import render_card
from dialogs.coaching.access import LOGGERS, editable, refused
from dialogs.coaching.verbs import CoachingVerb
from dialogs.coaching.words import session_view
from dialogs.forms import record_id
from dialogs.turn import Reply, Turn
from dialogs.words import short_day
from storage.coaching import HELD
from storage.coaching.coachees import DueCoachee, coachees_due, coaching_settings_of
from storage.coaching.sessions import (
    coaching_session,
    session_line,
    sessions_as_coach,
    sessions_as_coachee,
)


async def my_coaching(turn: Turn) -> Reply:
    actor = turn.actor
    async with turn.sessions() as session:
        coached = await sessions_as_coach(
            session, trust_id=actor.trust_id, coach_id=actor.person_id
        )
        received = await sessions_as_coachee(
            session, trust_id=actor.trust_id, coachee_id=actor.person_id
        )
        due: list[DueCoachee] = []
        if coached:
            settings = coaching_settings_of(actor)
            due = await coachees_due(
                session,
                trust_id=actor.trust_id,
                coach_id=actor.person_id,
                today=turn.today,
                interval_days=settings.interval_days,
            )
    if not coached and not received:
        return Reply(text="You have no coaching sessions yet.")
    current = next((s for s in received if s.status == HELD and s.action_step), None)
    card = render_card(
        "coaching_mine",
        verbs=CoachingVerb,
        name=actor.display_name,
        current=session_view(current) if current else None,
        received=[session_view(s) for s in received],
        coached=[session_view(s) for s in coached],
        due=[
            {"name": d.name, "last": short_day(d.last_held_on), "days": d.days_since} for d in due
        ],
        can_log=actor.has_any(LOGGERS),
    )
    return Reply(card=card)


async def view(turn: Turn) -> Reply:
    """One session in full: for its coach and its coachee only."""
    session_id = record_id(turn.data.get("session_id"))
    async with turn.sessions.begin() as session:
        line = (
            await session_line(session, trust_id=turn.actor.trust_id, session_id=session_id)
            if session_id
            else None
        )
        if line is None or turn.actor.person_id not in (line.coach_id, line.coachee_id):
            await refused(session, turn, "coaching.view", None)
            return Reply(
                text="You don't have access to that coaching session: sessions are "
                "private to the coach and the teacher coached."
            )
        row = await coaching_session(session, trust_id=turn.actor.trust_id, session_id=line.id)
    assert row is not None
    card = render_card(
        "coaching_saved",
        verbs=CoachingVerb,
        title="Coaching session",
        subtitle=None,
        session=session_view(line) | {"notes": row.notes or "—"},
        can_edit=editable(row, turn),
        session_id=row.id,
    )
    return Reply(card=card)
