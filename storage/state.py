"""The `bot_state` table: conversation and dialog state, one row per key, guarded
by eTags so that replicas can serve one conversation.

This module stores and reads opaque JSON text with its eTag; the Bot Framework
`Storage` built on it, which turns dialog state into that text, is bot/state.py.

- A write whose expected eTag is None (missing or ``"*"`` on the item) is
  last-write-wins. Any other eTag must still be the stored one, or the whole
  `write_items` call fails with `StateConflict` and stores nothing.
- A write with an eTag for a key that is not stored (never written, or deleted
  since it was read) creates it, as botbuilder's `MemoryStorage` does: an eTag
  only promises that nobody changed the row since it was read, and there is no
  row. A concurrent creation of that key still makes it a conflict.
- Every stored item gets a new eTag, returned once the transaction has committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from storage.models import BotStateItem, utcnow

# The width of `bot_state.key`. PostgreSQL would reject a longer key and SQLite
# would keep it, so both stores refuse it up front with the same error.
MAX_KEY_LENGTH = 1024

# PostgreSQL cannot index a primary-key entry over 2704 bytes (2692 of key
# after the entry's header) unless it compresses; random non-ASCII text of 1024
# characters does not. Keys are refused over this many UTF-8 bytes on both
# stores, so a key that works on SQLite cannot fail only in production.
MAX_KEY_BYTES = 2600

# Bounds the bound parameters of one `IN (...)`, far under SQLite's limit.
_CHUNK = 500


class StateConflict(Exception):
    """Another turn stored this key after the caller read it; re-read and retry the turn."""

    def __init__(self, key: str) -> None:
        super().__init__(f"state for {key} was changed by another turn")
        self.key = key


@dataclass(frozen=True)
class StateWrite:
    key: str
    # The eTag the writer read; None writes whatever is stored (last write wins).
    expected_e_tag: str | None
    data: str


async def read_items(
    sessions: async_sessionmaker[AsyncSession], keys: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """(eTag, data) of each stored key among `keys`; unknown keys are left out."""
    wanted = unique_keys(keys)
    found: dict[str, tuple[str, str]] = {}
    if not wanted:
        return found
    async with sessions() as session:
        conn = await session.connection()
        for chunk in _chunks(wanted):
            rows = await conn.execute(
                select(BotStateItem.key, BotStateItem.e_tag, BotStateItem.data).where(
                    BotStateItem.key.in_(chunk)
                )
            )
            for key, e_tag, data in rows:
                found[key] = (e_tag, data)
    return found


async def write_items(
    sessions: async_sessionmaker[AsyncSession], writes: Sequence[StateWrite]
) -> dict[str, str]:
    """Store every write in one transaction, or none of them; the new eTag of each key.

    Raises `StateConflict` when an expected eTag is no longer the stored one.
    """
    for write in writes:
        check_key(write.key)
    # One lock order for every writer, so two batches over the same keys on
    # PostgreSQL wait for each other instead of deadlocking.
    planned = sorted(writes, key=lambda write: write.key)
    new_e_tags: dict[str, str] = {}
    async with sessions.begin() as session:
        conn = await session.connection()
        for write in planned:
            new_e_tag = uuid.uuid4().hex
            if write.expected_e_tag is None:
                await _upsert(conn, write.key, new_e_tag, write.data)
            elif not await _replace_if_unchanged(
                conn, write.key, write.expected_e_tag, new_e_tag, write.data
            ):
                raise StateConflict(write.key)
            new_e_tags[write.key] = new_e_tag
    return new_e_tags


async def delete_items(sessions: async_sessionmaker[AsyncSession], keys: Iterable[str]) -> None:
    """Delete the items stored under `keys`; unknown keys are fine."""
    doomed = unique_keys(keys)
    if not doomed:
        return
    async with sessions.begin() as session:
        conn = await session.connection()
        for chunk in _chunks(doomed):
            await conn.execute(delete(BotStateItem).where(BotStateItem.key.in_(chunk)))


async def _upsert(conn: AsyncConnection, key: str, e_tag: str, data: str) -> None:
    # One statement, so two replicas creating the same key at once both succeed
    # (the later one wins) instead of one failing on the primary key.
    insert = _insert(conn, key, e_tag, data)
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=[BotStateItem.key],
            set_={
                "e_tag": insert.excluded.e_tag,
                "data": insert.excluded.data,
                "updated_at": insert.excluded.updated_at,
            },
        )
    )


async def _replace_if_unchanged(
    conn: AsyncConnection, key: str, e_tag: str, new_e_tag: str, data: str
) -> bool:
    """Compare-and-set in SQL: store only if the row still carries `e_tag` (or is absent)."""
    updated = await conn.execute(
        update(BotStateItem)
        .where(BotStateItem.key == key, BotStateItem.e_tag == e_tag)
        .values(e_tag=new_e_tag, data=data, updated_at=utcnow())
    )
    if updated.rowcount == 1:
        return True
    # No row with that eTag: either the key is absent (create it, as
    # MemoryStorage does) or it holds another eTag. DO NOTHING tells the two
    # apart without an exception, which would abort a PostgreSQL transaction,
    # and also catches a replica creating the key at this very moment.
    insert = _insert(conn, key, new_e_tag, data)
    inserted = await conn.execute(
        insert.on_conflict_do_nothing(index_elements=[BotStateItem.key]).returning(BotStateItem.key)
    )
    return inserted.first() is not None


def _insert(
    conn: AsyncConnection, key: str, e_tag: str, data: str
) -> postgresql.Insert | sqlite.Insert:
    # ON CONFLICT is spelled the same on both stores but lives in each dialect.
    values = {"key": key, "e_tag": e_tag, "data": data, "updated_at": utcnow()}
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(BotStateItem).values(values)
    if dialect == "sqlite":
        return sqlite.insert(BotStateItem).values(values)
    raise NotImplementedError(f"SqlStorage supports SQLite and PostgreSQL, not {dialect}")


def check_key(key: str) -> None:
    if not isinstance(key, str):
        raise TypeError(f"state keys must be strings, not {type(key).__name__}")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"state key longer than {MAX_KEY_LENGTH} characters: {key[:80]}…")
    # PostgreSQL text cannot hold NUL, and neither store can hold a lone
    # surrogate (encode raises); refuse both the same way on either store.
    if "\x00" in key:
        raise ValueError("state keys cannot contain NUL")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValueError(f"state key longer than {MAX_KEY_BYTES} UTF-8 bytes: {key[:80]}…")


def unique_keys(keys: Iterable[str] | None) -> list[str]:
    if not keys:
        return []
    unique = list(dict.fromkeys(keys))
    for key in unique:
        check_key(key)
    return unique


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
