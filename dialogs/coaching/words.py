"""How a coaching session reads on a card, for its coach and its coachee."""

from __future__ import annotations

from typing import Any

from dialogs.words import short_day
from storage.coaching import HELD
from storage.coaching.sessions import SessionLine


def session_view(line: SessionLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "date": short_day(line.held_on),
        "status": "Held" if line.status == HELD else "Cancelled",
        "coach": line.coach_name,
        "coachee": line.coachee_name,
        "strand": line.strand or "—",
        "action_step": line.action_step or "—",
        "next_session": short_day(line.next_session_on) if line.next_session_on else "not set",
    }
