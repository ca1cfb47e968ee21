"""One engine factory for both stores: SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from storage import sqlite_inline

T = TypeVar("T")


def async_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async driver."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# The execution option that makes a SQLite transaction a reader's: a plain
# (deferred) BEGIN, which in WAL mode takes no lock and reads a snapshot.
READ_ONLY = "waypoint_read_only"
# How long a SQLite writer waits for its turn in the process: SQLite's own
# busy_timeout, which it would otherwise have waited on the file.
WRITER_WAIT_S = 30.0


def create_engine(url: str, *, schema: str | None = None, echo: bool = False) -> AsyncEngine:
    """Create the async engine for `url`.

    SQLite: pysqlite's own transaction handling defers BEGIN and so breaks
    SERIALIZABLE reads; we turn it off and emit BEGIN IMMEDIATE ourselves, so a
    writer takes the lock at the start of its transaction and concurrent
    writers wait (busy_timeout) instead of failing mid-way (a deferred
    transaction that reads and then writes can fail at once with
    SQLITE_BUSY_SNAPSHOT). Sessions opened to read (see `Sessions`) begin
    deferred, so a read never waits for the one write lock.
    PostgreSQL: a pool with pre-ping, so a restarted server does not break the
    next turn; `schema` sets the search_path (tests use a schema per run).
    """
    full = async_url(url)
    if is_sqlite(full):
        database = make_url(full).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            full,
            echo=echo,
            # A failed statement's error (and its logged traceback) would otherwise
            # carry its bound values: pupil references and text typed on a form.
            hide_parameters=True,
            connect_args={
                "isolation_level": None,
                "timeout": 30,
                # The aiosqlite connection that can run a turn's reads on the loop's
                # thread, opened by the dialect with the URL's file and these options:
                # `async_creator_fn` is what `async_creator` passes, but that would
                # skip the URL and the `do_connect` event.
                "async_creator_fn": sqlite_inline.connect,
            },
        )
        _configure_sqlite(engine)
        # aiosqlite logs every statement with its parameters at DEBUG, which would put
        # pupil references and typed text into the logs of anyone debugging; like
        # SQLAlchemy's own loggers, it stays quiet unless explicitly turned up.
        quiet = logging.getLogger("aiosqlite")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.INFO)
        return engine
    # libpq's `?options=-csearch_path=X` selects a schema; asyncpg does not know
    # `options`, so it becomes asyncpg's server_settings.
    parsed = make_url(full)
    options = parsed.query.get("options")
    if isinstance(options, str) and options.startswith("-csearch_path="):
        schema = schema or options.removeprefix("-csearch_path=")
        parsed = parsed.difference_update_query(["options"])
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(
        parsed,
        echo=echo,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
        hide_parameters=True,
        connect_args=connect_args,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sqlite_inline.listen(engine)

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        sqlite_inline.switch_for_transaction(conn)
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Sessions(async_sessionmaker[AsyncSession]):
    """The store's sessions: `sessions()` to read, `sessions.begin()` to write.

    Waypoint never commits a session it opened with `sessions()`: whatever it
    changes is rolled back. On SQLite such a session therefore begins deferred
    (it takes no lock, so reads don't queue behind writers for the one write
    lock); one opened with `begin()` begins IMMEDIATE, and the writers sharing
    this `Sessions` (one in `waypoint serve`) take turns on an asyncio lock
    first. Without it, a writer that found
    the file locked slept in SQLite's busy handler (1, 2, 5 … 100 ms between
    tries) while the lock was free again: at 23 coaching saves a second, p99
    was 241 ms (bench/README.md). Other writers (another process, another
    `Sessions`) still meet at the file lock. On PostgreSQL reads and writes are the same.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.writer = engine
        self._writer_lock: asyncio.Lock | None = None
        reader = self._turn_reader = engine
        if engine.dialect.name == "sqlite":
            reader = engine.execution_options(**{READ_ONLY: True})
            self._turn_reader = reader.execution_options(**{sqlite_inline.INLINE: True})
            self._writer_lock = asyncio.Lock()
        super().__init__(reader, expire_on_commit=False)

    def turn_read(self) -> AsyncSession:
        """A session to read in, as `sessions()`, whose statements run on the event
        loop's thread on SQLite (storage/sqlite_inline.py): for a turn's shared read,
        short lookups, never a long report."""
        return self(bind=self._turn_reader)

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]:  # type: ignore[override]
        return self._writing()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        # What async_sessionmaker.begin() gives (commit, or rollback on error, then
        # close), bound to the writer and, on SQLite, holding the writer lock.
        async with self.writer_session() as session, session.begin():
            yield session

    @asynccontextmanager
    async def writer_session(self) -> AsyncIterator[AsyncSession]:
        """A session bound to the writer (on SQLite holding the writer lock), whose
        transaction its user commits; closing it rolls back what was not."""
        async with self._writer_turn(), self(bind=self.writer) as session:
            yield session

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        if self._writer_lock is None:
            yield
            return
        async with asyncio.timeout(WRITER_WAIT_S):
            await self._writer_lock.acquire()
        try:
            yield
        finally:
            self._writer_lock.release()


