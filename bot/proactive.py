"""Proactive notices: every one goes through the outbox.

A dialog's `notify` queues a delivery row and wakes the sender, so a notice
keeps Teams' limits, survives a restart, and is sent once. A notice for a person
who has not installed Waypoint waits for them (for its kind's bound,
storage/waiting.py) and is sent when they install; nothing fails.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sender import OutboxSender
from dialogs.turn import Reply
from storage.conversations import personal_reference
from storage.models import Delivery
from storage.outbox import PENDING, SENDING, enqueue


def payload_of(reply: Reply) -> dict[str, object]:
    return {"text": reply.text, "card": reply.card}


class OutboxNotifier:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: OutboxSender,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self.sender = sender
        self._clock = clock
        self.wake = asyncio.Event()

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
        """Queue `reply` for the person. `key` makes it once-only (e.g. one
        reminder per term); without one every call is a new notice.

        With `session`, the notice joins that transaction (and the sender is woken
        when it commits); without, it is stored at once on its own.
        """
        if session is None:
            async with self._sessions.begin() as own:
                await self._enqueue(own, trust_id, person_id, reply, kind, key)
            self.wake.set()
            return
        await self._enqueue(session, trust_id, person_id, reply, kind, key)
        event.listen(session.sync_session, "after_commit", self._wake_after_commit, once=True)

    def _wake_after_commit(self, _session: object) -> None:
        self.wake.set()

    def wake_sender(self) -> None:
        self.wake.set()

    async def _enqueue(
        self,
        session: AsyncSession,
        trust_id: int,
        person_id: int,
        reply: Reply,
        kind: str,
        key: str | None,
    ) -> None:
        await enqueue(
            session,
            trust_id=trust_id,
            kind=kind,
            period=key or uuid.uuid4().hex,
            recipient_id=person_id,
            payload=payload_of(reply),
            now=self._clock(),
        )

    async def reachable(self, *, trust_id: int, person_id: int) -> bool:
        """Whether the person has a chat with Waypoint to send to: installed
        personally, and not blocked or removed since."""
        async with self._sessions() as session:
            reference = await personal_reference(session, trust_id=trust_id, person_id=person_id)
        return reference is not None and reference.gone_at is None

    async def deliver(self, *, trust_id: int, person_id: int, reply: Reply) -> bool:
        """Queue `reply` if the person can be reached now; False, and nothing
        queued, if not, so the caller can try again later."""
        if not await self.reachable(trust_id=trust_id, person_id=person_id):
            return False
        await self.notify(trust_id=trust_id, person_id=person_id, reply=reply)
        return True

    async def drain(self) -> None:
        """Send whatever is due now, and wait for sends under way elsewhere (tests, shutdown)."""
        while True:
            await self.sender.run_once()
            async with self._sessions() as session:
                busy = await session.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(
                        Delivery.status.in_([PENDING, SENDING]),
                        Delivery.next_attempt_at <= self._clock(),
                    )
                )
            if not busy:
                return
            # Another sender (the server's own loop) holds a row mid-send.
            await asyncio.sleep(0.02)

    async def run(self, stop: asyncio.Event) -> None:
        """The in-process sender: sends when woken, and every few seconds."""
        await self.sender.run_forever(stop, wake=self.wake)
