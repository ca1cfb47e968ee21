"""The contract between the edge and a dialog: a `Turn` in, a `Reply` out.

`bot/` builds a Turn from an activity (who asks, what they typed or submitted,
the store, the clock); a dialog answers a Reply. Nothing here knows botbuilder,
so a dialog can be called and tested without HTTP or Teams.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from storage.directory import Actor
from storage.engine import AsyncSession, Sessions, TurnSessions

if TYPE_CHECKING:
    from dialogs.registry import Registry


@dataclass(frozen=True)
class Reply:
    """What Waypoint answers: a text, a card, or both."""

    text: str | None = None
    card: dict[str, Any] | None = None


class Notifier(Protocol):
    """Sends a card to a person outside the current conversation (their chat with Waypoint).

    Given the `session` of the transaction that stores what the notice tells of, the
    notice is queued in it: a crash leaves both or neither, never a record whose
    notice is lost. As written here it sends nothing (a dialog called without the edge).
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
    ) -> None:
        return None


class _NoNotifier(Notifier):
    pass


class DashboardLinks(Protocol):
    """Makes a signed dashboard link for a person (bot/dashboard/links.py, given by
    the edge). As written here it makes none: a dialog called without the edge, or a
    Waypoint with the dashboard off."""

    def link_for(self, *, person_id: int, trust_id: int, now: datetime) -> str | None:
        return None


class _NoDashboardLinks(DashboardLinks):
    pass


@dataclass
class Turn:
    """One request to a dialog: who asks, what they typed or submitted, and the store."""

    actor: Actor
    # A turn's reads share one transaction (`TurnSessions`); tests may pass `Sessions`.
    sessions: Sessions | TurnSessions
    now: datetime
    args: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    # Set when the request came from an Action.Execute (the answer replaces the card).
    refresh: bool = False
    registry: Registry | None = None
    notifier: Notifier = field(default_factory=_NoNotifier)
    dashboard_links: DashboardLinks = field(default_factory=_NoDashboardLinks)
    # Asked in a group chat or channel, where others read the answer.
    shared_room: bool = False

    @cached_property
    def zone(self) -> ZoneInfo:
        """The trust's time zone (Europe/London unless the trust says otherwise)."""
        return ZoneInfo(self.actor.time_zone)

    @cached_property
    def today(self) -> date:
        """The school's day, in the trust's time zone: a session logged at 00:30 on
        Tuesday in British Summer Time happened on Tuesday, though UTC says Monday."""
        return self.now.astimezone(self.zone).date()

    def local(self, moment: datetime) -> datetime:
        """A stored moment (kept in UTC) as the school's clock showed it."""
        return moment.astimezone(self.zone)


Handler = Callable[[Turn], Awaitable[Reply]]
