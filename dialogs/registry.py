"""Waypoint's own registry of commands and card verbs.

Dialog modules register what they answer (`register(registry)`); the edge in
`bot/` asks the registry what a message or a card action means. Nothing here
knows botbuilder, so a move to another SDK touches `bot/` alone.

Card verbs are names the code shares: each job declares its verbs once (a
`StrEnum`), registers its handlers under them and passes them to its templates,
so a card never spells a verb the registry does not know (tests/test_verbs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from dialogs.matcher import Match, best_match, normalise
from dialogs.turn import Handler
from storage.directory import Actor
from storage.models import Role


class EdgeVerb(StrEnum):
    """Verbs the edge answers itself, for every job."""

    # A button that stands for a typed command: its data names the command's key.
    run = "run"


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
    # A form's save: the turn reads (who is asking included) and writes in one write
    # transaction (storage/engine.py `TurnSessions.writing`).
    writes: bool = False

    def allowed(self, actor: Actor) -> bool:
        return self.roles is None or actor.has_any(self.roles)

    def writes_in_one_transaction(self, *, shared_room: bool) -> bool:
        """Whether its turn is one write transaction: not when its private answer is
        queued for the person's own chat instead (in a transaction of its own)."""
        return self.writes and not (self.private and shared_room)


def _declared(private: object, what: str) -> bool:
    # A bool and nothing else: a None or a "no" must not pass for a declaration.
    if not isinstance(private, bool):
        raise TypeError(f"{what}: say private=True or private=False")
    return private


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
                key=str(key),
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
        self,
        name: str,
        *,
        private: bool,
        roles: frozenset[Role] | None = None,
        writes: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register a card verb (a member of the job's verb enum); `private` as for a
        command. `writes`: its handler stores something in one `turn.sessions.begin()`
        and lets an error in it go, so the turn's reads and write can be one write
        transaction."""
        declared = _declared(private, f"card verb {name!r}")
        if name in set(EdgeVerb):
            raise ValueError(f"card verb {name!r} is the edge's own")

        def register(handler: Handler) -> Handler:
            if name in self._verbs:
                raise ValueError(f"card verb {name!r} registered twice")
            self._verbs[str(name)] = Verb(
                name=str(name), handler=handler, private=declared, roles=roles, writes=writes
            )
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

    def verb_names(self) -> frozenset[str]:
        """Every verb a card may name: the jobs' and the edge's own."""
        return frozenset(self._verbs) | frozenset(str(v) for v in EdgeVerb)

    def commands_for(self, actor: Actor) -> list[Command]:
        return [c for c in self._commands.values() if c.allowed(actor)]

    def match(self, text: str) -> Match:
        """What a typed message asks for, forgiving case, extra words and small typos."""
        return best_match(self._commands.values(), text)
