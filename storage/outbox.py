"""The outbox: every proactive message is a delivery row, sent while it is pending.

A row is claimed (pending → sending) in a committed transaction of its own just
before it is sent, and marked with the outcome just after. A row still in
"sending" when a sender died is never sent again: the connector may or may not
have had it, and a message twice is the failure Waypoint promises not to make.
It is reported as unconfirmed instead.

A message for someone who has not installed Waypoint waits ("waiting"): no sender
claims it until they install (`release_waiting`, when their chat is saved), and it
ends "expired" once its kind's bound has passed (`expire_waiting`). Blocked or
removed (Teams answered 403/404) stays final: "gone".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from storage.models import ConversationRef, Delivery, SendThrottle
from storage.waiting import EXPIRED, NEVER_INSTALLED, WAITING, wait_bound

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
GONE = "gone"
FAILED = "failed"
UNCONFIRMED = "unconfirmed"


def _has_chat(trust_id: Any, person_id: Any) -> Any:
    """The person has a personal chat with Waypoint on record (reachable, or blocked or
    removed since: either way not "not installed")."""
    return (
        select(ConversationRef.id)
        .where(
            ConversationRef.trust_id == trust_id,
            ConversationRef.person_id == person_id,
            ConversationRef.conversation_type == "personal",
            ConversationRef.service_url != "",
        )
        .exists()
    )


async def enqueue(
    session: AsyncSession,
    *,
    trust_id: int,
    kind: str,
    period: str,
    recipient_id: int,
    payload: dict[str, Any],
    now: datetime,
    requested_by: int | None = None,
) -> bool:
    """Queue a message in the caller's transaction; False if this period's was queued before."""
    message = Message(kind=kind, period=period, recipient_id=recipient_id, payload=payload)
    return (
        await enqueue_many(
            session, trust_id=trust_id, messages=[message], now=now, requested_by=requested_by
        )
        == 1
    )


@dataclass(frozen=True)
class Message:
    """One message to queue: what kind, for which period, to whom."""

    kind: str
    period: str
    recipient_id: int
    payload: dict[str, Any]


# Rows per INSERT: far under SQLite's limit on bound parameters (32,766), with
# eleven parameters a row.
_ROWS_PER_INSERT = 1000


async def enqueue_many(
    session: AsyncSession,
    *,
    trust_id: int,
    messages: list[Message],
    now: datetime,
    requested_by: int | None = None,
    latest_only: bool = False,
) -> int:
    """Queue messages in the caller's transaction, one INSERT per thousand; how many
    were new (one queued before for the same period and recipient is skipped).

    A message for someone with no chat with Waypoint waits for them (see the module).
    `latest_only`: a message of the same kind still waiting for its reader from an
    earlier run (last week's digest) is replaced by this one: it expires.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    queued = 0
    for start in range(0, len(messages), _ROWS_PER_INSERT):
        chunk = messages[start : start + _ROWS_PER_INSERT]
        recipients = {message.recipient_id for message in chunk}
        with_chat = set(
            await session.scalars(
                select(ConversationRef.person_id).where(
                    ConversationRef.trust_id == trust_id,
                    ConversationRef.person_id.in_(recipients),
                    ConversationRef.conversation_type == "personal",
                    ConversationRef.service_url != "",
                )
            )
        )
        if latest_only:
            for kind in {message.kind for message in chunk}:
                await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.trust_id == trust_id,
                        Delivery.kind == kind,
                        Delivery.recipient_id.in_(recipients),
                        Delivery.status == WAITING,
                        Delivery.created_at < now,
                    )
                    .values(status=EXPIRED, last_error="replaced by a newer one")
                )
        rows = [
            {
                "trust_id": trust_id,
                "kind": message.kind,
                "period": message.period,
                "recipient_id": message.recipient_id,
                "requested_by": requested_by,
                "payload": message.payload,
                "status": PENDING if message.recipient_id in with_chat else WAITING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "expires_at": now + wait_bound(message.kind),
            }
            for message in chunk
        ]
        statement = (
            insert(Delivery)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["trust_id", "kind", "period", "recipient_id"])
            .returning(Delivery.id)
        )
        queued += len((await session.execute(statement)).all())
    return queued


