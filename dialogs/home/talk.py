"""What is not a command: greetings and thanks get the home card, a near miss gets
"Did you mean …" only when the match is confident, anything else the home card."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz.distance import OSA

from dialogs.home.cards import first_name, home_reply
from dialogs.matcher import NotUnderstood, matched_words
from dialogs.registry import Command
from dialogs.turn import Handler, Reply, Turn

GREETINGS = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "hiya",
        "howdy",
        "morning",
        "good morning",
        "good afternoon",
        "good evening",
        "afternoon",
        "hey there",
        "hi there",
        "hello there",
    }
)
THANKS = frozenset(
    {
        "thanks",
        "thank you",
        "thankyou",
        "thx",
        "ta",
        "cheers",
        "many thanks",
        "thanks a lot",
        "thank you so much",
        "thanks so much",
        "thank you very much",
        "ok thanks",
        "great thanks",
        "brilliant thanks",
        "perfect thanks",
    }
)
# Words around a greeting that change nothing: "hi waypoint", "thanks again".
_FILLER = frozenset({"waypoint", "again", "all", "everyone", "bot", "team"})


def _kind(text: str) -> str | None:
    """ "greeting", "thanks", or None: forgiving one typo in a longer word."""
    words = [w for w in matched_words(text) if w not in _FILLER]
    said = " ".join(words)
    if not said or len(words) > 4:
        return None
    for kind, phrases in (("greeting", GREETINGS), ("thanks", THANKS)):
        if said in phrases:
            return kind
        if len(said) > 4 and any(OSA.distance(said, p) <= 1 for p in phrases if len(p) > 4):
            return kind
    return None


def unmatched(text: str, match: NotUnderstood) -> Handler:
    """The answer to a message that names no command, as a handler of its turn."""

    async def answer(turn: Turn) -> Reply:
        name = first_name(turn.actor)
        kind = _kind(text)
        if kind == "greeting":
            return await home_reply(turn, title=f"Hello, {name}!")
        if kind == "thanks":
            return await home_reply(
                turn,
                title=f"You're welcome, {name}.",
                intro="Anything else? Here is what needs doing now.",
            )
        suggestion = match.suggestion
        if suggestion is not None and suggestion.allowed(turn.actor):
            return Reply(
                text=f"I didn't catch that. Did you mean “{suggestion.phrases[0]}”? "
                "Type help to see what I can do for you."
            )
        return await home_reply(turn, text="I didn't catch that. Here is what I can do for you.")

    return answer


def choices_text(commands: Iterable[Command]) -> str:
    """Two or more commands fit what was typed: which one, by number."""
    options = "\n".join(f"{n}. {c.phrases[0]} — {c.summary}" for n, c in enumerate(commands, 1))
    return f"Did you mean one of these? Reply with its number.\n\n{options}"
