"""The Bot Framework state store: `botbuilder.core.Storage` on the store's
`bot_state` table (storage/state.py), so that every process is stateless.

- `read` hands out each item with the row's current eTag (a dict gets an
  ``"e_tag"`` key, an object an ``e_tag`` attribute), as the SDK's stores do.
- `write` of an item whose eTag is missing, ``None`` or ``"*"`` is
  last-write-wins; any other eTag must still be the stored one, or the whole
  `write` fails with `StateConflict` and stores nothing.
- Every stored item gets its new eTag written back onto the caller's dict or
  object once the transaction has committed, so a second save in the same turn
  does not conflict with the first.

Items are stored as jsonpickle JSON like the SDK's Blob and Cosmos DB stores,
because dialog state is an object graph (`DialogState`, `DialogInstance`), not
plain JSON. Restoring imports the classes named in the stored JSON, so only
this store may write the table.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from botbuilder.core import Storage
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.state import (
    StateConflict,
    StateWrite,
    check_key,
    delete_items,
    read_items,
    write_items,
)

__all__ = ["SqlStorage", "StateConflict"]

_WILDCARD = "*"


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
        stored = await read_items(self._sessions, keys or [])
        return {key: _restore(data, e_tag) for key, (e_tag, data) in stored.items()}

    async def write(self, changes: Mapping[str, object]) -> None:
        """Store every item of `changes` in one transaction, or none of them.

        Raises `StateConflict` when an item's eTag is no longer the stored one.
        """
        if changes is None:
            # The SDK's stores refuse this with this message, and callers may rely on it.
            raise ValueError("Changes are required when writing")
        if not changes:
            return
        writes: list[StateWrite] = []
        for key, item in changes.items():
            check_key(key)
            e_tag = _e_tag_of(item)
            if e_tag == "":
                raise ValueError(f"state for {key} has an empty e_tag")
            expected = None if e_tag is None or e_tag == _WILDCARD else e_tag
            writes.append(StateWrite(key, expected, _dump(item)))
        new_e_tags = await write_items(self._sessions, writes)
        # Only once committed: an eTag handed back for a rolled-back write would
        # make the caller's next write conflict with a row that never changed.
        for key, item in changes.items():
            _set_e_tag(item, new_e_tags[key])

    async def delete(self, keys: Iterable[str]) -> None:
        """Delete the items stored under `keys`; unknown keys are fine."""
        await delete_items(self._sessions, keys or [])


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