# Built once: an alias made per claim cost a fifth of a busy sender's time in
# adapting its columns (bench/README.md).
_IN_FLIGHT = aliased(Delivery, name="in_flight")
# One message at a time per person, so theirs arrive in order.
_NONE_IN_FLIGHT = ~(
    select(_IN_FLIGHT.id)
    .where(_IN_FLIGHT.recipient_id == Delivery.recipient_id, _IN_FLIGHT.status == SENDING)
    .exists()
)


def _due(now: datetime, trust_id: int | None) -> list[Any]:
    where = [Delivery.status == PENDING, Delivery.next_attempt_at <= now]
    if trust_id is not None:
        where.append(Delivery.trust_id == trust_id)
    return where


async def due_count(
    session: AsyncSession, *, now: datetime, trust_id: int | None = None, at_most: int
) -> int:
    """How many deliveries are due now, counting no further than `at_most`."""
    due = select(Delivery.id).where(*_due(now, trust_id), _NONE_IN_FLIGHT).limit(at_most)
    return int(await session.scalar(select(func.count()).select_from(due.subquery())) or 0)


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for sending, with where it goes."""

    id: int
    trust_id: int
    recipient_id: int
    payload: dict[str, Any]
    attempts: int
    service_url: str | None
    conversation_id: str | None
    bot_id: str | None
    channel_id: str | None
    recipient_gone: bool
    # The reference was saved from an authenticated turn (see ConversationRef).
    reference_authenticated: bool = False


async def claim_next(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, trust_id: int | None = None
) -> Claimed | None:
    """Take the next due pending delivery, or None when there is nothing to send.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so any number of senders take different
    rows. SQLite: the engine's BEGIN IMMEDIATE serialises claims.
    """
    async with sessions.begin() as session:
        query = (
            select(Delivery)
            .where(*_due(now, trust_id), _NONE_IN_FLIGHT)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(1)
        )
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        while True:
            row = await session.scalar(query)
            if row is None:
                return None
            reference = await session.scalar(
                select(ConversationRef)
                .where(
                    ConversationRef.trust_id == row.trust_id,
                    ConversationRef.person_id == row.recipient_id,
                    ConversationRef.conversation_type == "personal",
                    ConversationRef.service_url != "",
                )
                .order_by(ConversationRef.updated_at.desc())
                .limit(1)
            )
            if reference is not None:
                break
            # No chat with Waypoint (queued before they had one, or the row predates
            # waiting): it waits for them rather than ending "gone".
            row.status = WAITING
            row.last_error = "not installed"
            if row.expires_at is None:
                row.expires_at = row.created_at + wait_bound(row.kind)
            await session.flush()
        row.status = SENDING
        row.claimed_at = now
        row.attempts += 1
        return Claimed(
            id=row.id,
            trust_id=row.trust_id,
            recipient_id=row.recipient_id,
            payload=dict(row.payload),
            attempts=row.attempts,
            service_url=reference.service_url,
            conversation_id=reference.conversation_id,
            bot_id=reference.bot_id,
            channel_id=reference.channel_id,
            recipient_gone=reference.gone_at is not None,
            reference_authenticated=reference.authenticated,
        )


async def _finish(session: AsyncSession, delivery_id: int, **values: Any) -> None:
    # Only a row this sender holds (still "sending") changes.
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == SENDING)
        .values(**values)
    )


async def mark_sent(session: AsyncSession, *, delivery_id: int, now: datetime) -> None:
    await _finish(session, delivery_id, status=SENT, sent_at=now, last_error=None)


async def mark_gone(session: AsyncSession, *, claimed: Claimed, now: datetime, reason: str) -> None:
    """The recipient blocked or removed Waypoint: never retried (a message for someone
    who never installed it waits instead)."""
    await _finish(session, claimed.id, status=GONE, last_error=reason)
    if claimed.conversation_id is not None:
        await session.execute(
            update(ConversationRef)
            .where(
                ConversationRef.trust_id == claimed.trust_id,
                ConversationRef.conversation_id == claimed.conversation_id,
            )
            .values(gone_at=now)
        )


async def mark_retry(session: AsyncSession, *, delivery_id: int, at: datetime, reason: str) -> None:
    await _finish(session, delivery_id, status=PENDING, next_attempt_at=at, last_error=reason)


async def mark_failed(session: AsyncSession, *, delivery_id: int, reason: str) -> None:
    await _finish(session, delivery_id, status=FAILED, last_error=reason)


async def release_claim(session: AsyncSession, *, delivery_id: int) -> None:
    """A claim let go before its message reached the connector (the sender is
    stopping): due again at once for any sender, the attempt not counted."""
    await _finish(session, delivery_id, status=PENDING, attempts=Delivery.attempts - 1)


async def mark_cut(session: AsyncSession, *, delivery_id: int) -> None:
    """Cut mid-send (the sender stopped): the connector may have it, so never resent."""
    await _finish(session, delivery_id, status=UNCONFIRMED, last_error="sender stopped mid-send")


async def settle_abandoned(session: AsyncSession, *, claimed_before: datetime) -> int:
    """Rows a dead sender left in "sending": unconfirmed, never resent."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status == SENDING, Delivery.claimed_at < claimed_before)
        .values(status=UNCONFIRMED, last_error="sender stopped mid-send")
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- waiting for a reader ------------------------------------------------------------


