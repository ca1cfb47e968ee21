"""The home card and what leads to it: `help`, greetings and thanks, a message that
names no command, the welcome on install; the full list of commands; `schools`."""

from __future__ import annotations

from dialogs.home.cards import commands_reply, first_name, home_reply
from dialogs.home.schools import schools
from dialogs.home.talk import choices_text, unmatched
from dialogs.registry import Registry
from dialogs.turn import Reply, Turn

__all__ = ["choices_text", "register", "unmatched", "welcome"]


async def welcome(turn: Turn) -> Reply:
    """The card someone meets when they install Waypoint."""
    actor = turn.actor
    return await home_reply(
        turn,
        title=f"Welcome to Waypoint, {first_name(actor)}",
        intro=f"I keep {actor.trust_name}'s school-improvement work in one place. "
        "Here is what needs doing now; press a job, or type what you need.",
    )


def register(registry: Registry) -> None:
    @registry.command(
        "help",
        title="Help",
        summary="What needs doing now, and the jobs you do most",
        phrases=("help", "what can you do", "menu", "home", "start"),
        private=False,
    )
    async def show_help(turn: Turn) -> Reply:
        return await home_reply(turn)

    @registry.command(
        "commands",
        title="All commands",
        summary="Every command you can use",
        phrases=("all commands", "commands", "list commands", "command list"),
        private=False,
    )
    async def all_commands(turn: Turn) -> Reply:
        return commands_reply(registry, turn.actor)

    registry.command(
        "schools",
        title="Schools",
        summary="The schools you work with: category, overdue actions, one line each",
        phrases=(
            "schools",
            "list schools",
            "my schools",
            "our schools",
            "which schools need attention",
            "show schools",
        ),
        private=True,
    )(schools)
