"""Crash safety: form submissions over HTTP while `waypoint serve` is killed and restarted.

A real `waypoint serve` process, on a SQLite file and on PostgreSQL (a schema of
the test's own), takes coaching.save submissions from several clients at once
while the test kills it with SIGKILL at random moments and starts it again. Then:
- every submission that got a success answer is stored exactly once;
- nothing is half-stored: each stored session holds exactly what was submitted,
  and the coachee's notice was queued with it (one delivery row, no more, no less);
- each submission left without an answer, sent again after the last restart, is
  stored once; among them some that had been stored before their resend (every
  fifth client gives up waiting for its answer, as Teams does when an answer is
  slow, so its submission is stored unanswered), which "stored once" is about.

Also, in process and always: a failure between storing a record and queueing its
notice leaves neither (the notice joins the record's transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.engine import create_engine, session_factory
from storage.migrate import upgrade_sync
from storage.models import CoachingSession, Delivery
from tests.conftest import POSTGRES_URL, _postgres_problem
from tests.reliability import AAD, World, answer_of, build_world, coaching_form, invoke, served

WAYPOINT = str(Path(sys.executable).with_name("waypoint"))
SUBMISSIONS = 500
CLIENTS = 6
MAX_KILLS = 25
# Seconds the server stays up between kills: short enough to land mid-request.
UPTIME = (0.05, 0.8)
BUDGET = 480.0
# Times a resend with no answer at all is sent again after the last restart.
RESENDS = 4
SAVED = ("Coaching session saved", "Already saved")
# Every IMPATIENT-th submission gives up on its answer at once, after sending it.
IMPATIENT = 5
GIVE_UP = aiohttp.ClientTimeout(total=15, sock_read=0.001)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def crash_store(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty store of the test's own: its URL as `waypoint serve` takes it."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.db'}"
        await asyncio.to_thread(upgrade_sync, url)
        yield url
        return
    problem = await _postgres_problem(POSTGRES_URL)
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL for the crash test: {problem}")
        pytest.skip(problem)
    schema = f"wp_crash_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'create schema "{schema}"'))
        await asyncio.to_thread(upgrade_sync, POSTGRES_URL, schema)
        joiner = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{joiner}options=-csearch_path%3D{schema}"
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'drop schema if exists "{schema}" cascade'))
        await admin.dispose()


class Server:
    """`waypoint serve` in a process of its own, to be killed without warning."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(workdir),
            "WAYPOINT_DATABASE_URL": url,
            "WAYPOINT_PORT": str(self.port),
            "WAYPOINT_LOG_LEVEL": "WARNING",
            "WAYPOINT_DIGEST_SCHEDULER": "false",
            # Several of these may run at once: none takes the metrics port.
            "WAYPOINT_METRICS_PORT": "0",
        }
        self.workdir = workdir
        self.log = workdir / "serve.log"
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, client: aiohttp.ClientSession) -> None:
        with self.log.open("ab") as log:
            # No .env of the repository: the process sees only the settings above.
            self.process = await asyncio.create_subprocess_exec(
                WAYPOINT, "serve", cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        self.starts += 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"waypoint serve exited: {self.tail()}")
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                async with client.get(f"{self.base}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise AssertionError(f"waypoint serve did not answer in 30 s: {self.tail()}")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        self.process = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@dataclass
class Tally:
    answered: set[str] = field(default_factory=set)
    unanswered: set[str] = field(default_factory=set)
    other: list[str] = field(default_factory=list)
    kills: int = 0


async def submit(
    client: aiohttp.ClientSession,
    server: Server,
    body: dict[str, Any],
    *,
    impatient: bool = False,
) -> str | None:
    """The answer's text if the submission got one (any), else None. An impatient
    client sends the whole request and then does not wait for the answer."""
    timeout = GIVE_UP if impatient else client.timeout
    try:
        async with client.post(
            f"{server.base}/api/messages", json=body, timeout=timeout
        ) as response:
            answer = await answer_of(response)
    except (TimeoutError, aiohttp.ClientError, OSError):
        return None
    if answer.status != 200:
        return f"HTTP {answer.status}"
    return answer.shown


def is_saved(shown: str | None) -> bool:
    return shown is not None and any(word in shown for word in SAVED)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_submissions_survive_sigkill_stored_once_none_half_stored(
    backend: str, tmp_path: Path
) -> None:
    async with crash_store(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            await run_crash(engine, url, tmp_path, backend)
        finally:
            await engine.dispose()


async def run_crash(engine: AsyncEngine, url: str, tmp_path: Path, backend: str) -> None:
    sessions = session_factory(engine)
    world = await build_world(engine, sessions)
    # The server runs on the real clock: a session is logged for today.
    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    forms = {
        data["form_id"]: data
        for n in range(SUBMISSIONS)
        for data in [coaching_form(world.a, action_step=f"Crash-safe step {n:04d}", held_on=today)]
    }
    bodies = {
        key: invoke("coaching.save", data, user=AAD["coach"], tenant=world.a.tenant)
        for key, data in forms.items()
    }
    server = Server(url, tmp_path)
    tally = Tally()
    up = asyncio.Event()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in bodies:
        queue.put_nowait(key)
    impatient = set(list(bodies)[::IMPATIENT])
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as client:
        try:
            async with asyncio.timeout(BUDGET):
                await server.start(client)
                up.set()

                async def worker() -> None:
                    while True:
                        try:
                            key = queue.get_nowait()
                        except asyncio.QueueEmpty:
                            return
                        await up.wait()
                        shown = await submit(
                            client, server, bodies[key], impatient=key in impatient
                        )
                        if is_saved(shown):
                            tally.answered.add(key)
                        else:
                            tally.unanswered.add(key)
                            if shown is not None:
                                tally.other.append(shown[:200])

                done = asyncio.Event()

                async def killer() -> None:
                    rng = random.Random()
                    while tally.kills < MAX_KILLS and not queue.empty():
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(done.wait(), rng.uniform(*UPTIME))
                        if done.is_set():
                            return
                        up.clear()
                        await server.kill()
                        tally.kills += 1
                        await server.start(client)
                        up.set()

                workers = [asyncio.create_task(worker()) for _ in range(CLIENTS)]
                chaos = asyncio.create_task(killer())
                await asyncio.gather(*workers)
                # The killer finishes its cycle rather than being cancelled mid-restart: a
                # process still starting refuses connections, which would read as
                # submissions left unanswered.
                done.set()
                await chaos
                if server.process is None:
                    await server.start(client)
                up.set()

                # Every success answered is stored once, and nothing is half-stored.
                stored = await stored_sessions(sessions, world)
                assert tally.answered <= set(stored), "a submission answered as saved was lost"
                check_whole(stored, forms)
                await check_notices(sessions, world, stored)

                # Sent again after the last restart, each unanswered one is stored once. The
                # resends go as the clients sent them (CLIENTS at a time), and one still
                # without an answer is sent again, as Teams would: on a slow machine a burst
                # of them can outlast the client's timeout, and resending is what is proven.
                resent = list(tally.unanswered)
                # Resent after having been stored: what "resent, stored once" is about
                # (a resend of something never stored proves only that it is stored).
                stored_before = set(resent) & set(stored)
                assert stored_before, "no resent submission had been stored: proves little"
                gate = asyncio.Semaphore(CLIENTS)

                async def resend(key: str) -> str | None:
                    async with gate:
                        for _ in range(RESENDS):
                            shown = await submit(client, server, bodies[key])
                            if shown is not None:
                                return shown
                        return None

                again = await asyncio.gather(*(resend(k) for k in resent))
                assert all(is_saved(shown) for shown in again), [
                    s for s in again if not is_saved(s)
                ] + [server.tail()]
                stored = await stored_sessions(sessions, world)
                assert set(stored) == set(forms), "a submission was lost"
                check_whole(stored, forms)
                await check_notices(sessions, world, stored)
        finally:
            await server.kill()
    print(
        f"\ncrash safety on {backend}: {SUBMISSIONS} submissions, {tally.kills} SIGKILLs, "
        f"{server.starts} starts; {len(tally.answered)} answered as saved, "
        f"{len(tally.unanswered)} without an answer ({len(tally.other)} other answers), "
        f"all resent, {len(stored_before)} of them stored before their resend; "
        f"{len(stored)} stored, lost 0, duplicated 0"
    )
    assert tally.kills >= 3, "the server was hardly killed: the test proved little"


async def stored_sessions(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> dict[str, list[CoachingSession]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(CoachingSession).where(CoachingSession.trust_id == world.a.trust_id)
        )
        found: dict[str, list[CoachingSession]] = {}
        for row in rows:
            found.setdefault(row.form_id, []).append(row)
    # The world's own seeded sessions are not the test's.
    return {key: rows for key, rows in found.items() if key not in world.a.forms.values()}


def check_whole(stored: dict[str, list[CoachingSession]], forms: dict[str, dict[str, Any]]) -> None:
    for key, rows in stored.items():
        assert key in forms, f"a session nobody submitted: {key}"
        assert len(rows) == 1, f"{key} stored {len(rows)} times"
        row, sent = rows[0], forms[key]
        assert (row.action_step, str(row.coachee_id), str(row.strand_id), row.status) == (
            sent["action_step"],
            sent["coachee"],
            sent["strand"],
            sent["status"],
        ), f"{key} is not what was submitted"
        assert row.held_on.isoformat() == sent["held_on"]


async def check_notices(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    stored: dict[str, list[CoachingSession]],
) -> None:
    """One queued notice per stored session, holding its action step: none lost, none twice."""
    async with sessions() as session:
        payloads = [
            json.dumps(p)
            for p in await session.scalars(
                select(Delivery.payload).where(
                    Delivery.trust_id == world.a.trust_id,
                    Delivery.recipient_id == world.a.people["teacher"],
                )
            )
        ]
    for rows in stored.values():
        step = rows[0].action_step
        found = sum(step in payload for payload in payloads)
        assert found == 1, f"the notice of “{step}” was queued {found} times"
    # And no notice of anything not stored: one queued a stored session, in all.
    assert len(payloads) == len(stored), (len(payloads), len(stored))


async def test_a_failure_between_a_record_and_its_notice_keeps_neither(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build_world(engine, sessions)
    data = coaching_form(world.a, action_step="Atomic step")
    body = invoke("coaching.save", data, user=AAD["coach"], tenant=world.a.tenant)

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionResetError("the process died here")

    async with served(world):
        monkeypatch.setattr("bot.proactive.enqueue", crash)
        first = await world.post(body)
        assert "Coaching session saved" not in first.shown
        assert not await stored_sessions(sessions, world), "the record outlived its notice"
        monkeypatch.undo()
        second = await world.post(body)
        assert "Coaching session saved" in second.shown
        stored = await stored_sessions(sessions, world)
        assert list(stored) == [data["form_id"]]
        await check_notices(sessions, world, stored)