async def release_waiting(
    session: AsyncSession, *, trust_id: int, person_id: int | None, now: datetime
) -> int:
    """The person has installed Waypoint: what waits for them is due now (once: each
    row goes back to "pending" and the sender claims it like any other)."""
    if person_id is None:
        return 0
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.trust_id == trust_id,
            Delivery.recipient_id == person_id,
            Delivery.status == WAITING,
            (Delivery.expires_at.is_(None)) | (Delivery.expires_at > now),
        )
        .values(status=PENDING, next_attempt_at=now, last_error=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def release_installed(session: AsyncSession, *, now: datetime) -> int:
    """Rows left waiting for someone who has a chat by now (their install and the
    row's queueing crossed): due now. The sender runs this with `expire_waiting`."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.status == WAITING,
            (Delivery.expires_at.is_(None)) | (Delivery.expires_at > now),
            _has_chat(Delivery.trust_id, Delivery.recipient_id),
        )
        .values(status=PENDING, next_attempt_at=now, last_error=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def expire_waiting(session: AsyncSession, *, now: datetime) -> int:
    """Messages that waited their whole bound for a reader who never installed."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status == WAITING, Delivery.expires_at <= now)
        .values(status=EXPIRED, last_error=NEVER_INSTALLED)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def withdraw_waiting(
    session: AsyncSession, *, trust_id: int, kind: str, period: str, reason: str
) -> None:
    """What a waiting message told of is over (a concern closed): it is not sent."""
    await session.execute(
        update(Delivery)
        .where(
            Delivery.trust_id == trust_id,
            Delivery.kind == kind,
            Delivery.period == period,
            Delivery.status == WAITING,
        )
        .values(status=EXPIRED, last_error=reason)
    )


# -- the shared throttle -----------------------------------------------------------


async def throttled_until(session: AsyncSession, *, trust_id: int) -> datetime | None:
    return await session.scalar(select(SendThrottle.until).where(SendThrottle.trust_id == trust_id))


async def throttle(session: AsyncSession, *, trust_id: int, until: datetime) -> None:
    """Every sender of this trust waits until `until` (the later of two 429s wins)."""
    row = await session.get(SendThrottle, trust_id, with_for_update=True)
    if row is None:
        session.add(SendThrottle(trust_id=trust_id, until=until))
    elif until > row.until:
        row.until = until
    await session.flush()
