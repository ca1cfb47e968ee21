"""`who am i`: the roles and schools Waypoint knows for this person."""

from __future__ import annotations

from cards.render import render_card
from dialogs.registry import Registry
from dialogs.roles import ROLE_NAMES
from dialogs.turn import Reply, Turn
from storage.directory import Actor, schools_of


def register(registry: Registry) -> None:
    @registry.command(
        "whoami",
        title="Who am I?",
        summary="Your roles and schools as Waypoint knows them",
        phrases=("who am i", "whoami", "my roles", "my profile"),
        private=True,
    )
    async def who_am_i(turn: Turn) -> Reply:
        actor = turn.actor
        async with turn.sessions() as session:
            schools = await schools_of(session, actor)
        names = {school.id: school.name for school in schools}
        roles = "; ".join(_roles_where(actor, names)) or "none yet"
        if actor.trust_wide:
            reach = f"every school of {actor.trust_name} ({len(schools)})"
        else:
            reach = ", ".join(s.name for s in schools) or "no school yet"
        facts = [("Trust", actor.trust_name), ("Roles", roles), ("Schools", reach)]
        if actor.subjects:
            facts.append(("Subjects", ", ".join(sorted(actor.subjects))))
        card = render_card(
            "notice",
            title=actor.display_name,
            text="This is what Waypoint knows about you. Your trust admin can change it.",
            facts=facts,
            buttons=[{"title": "Help", "command": "help"}],
        )
        return Reply(card=card)


def _roles_where(actor: Actor, school_names: dict[int, str]) -> list[str]:
    """Each role with where it is held: a role counts at its own school only."""
    held = [f"{ROLE_NAMES[role.value]} (whole trust)" for role in sorted(actor.trust_roles)]
    for school_id, roles in sorted(
        actor.school_roles.items(), key=lambda item: school_names.get(item[0], "")
    ):
        where = school_names.get(school_id, "a school")
        held += [f"{ROLE_NAMES[role.value]} at {where}" for role in sorted(roles)]
    return held
