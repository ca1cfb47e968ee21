"""One engine factory for both stores: SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession


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
            connect_args={"isolation_level": None, "timeout": 30},
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

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Sessions(async_sessionmaker[AsyncSession]):
    """The store's sessions: `sessions()` to read, `sessions.begin()` to write.

    Waypoint never commits a session it opened with `sessions()`: whatever it
    changes is rolled back. On SQLite such a session therefore begins deferred
    (it takes no lock, so reads don't queue behind writers for the one write
    lock); one opened with `begin()` begins IMMEDIATE, and the writers of one
    process take turns on an asyncio lock first. Without it, a writer that found
    the file locked slept in SQLite's busy handler (1, 2, 5 … 100 ms between
    tries) while the lock was free again: at 23 coaching saves a second, p99
    was 241 ms (bench/README.md). Writers in other processes still meet at the
    file lock. On PostgreSQL reads and writes are the same.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.writer = engine
        self._queue: _WriterQueue | None = None
        if engine.dialect.name == "sqlite":
            reader = engine.execution_options(**{READ_ONLY: True})
            self._queue = _WRITER_QUEUES.setdefault(engine.sync_engine, _WriterQueue())
        else:
            reader = engine
        super().__init__(reader, expire_on_commit=False)

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]:  # type: ignore[override]
        return _Writing(self(bind=self.writer), self._queue)


class _WriterQueue:
    """One asyncio lock per event loop (a lock belongs to the loop it first waits in)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def lock(self) -> asyncio.Lock:
        return self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


_WRITER_QUEUES: weakref.WeakKeyDictionary[Any, _WriterQueue] = weakref.WeakKeyDictionary()
# As long as SQLite's own busy_timeout: a writer waits no longer in the queue.
WRITER_WAIT_S = 30.0


class _Writing:
    """`async with sessions.begin() as session`: a session in a transaction that
    commits, holding the process's writer lock on SQLite."""

    def __init__(self, session: AsyncSession, queue: _WriterQueue | None) -> None:
        self._session = session
        self._lock = queue.lock() if queue is not None else None
        self._inner: Any = None
        self._held = False

    async def __aenter__(self) -> AsyncSession:
        if self._lock is not None:
            try:
                async with asyncio.timeout(WRITER_WAIT_S):
                    await self._lock.acquire()
                self._held = True
            except TimeoutError:
                await self._session.close()
                raise
        try:
            # What async_sessionmaker.begin() returns: commits or rolls back, then closes.
            self._inner = self._session._maker_context_manager()
            return cast(AsyncSession, await self._inner.__aenter__())
        except BaseException:
            self._release()
            raise

    async def __aexit__(self, *exc: Any) -> bool | None:
        try:
            return cast(bool | None, await self._inner.__aexit__(*exc))
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None and self._held:
            self._held = False
            self._lock.release()


def session_factory(engine: AsyncEngine) -> Sessions:
    return Sessions(engine)
