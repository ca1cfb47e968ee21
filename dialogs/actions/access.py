"""Who keeps a school's actions moving, who rates them, who reads them."""

from __future__ import annotations

from enum import StrEnum

from dialogs.turn import Turn
from storage.models import Role


class ActionVerb(StrEnum):
    show = "actions.show"
    done = "actions.done"
    update = "actions.update"


# Heads, advisers (their schools) and trust leads keep actions moving; admins load data.
ACTION_ROLES = frozenset({Role.head, Role.sia, Role.trust_lead})
# The RAG rating is the adviser's judgement (seed 002: actions are "rag-rated according
# to how they have been actioned on the next visit"): a head says how far it got.
RATERS = frozenset({Role.sia, Role.trust_lead})
# Governors read their school's actions and how each was rated; they change nothing.
READERS = ACTION_ROLES | {Role.governor}


def keeps_actions_at(turn: Turn, school_id: int) -> bool:
    """A head or adviser at this school, or a trust lead: a role elsewhere gives nothing."""
    return turn.actor.has_role_at(school_id, ACTION_ROLES)


def rates_actions_at(turn: Turn, school_id: int) -> bool:
    """The school's adviser, or a trust lead."""
    return turn.actor.has_role_at(school_id, RATERS)


def reads_actions_at(turn: Turn, school_id: int) -> bool:
    return turn.actor.has_role_at(school_id, READERS)
