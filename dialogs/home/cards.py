"""The home card (a person's few jobs with what needs doing now) and the full list
of commands behind its "All commands" button."""

from __future__ import annotations

from cards.render import render_card
from dialogs.home.jobs import job_keys, jobs_for
from dialogs.registry import Command, Registry
from dialogs.turn import Reply, Turn
from storage.directory import Actor

# Not rows of the full list: the home card and the list itself.
NOT_LISTED = frozenset({"help", "commands"})


def first_name(actor: Actor) -> str:
    return actor.display_name.split()[0] if actor.display_name.strip() else "there"


def typed_form(command: Command) -> str:
    """What to type for a command, with no placeholder ("qa status", not "qa status
    [school]"): the example, unless it holds a "[…]" to fill in."""
    return command.phrases[0] if "[" in command.example else command.example


async def home_reply(
    turn: Turn,
    *,
    title: str | None = None,
    intro: str | None = None,
    text: str | None = None,
) -> Reply:
    """The home card: the person's jobs with live counts (none in a shared room,
    where others read the card), and "All commands"."""
    registry = turn.registry
    assert registry is not None
    actor = turn.actor
    allowed = {c.key for c in registry.commands_for(actor)}
    jobs = await jobs_for(turn, job_keys(actor, allowed), counts=not turn.shared_room)
    card = render_card(
        "home",
        title=title or f"What I can do for you, {first_name(actor)}",
        intro=intro
        or (
            "Here is what needs doing now. Press a job, or type what you need."
            if jobs
            else "Type what you need, or see all commands."
        ),
        jobs=[
            {
                "key": job.key,
                "title": job.title,
                "status": job.status,
                "attention": job.attention,
            }
            for job in jobs
        ],
    )
    return Reply(text=text, card=card)


def commands_reply(registry: Registry, actor: Actor) -> Reply:
    """Every command the person's roles allow, but the home card and this list."""
    commands = [
        {
            "key": c.key,
            "title": c.title,
            "summary": c.summary,
            "example": typed_form(c),
        }
        for c in registry.commands_for(actor)
        if c.key not in NOT_LISTED
    ]
    card = render_card(
        "help",
        title="All commands",
        intro="Type one of these (add a school's name where it helps), or press its button.",
        commands=commands,
    )
    return Reply(card=card)
