"""`help`: the commands this person's roles allow, as a card with a button for each."""

from __future__ import annotations

from cards.render import render_card
from dialogs.registry import Registry
from dialogs.turn import Reply, Turn
from storage.directory import Actor


def help_card(registry: Registry, actor: Actor, *, welcome: bool = False) -> Reply:
    commands = [
        {"key": c.key, "title": c.title, "summary": c.summary, "example": c.example}
        for c in registry.commands_for(actor)
    ]
    first_name = actor.display_name.split()[0] if actor.display_name.strip() else "there"
    if welcome:
        title = f"Welcome to Waypoint, {first_name}"
        intro = (
            f"I keep {actor.trust_name}'s school-improvement work in one place. "
            "Type one of these, or press its button:"
        )
    else:
        title = f"What I can do for you, {first_name}"
        intro = "Type one of these, or press its button. Small typos are fine."
    return Reply(card=render_card("help", title=title, intro=intro, commands=commands))


def register(registry: Registry) -> None:
    @registry.command(
        "help",
        title="Help",
        summary="What I can do for you",
        phrases=("help", "what can you do", "commands", "menu"),
        private=False,
    )
    async def show_help(turn: Turn) -> Reply:
        return help_card(registry, turn.actor)