class TurnSessions:
    """One turn's sessions: its reads share one read transaction; its writes are the
    store's (`Sessions.begin()`).

    A turn identifies its sender, then reads what it answers: each `sessions()` was a
    transaction of its own (on SQLite a BEGIN and a COMMIT around one or two
    statements, on PostgreSQL a connection checked out and back). Here the first read
    opens a session that every later read of the turn reuses. `begin()` closes it
    before writing, so a read after the turn's own write starts afresh (a new
    snapshot on SQLite) and sees it; a read that raises closes it too, so nothing
    reads on in a failed transaction. The turn closes it when it ends (`close`).
    Reads still change nothing that is kept: the shared session is never committed.
    On SQLite the shared read runs on the event loop's thread (`Sessions.turn_read`,
    storage/sqlite_inline.py); the turn's writes, and `writing()`, keep aiosqlite's.
    """

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._held: AsyncSession | None = None
        self._writer: AsyncSession | None = None

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """A turn that will write (a form's save): within this block its reads, who
        sent it included, and its writes share one write transaction, committed when
        the block ends (a reply is sent after it). A read or write block that raises
        rolls back the transaction so far; the block ending by an error rolls back
        all of it. Reads see the turn's own writes (one transaction).

        Identifying the sender in a read transaction, then checking and storing in
        a write one, was two transactions (issue 18: one, of at most 6 statements).
        """
        await self.close()
        async with self._sessions.writer_session() as session:
            self._writer = session
            try:
                yield
                await session.commit()
            finally:
                self._writer = None

    @asynccontextmanager
    async def _in_writer(self, writer: AsyncSession) -> AsyncIterator[AsyncSession]:
        try:
            yield writer
        except BaseException:
            await writer.rollback()
            raise

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        if self._writer is not None:
            async with self._in_writer(self._writer) as writer:
                yield writer
            return
        if self._held is None:
            self._held = self._sessions.turn_read()
        try:
            yield self._held
        except BaseException:
            await self.close()
            raise

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        if self._writer is not None:
            async with self._in_writer(self._writer) as writer:
                yield writer
            return
        await self.close()
        async with self._sessions.begin() as session:
            yield session

    async def close(self) -> None:
        """End the shared read; a later read begins a new one on the same session."""
        if self._held is not None:
            await self._held.close()


async def finish_despite_cancel(transaction: Coroutine[Any, Any, T]) -> T:
    """Run a store transaction to its end even if the caller is cancelled meanwhile.

    A statement cancelled mid-way under aiosqlite still runs on the connection's
    thread, and SQLAlchemy then drops the connection without rolling it back: on
    SQLite its transaction, and the file's one write lock, stay open until the
    connection is garbage-collected, and every writer after it waits out the busy
    timeout ("database is locked"). So the transaction runs as a task of its own,
    which the caller's cancellation does not reach; the caller waits for it to
    commit or roll back, then stops.
    """
    task = asyncio.ensure_future(transaction)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


def session_factory(engine: AsyncEngine) -> Sessions:
    return Sessions(engine)


def store_unavailable(error: BaseException) -> bool:
    """Whether `error` means the store could not be reached (not a bug, not bad data)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    # Refused or dropped connections, and a pool that timed out waiting for one.
    return isinstance(error, OSError | TimeoutError | SATimeoutError)
