"""The actions card: one school's actions, a person's schools', or the trust's overdue
ones; each row with how it has been rated and what its buttons may change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cards.render import render_card
from dialogs.actions.access import (
    ACTION_ROLES,
    ActionVerb,
    keeps_actions_at,
    rates_actions_at,
)
from dialogs.turn import Reply, Turn
from dialogs.words import long_date
from storage.actions import ActionList, ActionRow, Rating, actions_in_hand, overdue_actions
from storage.engine import AsyncSession
from storage.models import Role, School

# Rows on one card: enough to act on, well under Teams' card size limit.
MAX_SHOWN = 12
# Characters of a description the list shows; the action keeps its full text.
SHOWN_LENGTH = 240
# Ratings a row shows, the latest last: enough to see the direction of travel.
RATINGS_SHOWN = 3


async def actions_view(
    session: AsyncSession,
    turn: Turn,
    *,
    school: School | None = None,
    note: str | None = None,
    error: str | None = None,
) -> Reply:
    """The actor's list: one school's actions, their schools' actions, or (trust-wide
    roles) the overdue actions across the trust."""
    actor = turn.actor
    view: dict[str, Any] = {}
    if school is not None:
        listed = await actions_in_hand(
            session,
            trust_id=actor.trust_id,
            school_ids=[school.id],
            today=turn.today,
            limit=MAX_SHOWN,
        )
        title, empty = f"Open actions: {school.name}", f"{school.name} has no open actions."
        view["school_id"] = school.id
    elif (kept := actor.schools_where(ACTION_ROLES)) is None:
        listed = await overdue_actions(
            session, trust_id=actor.trust_id, today=turn.today, limit=MAX_SHOWN
        )
        title = f"Overdue actions across {actor.trust_name}"
        empty = "No action is overdue at any school of the trust."
    else:
        governed = actor.schools_where({Role.governor}) or frozenset()
        listed = await actions_in_hand(
            session,
            trust_id=actor.trust_id,
            school_ids=kept | governed,
            today=turn.today,
            limit=MAX_SHOWN,
        )
        title, empty = (
            ("Your open actions", "Nothing open: no action is waiting at your schools.")
            if kept
            else ("Your school's actions", "Nothing open: no action is waiting at your school.")
        )
    rows = [_row(turn, row, several_schools=school is None) for row in listed.rows]
    return Reply(
        card=_card(listed, rows, title=title, empty=empty, view=view, note=note, error=error)
    )


def _row(turn: Turn, row: ActionRow, *, several_schools: bool) -> dict[str, Any]:
    detail = [f"Owner: {row.owner_name or 'nobody yet'}", _ratings(turn, row.ratings)]
    if several_schools:
        detail.insert(0, row.school_name)
    if row.awaiting_rating:
        due = "Done, awaiting the adviser's rating"
    elif row.due_on is None:
        due = "No due date"
    elif row.overdue:
        due = f"Overdue: was due {long_date(row.due_on)}"
    else:
        due = f"Due {long_date(row.due_on)}"
    latest = row.latest_note
    acts = keeps_actions_at(turn, row.school_id)
    rates = rates_actions_at(turn, row.school_id)
    return {
        "id": row.id,
        "description": _shorten(row.description),
        "detail": " · ".join(detail),
        "due": due,
        "due_value": row.due_on.isoformat() if row.due_on else "",
        "overdue": row.overdue,
        "rag": row.rag,
        "progress": (
            f"Progress, {_when(turn, latest.at)}, {latest.by or 'someone'}: {latest.text}"
            if latest
            else ""
        ),
        # What its buttons may change: nothing for a governor; a rating only for the
        # school's adviser or a trust lead; done only while it is open.
        "can_mark_done": acts and not row.awaiting_rating,
        "can_note": acts,
        "can_reschedule": acts and not row.awaiting_rating,
        "can_rate": rates,
    }


def _ratings(turn: Turn, ratings: tuple[Rating, ...]) -> str:
    if not ratings:
        return "RAG: not rated"
    shown = [
        f"{r.rag} ({_when(turn, r.at)}{', ' + r.by if r.by else ''})"
        for r in ratings[-RATINGS_SHOWN:]
    ]
    earlier = len(ratings) - len(shown)
    return "RAG: " + ("… → " if earlier else "") + " → ".join(shown)


def _when(turn: Turn, at: datetime) -> str:
    day = turn.local(at).date()
    return f"{day.day} {day:%b}"


def _card(
    listed: ActionList,
    rows: list[dict[str, Any]],
    *,
    title: str,
    empty: str,
    view: dict[str, Any],
    note: str | None,
    error: str | None,
) -> dict[str, Any]:
    more = (
        f"Showing the first {len(rows)} of {listed.total}; mark some done to see the rest."
        if listed.total > len(rows)
        else ""
    )
    return render_card(
        "actions",
        verbs=ActionVerb,
        title=title,
        rows=rows,
        empty=empty,
        view=view,
        note=note,
        error=error,
        more=more,
    )


def _shorten(text: str) -> str:
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1].rstrip() + "…"
