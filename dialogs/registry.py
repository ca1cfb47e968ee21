"""Waypoint's own registry of commands and card verbs.

Dialog modules register what they answer (`register(registry)`); the edge in
`bot/` asks the registry what a message or a card action means. Nothing here
knows botbuilder, so a move to another SDK touches `bot/` alone.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.directory import Actor
from storage.models import Role

# A command phrase must score this well (0–100) against the words typed.
MATCH_THRESHOLD = 84
# Two commands whose scores are this close are too close to choose between.
AMBIGUITY_MARGIN = 4
# Below the threshold but above this, "did you mean …?" is worth offering.
SUGGEST_THRESHOLD = 60

# A message's text has no length limit, so the matcher reads only its start: a
# command and its arguments fit well inside, and hostile text costs no more than this.
MATCHED_CHARACTERS = 400
# Phrases are tried against every run of words, so the words read are bounded too.
MATCHED_WORDS = 48

# Linear on any text: each attempt, starting at a "<", scans only up to the next "<"
# (a lazy ".*?" up to "</at>", or "[^>]+" up to ">", rescans the rest of the text
# from every "<" and is quadratic on a run of "<at>").
_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_NON_WORD = re.compile(r"[^\w\s'-]+")


@dataclass(frozen=True)
class Reply:
    """What Waypoint answers: a text, a card, or both."""

    text: str | None = None
    card: dict[str, Any] | None = None


class Notifier(Protocol):
    """Sends a card to a person outside the current conversation (their chat with Waypoint).

    Given the `session` of the transaction that stores what the notice tells of, the
    notice is queued in it: a crash leaves both or neither, never a record whose
    notice is lost.
    """

    async def notify(
        self,
        *,
        trust_id: int,
        person_id: int,
        reply: Reply,
        kind: str = "notice",
        key: str | None = None,
        session: AsyncSession | None = None,
    ) -> None: ...


class _NoNotifier:
    async def notify(
        self,
        *,
        trust_id: int,
        person_id: int,
        reply: Reply,
        kind: str = "notice",
        key: str | None = None,
        session: AsyncSession | None = None,
    ) -> None:
        return None


@dataclass
class Turn:
    """One request to a dialog: who asks, what they typed or submitted, and the store."""

    actor: Actor
    sessions: async_sessionmaker[AsyncSession]
    now: datetime
    args: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    # Set when the request came from an Action.Execute (the answer replaces the card).
    refresh: bool = False
    registry: Registry | None = None
    notifier: Notifier = field(default_factory=_NoNotifier)


Handler = Callable[[Turn], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    key: str
    title: str
    summary: str
    example: str
    phrases: tuple[str, ...]
    handler: Handler
    # The answer holds pupil data, coaching or QA content, or a named person's
    # records: in a group chat or channel it goes to the person's own chat instead.
    private: bool
    # None: anyone known to Waypoint may use it.
    roles: frozenset[Role] | None = None

    def allowed(self, actor: Actor) -> bool:
        return self.roles is None or actor.has_any(self.roles)


@dataclass(frozen=True)
class Verb:
    name: str
    handler: Handler
    # As for a command: what the card action answers may not be posted in a shared room.
    private: bool
    roles: frozenset[Role] | None = None

    def allowed(self, actor: Actor) -> bool:
        return self.roles is None or actor.has_any(self.roles)


@dataclass(frozen=True)
class Matched:
    command: Command
    args: str


@dataclass(frozen=True)
class Ambiguous:
    commands: tuple[Command, ...]


@dataclass(frozen=True)
class NotUnderstood:
    suggestion: Command | None


Match = Matched | Ambiguous | NotUnderstood


def matched_words(text: str) -> list[str]:
    """The words the matcher reads of a message: from its first characters only."""
    return normalise(text[:MATCHED_CHARACTERS]).split()[:MATCHED_WORDS]


def _declared(private: object, what: str) -> bool:
    # A bool and nothing else: a None or a "no" must not pass for a declaration.
    if not isinstance(private, bool):
        raise TypeError(f"{what}: say private=True or private=False")
    return private


def normalise(text: str) -> str:
    """Lower-case words only: mentions, markup and punctuation removed."""
    text = _MENTION.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _NON_WORD.sub(" ", text.casefold())
    return " ".join(text.split())


class Registry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._verbs: dict[str, Verb] = {}

    def command(
        self,
        key: str,
        *,
        title: str,
        summary: str,
        phrases: tuple[str, ...],
        private: bool,
        example: str | None = None,
        roles: frozenset[Role] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Register a command. `private` has no default: every command says whether
        its answer may be posted where others read it."""
        declared = _declared(private, f"command {key!r}")

        def register(handler: Handler) -> Handler:
            if key in self._commands:
                raise ValueError(f"command {key!r} registered twice")
            self._commands[key] = Command(
                key=key,
                title=title,
                summary=summary,
                example=example or phrases[0],
                phrases=tuple(normalise(p) for p in phrases),
                handler=handler,
                private=declared,
                roles=roles,
            )
            return handler

        return register

    def verb(
        self, name: str, *, private: bool, roles: frozenset[Role] | None = None
    ) -> Callable[[Handler], Handler]:
        """Register a card verb; `private` as for a command."""
        declared = _declared(private, f"card verb {name!r}")

        def register(handler: Handler) -> Handler:
            if name in self._verbs:
                raise ValueError(f"card verb {name!r} registered twice")
            self._verbs[name] = Verb(name=name, handler=handler, private=declared, roles=roles)
            return handler

        return register

    def get_command(self, key: str) -> Command | None:
        return self._commands.get(key)

    def get_verb(self, name: str) -> Verb | None:
        return self._verbs.get(name)

    def commands(self) -> list[Command]:
        return list(self._commands.values())

    def verbs(self) -> list[Verb]:
        return list(self._verbs.values())

    def commands_for(self, actor: Actor) -> list[Command]:
        return [c for c in self._commands.values() if c.allowed(actor)]

    def match(self, text: str) -> Match:
        """What a typed message asks for, forgiving case, extra words and small typos."""
        words = matched_words(text)
        if not words:
            return NotUnderstood(None)
        scored: list[tuple[float, int, int, Command, str]] = []
        for command in self._commands.values():
            best: tuple[float, int, int, str] | None = None
            for phrase in command.phrases:
                score, args = _score_phrase(phrase.split(), words)
                candidate = (score, len(phrase.split()), len(phrase), args)
                if best is None or candidate[:3] > best[:3]:
                    best = candidate
            if best is not None:
                scored.append((best[0], best[1], best[2], command, best[3]))
        # Equal scores: the longer phrase is the more specific ("coaching coverage"
        # over "coaching").
        scored.sort(key=lambda item: item[:3], reverse=True)
        top_score, top_words, _, top_command, top_args = scored[0]
        if top_score < MATCH_THRESHOLD:
            return NotUnderstood(top_command if top_score >= SUGGEST_THRESHOLD else None)
        rivals = [
            command
            for score, phrase_words, _, command, _ in scored[1:]
            if score >= MATCH_THRESHOLD
            and top_score - score < AMBIGUITY_MARGIN
            and phrase_words >= top_words
        ]
        if rivals:
            return Ambiguous((top_command, *rivals))
        return Matched(top_command, top_args)


def _score_phrase(phrase: list[str], words: list[str]) -> tuple[float, str]:
    """Best score of `phrase` against any run of words, and the words after that run.

    A phrase at the start of the message scores a little higher than the same
    phrase later on, so "category oakfield" beats a stray "category" inside
    another command's arguments.
    """
    width = len(phrase)
    target = " ".join(phrase)
    best_score, best_args = 0.0, ""
    for start in range(0, max(1, len(words) - width + 1)):
        window = " ".join(words[start : start + width])
        score = fuzz.ratio(target, window)
        # Ratio is harsh on short words ("hlep" scores 75), so a typo or two,
        # by edit distance with transpositions, counts as a match too.
        distance = OSA.distance(target, window)
        if distance <= _typos_allowed(target):
            score = max(score, 95.0 - 3 * distance)
        if start > 0:
            score -= 2
        if score > best_score:
            best_score, best_args = score, " ".join(words[start + width :])
    return best_score, best_args


def _typos_allowed(phrase: str) -> int:
    if len(phrase) <= 3:
        return 0
    if len(phrase) <= 8:
        return 1
    return 2 if len(phrase) <= 16 else 3
