"""The outbox sender: claims deliveries and sends them within Teams' limits.

Limits (Teams): per conversation 7 messages/1 s, 8/2 s, 60/30 s, 1800/hour;
per tenant a configurable rate (default 30/s). 429 → every sender of the trust
waits out Retry-After (one shared "throttled until" in the store); 412 and 5xx
→ retried later with jittered backoff; 403/404 → the recipient blocked or removed
Waypoint ("gone") and is never retried. A delivery is given up after `max_attempts`.
A message for someone who has not installed Waypoint is never claimed: it waits
(storage/outbox.py), and once a minute the sender expires what waited its bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aiohttp
from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import RetryCallState, wait_random_exponential

from bot.connector import Connector, ConnectorError, ServiceUrlRefused
from cards.render import attachment
from storage.engine import finish_despite_cancel
from storage.outbox import (
    Claimed,
    claim_next,
    due_count,
    expire_waiting,
    mark_cut,
    mark_failed,
    mark_gone,
    mark_retry,
    mark_sent,
    release_claim,
    release_installed,
    settle_abandoned,
    throttle,
    throttled_until,
)

log = logging.getLogger("waypoint.sender")

T = TypeVar("T")

# (messages, seconds) per conversation, as Teams documents them.
CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
RETRY_STATUSES = frozenset({401, 412, 500, 502, 503, 504})
GONE_STATUSES = frozenset({403, 404})
# A claim older than this belongs to a sender that stopped.
ABANDONED_AFTER = timedelta(minutes=5)
SETTLE_EVERY = timedelta(minutes=1)


def _window_limiter(messages: int, seconds: float) -> AsyncLimiter:
    """A leaky bucket that never lets more than `messages` through in any `seconds`.

    A bucket of capacity c leaking r/s passes at most c + r·seconds in a window;
    half the allowance for each keeps the sum within the limit.
    """
    half = max(1, messages // 2)
    return AsyncLimiter(half, seconds * half / (messages - half))


@dataclass
class SendRun:
    sent: int = 0
    gone: int = 0
    failed: int = 0
    retried: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)


class OutboxSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        connector: Connector,
        *,
        tenant_rate: float = 30.0,
        max_attempts: int = 6,
        concurrency: int = 8,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._connector = connector
        self._tenant_rate = tenant_rate
        self._max_attempts = max_attempts
        self._concurrency = concurrency
        self._clock = clock
        self._tenant_limiters: dict[int, AsyncLimiter] = {}
        # Limiters of recently used conversations; an idle conversation's can go.
        self._conversation_limiters: OrderedDict[str, tuple[AsyncLimiter, ...]] = OrderedDict()
        self._backoff = wait_random_exponential(multiplier=1.0, max=300)
        # One message at a time per conversation: the limits are per conversation,
        # and a 403 must stop the rest of that conversation's queue.
        self._conversation_locks: dict[str, asyncio.Lock] = {}
        self._gone: set[str] = set()
        self._settled_at: datetime | None = None
        # Shutting down (run_forever's stop); and the workers holding a claimed row
        # that has not reached the connector yet, with its id.
        self._stopping = False
        self._holding: dict[asyncio.Task[Any], int] = {}

    # -- running ---------------------------------------------------------------

    async def run_once(self, *, trust_id: int | None = None) -> SendRun:
        """Send everything due now, then return."""
        now = self._clock()
        # A claim is abandoned only after minutes, so once a minute is soon enough;
        # settling on every wake made each notice cost a write transaction more.
        if self._settled_at is None or now - self._settled_at >= SETTLE_EVERY:
            await self._record(lambda session: self._settle(session, now))
            self._settled_at = now
        # As many claimers as there are rows to claim (up to `concurrency`): each
        # claimer's last claim, which finds nothing, is a write transaction.
        async with self._sessions() as session:
            due = await due_count(session, now=now, trust_id=trust_id, at_most=self._concurrency)
        run = SendRun()
        # A task group, not gather: when the run is cancelled, gather returns as soon
        # as the first worker has stopped, while another is still winding down inside
        # its write transaction (holding the store's write lock, and on SQLite the
        # process's writer turn, until its rollback), so whoever takes the run as
        # over (shutdown, a restarted sender) meets a writer that is not there. The
        # group returns only once every worker has stopped.
        try:
            async with asyncio.TaskGroup() as workers:
                for _ in range(due):
                    workers.create_task(self._worker(run, trust_id))
        except ExceptionGroup as failed:
            # The first worker's own error, as callers (and run_forever's log) knew it.
            raise failed.exceptions[0] from None
        return run

    @staticmethod
    async def _settle(session: AsyncSession, now: datetime) -> None:
        await settle_abandoned(session, claimed_before=now - ABANDONED_AFTER)
        # Messages that waited their bound for a reader who never installed end;
        # any whose reader installed while it was being queued become due.
        await expire_waiting(session, now=now)
        await release_installed(session, now=now)

    async def run_forever(
        self, stop: asyncio.Event, *, wake: asyncio.Event | None = None, idle: float = 2.0
    ) -> None:
        """The in-process sender of `waypoint serve`: runs when woken, or every `idle` s.

        When `stop` is set mid-run (shutdown), no more rows are claimed, and a row
        claimed but not yet handed to the connector (waiting out a throttle or a
        limit) is released: due again at once, for another replica. A send already on
        the wire is let finish; cancel this to cut it (its row is then unconfirmed).
        """
        wake = wake or asyncio.Event()
        stopped = asyncio.ensure_future(stop.wait())
        run: asyncio.Future[SendRun] | None = None
        try:
            while not stop.is_set():
                wake.clear()
                run = asyncio.ensure_future(self.run_once())
                await asyncio.wait([run, stopped], return_when=asyncio.FIRST_COMPLETED)
                if not run.done():
                    self._let_go()
                try:
                    await run
                except Exception:
                    log.exception("outbox run failed; trying again shortly")
                if stop.is_set():
                    break
                woken = asyncio.ensure_future(wake.wait())
                await asyncio.wait(
                    [stopped, woken], timeout=idle, return_when=asyncio.FIRST_COMPLETED
                )
                woken.cancel()
        finally:
            if run is not None and not run.done():
                # Cancelled from outside: every worker releases or settles its row first.
                run.cancel()
                await asyncio.wait([run])
            stopped.cancel()
            self._stopping = False

    def _let_go(self) -> None:
        """Stop claiming, and cancel the workers holding a claim not yet on the wire."""
        self._stopping = True
        for worker in list(self._holding):
            worker.cancel()

    async def _worker(self, run: SendRun, trust_id: int | None) -> None:
        while not self._stopping:
            if trust_id is not None:
                await self._wait_out_throttle(trust_id)
            claimed = await finish_despite_cancel(
                claim_next(self._sessions, now=self._clock(), trust_id=trust_id)
            )
            if claimed is None:
                return
            outcome = await self._deliver(claimed)
            if outcome == "released":
                return
            run.outcomes[claimed.id] = outcome
            if outcome == "sent":
                run.sent += 1
            elif outcome == "gone":
                run.gone += 1
            elif outcome == "failed":
                run.failed += 1
            else:
                run.retried += 1

    async def _deliver(self, claimed: Claimed) -> str:
        """Send a claimed row; cancelled (shutdown), release it if it never reached the
        connector, else settle it as unconfirmed now rather than at the reclaim."""
        me = asyncio.current_task()
        assert me is not None
        # Held, not yet on the wire: _send_now takes it off just before it sends.
        self._holding[me] = claimed.id
        try:
            if self._stopping:  # stopped while it was being claimed
                await self._record(lambda s: release_claim(s, delivery_id=claimed.id))
                return "released"
            return await self._send(claimed)
        except asyncio.CancelledError:
            if self._holding.pop(me, None) is not None:
                await self._record(lambda s: release_claim(s, delivery_id=claimed.id))
            else:
                await self._record(lambda s: mark_cut(s, delivery_id=claimed.id))
            raise
        finally:
            self._holding.pop(me, None)

    async def _wait_out_throttle(self, trust_id: int) -> None:
        async with self._sessions() as session:
            until = await throttled_until(session, trust_id=trust_id)
        if until is not None:
            wait = (until - self._clock()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)

    # -- one delivery ---------------------------------------------------------------

    async def _send(self, claimed: Claimed) -> str:
        conversation = claimed.conversation_id
        if claimed.recipient_gone or not claimed.service_url or not conversation:
            # Teams said 403/404 before: they blocked or removed Waypoint. (Someone
            # who never installed it has no row claimed: theirs wait.)
            await self._gone_now(claimed, "blocked or removed")
            return "gone"
        if self._connector.sends_tokens and not claimed.reference_authenticated:
            # Saved in development mode: its service URL was never vouched for, so it
            # gets no token. Gone until they install Waypoint again (which saves a
            # reference from an authenticated turn).
            await self._gone_now(claimed, "saved unauthenticated")
            return "gone"
        lock = self._conversation_locks.setdefault(conversation, asyncio.Lock())
        async with lock:
            if conversation in self._gone:
                await self._gone_now(claimed, "gone")
                return "gone"
            outcome = await self._send_now(claimed)
            if outcome == "gone":
                self._gone.add(conversation)
            if not lock._waiters:
                self._conversation_locks.pop(conversation, None)
            return outcome

    async def _send_now(self, claimed: Claimed) -> str:
        assert claimed.service_url is not None and claimed.conversation_id is not None
        await self._tenant_limiter(claimed.trust_id).acquire()
        for limiter in self._conversation(claimed.conversation_id):
            await limiter.acquire()
        # On the wire from here: cut now, it may arrive (see run_forever).
        self._holding.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        try:
            await self._connector.send(
                service_url=claimed.service_url,
                conversation_id=claimed.conversation_id,
                activity=_activity(claimed),
                attempts=1,
            )
        except ServiceUrlRefused:
            await self._record(
                lambda session: mark_failed(
                    session, delivery_id=claimed.id, reason="service URL not allowed"
                )
            )
            return "failed"
        except ConnectorError as error:
            return await self._after_error(claimed, error.status, error.retry_after)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.info("delivery %d: connection problem (%s)", claimed.id, type(error).__name__)
            return await self._after_error(claimed, None, None)
        await self._record(
            lambda session: mark_sent(session, delivery_id=claimed.id, now=self._clock())
        )
        return "sent"

    async def _after_error(
        self, claimed: Claimed, status: int | None, retry_after: float | None
    ) -> str:
        now = self._clock()
        reason = f"HTTP {status}" if status else "connection"

        async def settle(session: AsyncSession) -> str:
            if status in GONE_STATUSES:
                await mark_gone(session, claimed=claimed, now=now, reason=reason)
                return "gone"
            retryable = status is None or status == 429 or status in RETRY_STATUSES
            if not retryable or claimed.attempts >= self._max_attempts:
                await mark_failed(session, delivery_id=claimed.id, reason=reason)
                return "failed"
            if status == 429:
                until = now + timedelta(seconds=retry_after if retry_after else 1.0)
                await throttle(session, trust_id=claimed.trust_id, until=until)
                await mark_retry(session, delivery_id=claimed.id, at=until, reason=reason)
                return "throttled"
            wait = self._backoff(_attempt_state(claimed.attempts))
            await mark_retry(
                session, delivery_id=claimed.id, at=now + timedelta(seconds=wait), reason=reason
            )
            return "retry"

        return await self._record(settle)

    async def _gone_now(self, claimed: Claimed, reason: str) -> None:
        await self._record(
            lambda session: mark_gone(session, claimed=claimed, now=self._clock(), reason=reason)
        )

    async def _record(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """One write transaction, carried to its end even if the sender is cancelled
        meanwhile (storage.engine.finish_despite_cancel says why)."""

        async def transaction() -> T:
            async with self._sessions.begin() as session:
                return await write(session)

        return await finish_despite_cancel(transaction())

    # -- limits -----------------------------------------------------------------------

    def _tenant_limiter(self, trust_id: int) -> AsyncLimiter:
        limiter = self._tenant_limiters.get(trust_id)
        if limiter is None:
            # Evenly spaced: a burst would break a strict per-second limit.
            limiter = AsyncLimiter(1, 1.0 / self._tenant_rate)
            self._tenant_limiters[trust_id] = limiter
        return limiter

    def _conversation(self, conversation_id: str) -> tuple[AsyncLimiter, ...]:
        limiters = self._conversation_limiters.get(conversation_id)
        if limiters is None:
            limiters = tuple(_window_limiter(n, s) for n, s in CONVERSATION_LIMITS)
            self._conversation_limiters[conversation_id] = limiters
            if len(self._conversation_limiters) > 10_000:
                self._conversation_limiters.popitem(last=False)
        else:
            self._conversation_limiters.move_to_end(conversation_id)
        return limiters


def _activity(claimed: Claimed) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "from": {"id": claimed.bot_id},
        "conversation": {"id": claimed.conversation_id},
        "channelId": claimed.channel_id,
    }
    if claimed.payload.get("text"):
        activity["text"] = claimed.payload["text"]
    if claimed.payload.get("card"):
        activity["attachments"] = [attachment(claimed.payload["card"])]
    return activity


def _attempt_state(attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    return state
