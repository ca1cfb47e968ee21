"""What every `waypoint` command shares, in one place.

A handler marked `@command` is given a `Call`: the arguments typed, the settings (read
once, before anything else), the input file, the store in one transaction and the trust
`--tenant-id` names. It returns the text to print. A `CommandFailed`, or a known error
it names in `refusing`, ends it with the message on stderr and a non-zero exit, so a
command module says only its own job.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypeAlias, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from storage.engine import create_engine, session_factory
from storage.models import Trust

if TYPE_CHECKING:
    from bot.proactive import OutboxNotifier

T = TypeVar("T")

# argparse has no public name for what add_subparsers() returns.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]
# Errors a command expects, each with what to tell the person at the terminal.
Refusals: TypeAlias = Mapping[type[Exception], Callable[[Exception], str]]
NO_REFUSALS: Final[Refusals] = MappingProxyType({})


class CommandFailed(Exception):
    """A command could not do its job; the message is for the person at the terminal."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Call:
    """One run of a command: what was typed, the settings, and the store to work in."""

    args: argparse.Namespace
    settings: Settings

    @property
    def file(self) -> Path:
        return Path(self.args.file)

    def read(self, reader: Callable[[Path], T], *, refusing: Refusals = NO_REFUSALS) -> T:
        """The command's FILE, read before the store is opened: a file that cannot be
        read changes nothing."""
        with _refused(refusing):
            try:
                return reader(self.file)
            except OSError as error:
                raise CommandFailed(
                    f"cannot read {self.file}: {error.strerror or error}"
                ) from error
            except UnicodeDecodeError as error:
                raise CommandFailed(f"{self.file} is not UTF-8 text") from error

    def in_store(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, refusing: Refusals = NO_REFUSALS
    ) -> T:
        """`work` in one transaction: committed when it returns, rolled back when it raises."""
        with _refused(refusing):
            return asyncio.run(_in_transaction(self.settings.database_url, work))

    def in_trust(
        self,
        work: Callable[[AsyncSession, Trust], Awaitable[T]],
        *,
        refusing: Refusals = NO_REFUSALS,
    ) -> T:
        """`work` on the trust `--tenant-id` names, in one transaction."""

        async def on_the_trust(session: AsyncSession) -> T:
            return await work(session, await self.trust(session))

        return self.in_store(on_the_trust, refusing=refusing)

    async def trust(self, session: AsyncSession) -> Trust:
        """The trust `--tenant-id` names."""
        from storage.directory import trust_by_tenant

        tenant_id: str = self.args.tenant_id
        trust = await trust_by_tenant(session, tenant_id)
        if trust is None:
            raise CommandFailed(f"no trust with tenant id {tenant_id}; add it first")
        return trust


def command(run: Callable[[Call], str | None]) -> Handler:
    """The handler argparse calls: `run` with the settings, its text printed, and a
    failure said on stderr with its exit code."""

    @functools.wraps(run)
    def handler(args: argparse.Namespace) -> int:
        try:
            said = run(Call(args, Settings()))
        except CommandFailed as failure:
            print(f"waypoint: {failure}", file=sys.stderr)
            return failure.exit_code
        if said is not None:
            print(said)
        return 0

    return handler


@contextmanager
def _refused(refusals: Refusals) -> Iterator[None]:
    """The errors a command expects, as its message. Only around the step that raises
    them: the same error anywhere else is a bug, and keeps its traceback."""
    try:
        yield
    except tuple(refusals) as error:
        say = next(say for kind, say in refusals.items() if isinstance(error, kind))
        raise CommandFailed(say(error)) from error


async def _in_transaction(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            return await work(session)
    finally:
        await engine.dispose()


@asynccontextmanager
async def sending(
    settings: Settings,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], OutboxNotifier]]:
    """The store and an outbox sender, for commands that send (cron needs no server)."""
    from bot.connector import Connector, TokenProvider
    from bot.offloop import BlockingWorker
    from bot.proactive import OutboxNotifier
    from bot.sender import OutboxSender

    engine = create_engine(settings.database_url)
    worker = BlockingWorker("waypoint-cli")
    connector = Connector(TokenProvider(settings, worker))
    try:
        sessions = session_factory(engine)
        yield sessions, OutboxNotifier(sessions, OutboxSender(sessions, connector))
    finally:
        await connector.close()
        worker.stop()
        await engine.dispose()


def iso_date(value: str) -> date:
    """An argparse type: a day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-12-04") from None
