"""The Bot Framework state store: `botbuilder.core.Storage` on the `bot_state` table.

Every process is stateless, so conversation and dialog state live here, one row
per storage key, and replicas guard each other's turns with eTags:

- `read` hands out each item with the row's current eTag (a dict gets an
  ``"e_tag"`` key, an object an ``e_tag`` attribute), as the SDK's stores do.
- `write` of an item whose eTag is missing, ``None`` or ``"*"`` is
  last-write-wins. Any other eTag must still be the stored one, or the whole
  `write` call fails with `StateConflict` and stores nothing.
- A write with an eTag for a key that is not stored (never written, or deleted
  since it was read) creates it, as `MemoryStorage` does: an eTag only
  promises that nobody changed the row since it was read, and there is no row.
  A concurrent creation of that key still makes it a conflict.
- Every stored item gets a new eTag, written back onto the caller's dict or
  object once the transaction has committed, so a second save in the same
  turn does not conflict with the first.

Items are stored as jsonpickle JSON like the SDK's Blob and Cosmos DB stores,
because dialog state is an object graph (`DialogState`, `DialogInstance`), not
plain JSON. Restoring imports the classes named in the stored JSON, so only
this store may write the table.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from botbuilder.core import Storage
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from storage.models import BotStateItem, utcnow

__all__ = ["MAX_KEY_BYTES", "MAX_KEY_LENGTH", "SqlStorage", "StateConflict"]

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

_WILDCARD = "*"


class StateConflict(Exception):
    """Another turn stored this key after the caller read it; re-read and retry the turn."""

    def __init__(self, key: str) -> None:
        super().__init__(f"state for {key} was changed by another turn")
        self.key = key


class SqlStorage(Storage):  # type: ignore[misc]  # botbuilder ships no type hints
    """Bot state in the relational store, with eTag optimistic concurrency."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._sessions = sessions

    async def read(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored items among `keys`, each with its eTag; unknown keys are left out.

        Each item comes back as the type it was written as (a dict, a `StoreItem`,
        any object), which only the caller knows; hence `Any`.
        """
        wanted = _unique(keys)
        found: dict[str, Any] = {}
        if not wanted:
            return found
        async with self._sessions() as session:
            conn = await session.connection()
            for chunk in _chunks(wanted):
                rows = await conn.execute(
                    select(BotStateItem.key, BotStateItem.e_tag, BotStateItem.data).where(
                        BotStateItem.key.in_(chunk)
                    )
                )
                for key, e_tag, data in rows:
                    found[key] = _restore(data, e_tag)
        return found

    async def write(self, changes: Mapping[str, object]) -> None:
        """Store every item of `changes` in one transaction, or none of them.

        Raises `StateConflict` when an item's eTag is no longer the stored one.
        """
        if changes is None:
            # The SDK's stores refuse this with this message, and callers may rely on it.
            raise ValueError("Changes are required when writing")
        if not changes:
            return
        planned: list[tuple[str, object, str | None, str]] = []
        for key, item in changes.items():
            _check_key(key)
            e_tag = _e_tag_of(item)
            if e_tag == "":
                raise ValueError(f"state for {key} has an empty e_tag")
            planned.append((key, item, e_tag, _dump(item)))
        # One lock order for every writer, so two batches over the same keys on
        # PostgreSQL wait for each other instead of deadlocking.
        planned.sort(key=lambda plan: plan[0])

        new_e_tags: list[tuple[object, str]] = []
        async with self._sessions.begin() as session:
            conn = await session.connection()
            for key, item, e_tag, data in planned:
                new_e_tag = uuid.uuid4().hex
                if e_tag is None or e_tag == _WILDCARD:
                    await _upsert(conn, key, new_e_tag, data)
                elif not await _replace_if_unchanged(conn, key, e_tag, new_e_tag, data):
                    raise StateConflict(key)
                new_e_tags.append((item, new_e_tag))
        # Only once committed: an eTag handed back for a rolled-back write would
        # make the caller's next write conflict with a row that never changed.
        for item, new_e_tag in new_e_tags:
            _set_e_tag(item, new_e_tag)

    async def delete(self, keys: Iterable[str]) -> None:
        """Delete the items stored under `keys`; unknown keys are fine."""
        doomed = _unique(keys)
        if not doomed:
            return
        async with self._sessions.begin() as session:
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


def _dump(item: object) -> str:
    flat = Pickler().flatten(item)
    if not isinstance(flat, dict):
        raise TypeError(f"state items must be dicts or objects, not {type(item).__name__}")
    # The row's e_tag column is the truth; a copy inside the data would go stale.
    flat.pop("e_tag", None)
    return json.dumps(flat, separators=(",", ":"))


def _restore(data: str, e_tag: str) -> Any:
    flat = json.loads(data)
    flat["e_tag"] = e_tag
    # safe: never eval a `py/repr` from the table.
    return Unpickler(safe=True).restore(flat)


def _e_tag_of(item: object) -> str | None:
    e_tag: Any = item.get("e_tag") if isinstance(item, dict) else getattr(item, "e_tag", None)
    if e_tag is None or isinstance(e_tag, str):
        return e_tag
    raise TypeError(f"an e_tag must be a string, not {type(e_tag).__name__}")


def _set_e_tag(item: object, e_tag: str) -> None:
    if isinstance(item, dict):
        item["e_tag"] = e_tag
        return
    # An object that cannot take attributes keeps no eTag: its next write is
    # last-write-wins, which is what it asked for by having none.
    with contextlib.suppress(AttributeError):
        item.e_tag = e_tag  # type: ignore[attr-defined]


def _check_key(key: str) -> None:
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


def _unique(keys: Iterable[str] | None) -> list[str]:
    if not keys:
        return []
    unique = list(dict.fromkeys(keys))
    for key in unique:
        _check_key(key)
    return unique


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
