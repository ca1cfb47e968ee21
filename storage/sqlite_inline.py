"""SQLite reads on the event loop's thread, for a turn's shared read (issue 18, item 3).

aiosqlite runs every call on a thread of the connection's own and hands each back
through a future: a statement is four such hand-offs (cursor, execute, fetch, close),
and under load a fifth of the server's samples sat in them. A turn's reads are short
indexed lookups on a local WAL file: on the loop's thread they cost microseconds and
no hand-off. So a connection can be switched to run its calls inline.

Only a transaction whose execution options say `INLINE` is switched (storage/engine.py
`TurnSessions` opens its shared read with it), in the engine's `begin` listener, and
every other transaction switches its connection back: a write's BEGIN IMMEDIATE can
wait out the busy timeout for another process's lock, and the dashboard's or a digest's
long reads would stall every turn, so they keep the thread. A connection returned to
the pool is switched back whatever happened to its transaction (`checkin`), so a turn
that failed mid-way leaves no inline connection behind.

A statement that runs long inline all the same (a trust-wide digest preview is a turn
too) switches its connection back to the thread for the rest of its transaction: the
loop stalls for that one statement, not for all of the turn's.

The sqlite3 connection is made on aiosqlite's thread and used from the loop's too, so
it is opened with `check_same_thread=False`; the calls stay strictly one at a time,
since SQLAlchemy awaits each before the next.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# The execution option that runs a transaction's statements on the loop's thread.
INLINE = "waypoint_sqlite_inline"
# An inline call that took longer than this sends the rest of its transaction back to
# the thread: a turn's indexed lookups take well under a millisecond, and a call whose
# GIL was taken by another thread meanwhile can wait out Python's 5 ms switch interval.
LONG_CALL_S = 0.01


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread while `inline`."""

    inline = False

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self.inline:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            if time.perf_counter() - started > LONG_CALL_S:
                self.inline = False


def connector(database: str, **kwargs: Any) -> Callable[[], sqlite3.Connection]:
    def connect() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(
            database, **{**kwargs, "check_same_thread": False}
        )
        return connection

    return connect


async def connect(database: str, **kwargs: Any) -> InlineConnection:
    """What `aiosqlite.connect` does, with an `InlineConnection`."""
    connection = InlineConnection(connector(database, **kwargs), iter_chunk_size=64)
    # As SQLAlchemy's dialect does for its own: the thread must not keep the process up.
    connection._thread.daemon = True
    await connection
    return connection


def _driver(dbapi_connection: Any) -> InlineConnection | None:
    driver = getattr(dbapi_connection, "driver_connection", None)
    return driver if isinstance(driver, InlineConnection) else None


def switch_for_transaction(conn: Connection) -> None:
    """In the `begin` listener, before BEGIN: inline if the transaction asks, else not."""
    driver = _driver(conn.connection)
    if driver is not None:
        driver.inline = bool(conn.get_execution_options().get(INLINE))


def listen(engine: AsyncEngine) -> None:
    """Switch every connection back to the thread as it returns to the pool."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _off_on_checkin(_dbapi_connection: Any, record: Any) -> None:
        driver = _driver(record)
        if driver is not None:
            driver.inline = False
