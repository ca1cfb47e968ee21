"""SIGTERM: a real `waypoint serve` leaves without cutting a turn or holding a claim.

The process (on a SQLite file and on PostgreSQL) is sent SIGTERM while
- a turn is in flight: its reply is held by a slow Bot Connector (the test's own);
- its outbox sender holds a claimed row: the trust is throttled (Teams said 429),
  so the sender claimed the row and waits out the throttle before sending it.
Then, at once, /healthz answers 503 "shutting down" and a new turn is refused with
503 and Retry-After (Teams retries it, on another replica); the process does not
exit while the turn is held, and once the connector lets the reply through, the
turn is answered and the process exits 0. The claimed row is due again at once
(another sender claims it straight away), not left for the reclaim minutes later.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.shutdown import RETRY_AFTER_SECONDS, SHUTDOWN_GRACE
from storage.engine import create_engine, session_factory
from storage.models import Delivery
from storage.outbox import PENDING, SENDING, claim_next, enqueue, throttle
from tests.reliability import AAD, build_world
from tests.support import install_chat, message
from tests.test_reliability_crash import Server, crash_store

TEACHER_CHAT = "a:teacher-chat"


@dataclass
class SlowConnector:
    """A Bot Connector that holds every post until the test lets it through."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        async def post_activity(request: web.Request) -> web.Response:
            body = await request.json()
            self.arrived.set()
            await self.release.wait()
            self.posted.append({"to": request.match_info["conversation"], **body})
            return web.json_response({"id": f"reply-{len(self.posted)}"})

        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", post_activity)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply}", post_activity)
        return app


@asynccontextmanager
async def slow_connector() -> AsyncIterator[tuple[SlowConnector, str]]:
    connector = SlowConnector()
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield connector, str(server.make_url("/"))
    finally:
        connector.release.set()
        await server.close()


async def delivery(sessions: async_sessionmaker[AsyncSession], delivery_id: int) -> Delivery:
    async with sessions() as session:
        row = await session.scalar(select(Delivery).where(Delivery.id == delivery_id))
        assert row is not None
        return row


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_sigterm_finishes_the_turn_in_flight_and_leaves_no_claim(
    backend: str, tmp_path: Path
) -> None:
    async with crash_store(backend, tmp_path) as url, slow_connector() as (connector, teams):
        engine = create_engine(url)
        sessions = session_factory(engine)
        server = Server(url, tmp_path)
        try:
            world = await build_world(engine, sessions)
            trust, teacher = world.a.trust_id, world.a.people["teacher"]
            await install_chat(sessions, trust, teacher, teams, TEACHER_CHAT)
            now = datetime.now(UTC)
            async with sessions.begin() as session:
                await enqueue(
                    session,
                    trust_id=trust,
                    kind="notice",
                    period="shutdown-test",
                    recipient_id=teacher,
                    payload={"text": "A notice held by a throttle", "card": None},
                    now=now,
                )
                # Teams said 429 for an hour: the sender claims the row, then waits.
                await throttle(session, trust_id=trust, until=now + timedelta(hours=1))
                row_id = await session.scalar(select(Delivery.id))
            assert row_id is not None

            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client:
                await server.start(client)
                process = server.process
                assert process is not None
                async with asyncio.timeout(30):
                    while (await delivery(sessions, row_id)).status != SENDING:  # noqa: ASYNC110 (another process's row)
                        await asyncio.sleep(0.05)

                # A turn in flight: its reply waits in the slow connector.
                said = message(
                    "hello", user=AAD["teacher"], tenant=world.a.tenant, service_url=teams
                )
                turn = asyncio.create_task(client.post(f"{server.base}/api/messages", json=said))
                async with asyncio.timeout(30):
                    await connector.arrived.wait()

                process.terminate()
                signalled = time.monotonic()
                health = await refused_at_once(client, server)
                assert health == (503, {"status": "shutting down"}), server.tail()
                assert time.monotonic() - signalled < 2.0
                again = message(
                    "hello", user=AAD["teacher"], tenant=world.a.tenant, service_url=teams
                )
                async with client.post(f"{server.base}/api/messages", json=again) as response:
                    assert response.status == 503
                    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)

                # The claim is let go at once: due again, its attempt not counted.
                async with asyncio.timeout(5):
                    while (row := await delivery(sessions, row_id)).status != PENDING:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
                assert row.attempts == 0

                # The turn is still running, and so is the process.
                await asyncio.sleep(1.0)
                assert process.returncode is None and not turn.done()
                connector.release.set()
                response = await turn
                assert response.status in (200, 201), await response.text()
                assert [p["to"] for p in connector.posted] == ["a:personal-chat-1"]
                assert connector.posted[0].get("text") or connector.posted[0].get("attachments")

                async with asyncio.timeout(SHUTDOWN_GRACE):
                    code = await process.wait()
                assert code == 0, server.tail()
                server.process = None
                with pytest.raises((aiohttp.ClientError, OSError)):
                    await client.get(f"{server.base}/healthz")

            # Another sender claims the row straight away, not minutes later.
            claimed = await claim_next(sessions, now=datetime.now(UTC))
            assert claimed is not None and claimed.id == row_id
            assert claimed.attempts == 1
        finally:
            await server.kill()
            await engine.dispose()


async def refused_at_once(
    client: aiohttp.ClientSession, server: Server
) -> tuple[int, dict[str, Any]]:
    """The first health check after SIGTERM that is not "ok" (the signal takes a few
    milliseconds to arrive)."""
    async with asyncio.timeout(2):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with client.get(f"{server.base}/healthz") as response:
                    if response.status != 200:
                        return response.status, await response.json()
            await asyncio.sleep(0.01)
