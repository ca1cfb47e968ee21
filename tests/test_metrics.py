"""GET /metrics: what an operator's Prometheus reads, on its own loopback port only."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.logs import JsonFormatter, correlation_id
from bot.metrics import serve_metrics_beside
from bot.settings import Settings
from storage.outbox import SENT, enqueue, throttle
from tests.support import (
    HEAD,
    SUBJECT_LEAD,
    TEACHER,
    Served,
    loopback_connector,
    message,
    seed_trust,
    serve,
    texts,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(exposition: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def turns(scraped: Samples, kind: str, outcome: str) -> float:
    return scraped.get(("waypoint_turns_total", (("outcome", outcome), ("type", kind))), 0.0)


def outbox(scraped: Samples, state: str) -> float | None:
    return scraped.get(("waypoint_outbox_rows", (("state", state),)))


async def scrape(world: Served) -> Samples:
    """/metrics as the metrics port answers it."""
    body = await world.waypoint.metrics.scrape(world.waypoint.sessions)
    return samples(body.decode())


async def test_turns_are_counted_by_type_and_outcome_and_timed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    async with serve(engine, sessions, seeded) as world:
        before = await scrape(world)
        assert turns(before, "message", "answered") == 0
        await world.say("help", HEAD)
        answer = await world.execute("run", {"command": "help"}, HEAD)
        assert answer["statusCode"] == 200
        once = message("help", user=HEAD, expect_replies=True, activity_id="dup-metrics-1")
        assert await world.replies(once)
        # Teams sends it again: nothing is answered twice, and it is counted as such.
        assert await world.replies(once) == []
        refused = await world.say("my actions", TEACHER)
        assert "You don't have access" in texts(refused)
        after = await scrape(world)
    assert turns(after, "message", "answered") == 2
    assert turns(after, "invoke", "answered") == 1
    assert turns(after, "message", "redelivered") == 1
    assert turns(after, "message", "refused") == 1
    assert turns(after, "message", "error") == 0
    observed = after[("waypoint_turn_seconds_count", (("type", "message"),))]
    assert observed == 4
    assert after[("waypoint_turn_seconds_count", (("type", "invoke"),))] == 1
    assert after[("waypoint_turn_seconds_sum", (("type", "message"),))] > 0
    # Every turn was within the last bucket's 15 s.
    assert after[("waypoint_turn_seconds_bucket", (("le", "15.0"), ("type", "message")))] == 4


async def test_outbox_rows_by_state_deliveries_and_the_throttle_wait(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    async with loopback_connector() as connector, serve(engine, sessions, seeded) as world:
        await world.install_chat(HEAD, connector.url)
        now = datetime.now(UTC)
        async with sessions.begin() as session:
            # Teams said 429 a moment ago: every sender of the trust waits it out.
            await throttle(session, trust_id=world.trust_id, until=now + timedelta(seconds=2))
            for user in (HEAD, SUBJECT_LEAD):  # the subject lead has not installed Waypoint
                await enqueue(
                    session,
                    trust_id=world.trust_id,
                    kind="notice",
                    period="2026-W47",
                    recipient_id=world.people[user],
                    payload={"text": "A notice"},
                    now=now,
                )
        queued = await scrape(world)
        assert outbox(queued, "waiting") == 1
        assert (outbox(queued, "pending") or 0) + (outbox(queued, "sending") or 0) == 1
        assert outbox(queued, "failed") == 0  # every state is shown, at 0 too
        world.waypoint.notifier.wake_sender()
        waits: list[float] = []
        async with asyncio.timeout(20):
            while not connector.posted:
                waits.append((await scrape(world))[("waypoint_throttle_wait_seconds", ())])
                await asyncio.sleep(0.1)
            while True:
                sent = await scrape(world)
                if outbox(sent, SENT) == 1:
                    break
                await asyncio.sleep(0.05)
    assert max(waits) > 0.5, waits
    assert sent[("waypoint_throttle_wait_seconds", ())] == 0
    assert outbox(sent, "waiting") == 1 and outbox(sent, "pending") == 0
    assert sent[("waypoint_deliveries_total", (("outcome", "sent"),))] == 1
    assert sent[("waypoint_deliveries_total", (("outcome", "retried"),))] == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _outward_address() -> str | None:
    """This machine's address on its network (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_metrics_are_served_on_their_own_loopback_port_and_not_on_the_public_one(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    defaults = Settings(_env_file=None)
    assert (defaults.metrics_host, defaults.metrics_port) == ("127.0.0.1", 9464)
    seeded = await seed_trust(sessions)
    port = _free_port()
    async with serve(engine, sessions, seeded) as world:
        # What `waypoint serve` does, beside an app of its own (the harness's is running).
        beside = web.Application()
        serve_metrics_beside(
            beside,
            world.waypoint.metrics,
            world.waypoint.sessions,
            host=defaults.metrics_host,
            port=port,
        )
        server = TestServer(beside, host="127.0.0.1")
        await server.start_server()
        try:
            await world.say("help", HEAD)
            # The port Teams posts to has no /metrics.
            assert (await world.client.get("/metrics")).status == 404
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"].startswith("text/plain")
                    scraped = samples(await response.text())
                outward = _outward_address()
                if outward is not None:
                    # From anywhere but this machine the port is not there at all.
                    try:
                        async with http.get(
                            f"http://{outward}:{port}/metrics",
                            timeout=aiohttp.ClientTimeout(total=3),
                        ) as refused:
                            raise AssertionError(f"served off loopback: {refused.status}")
                    except (aiohttp.ClientConnectionError, TimeoutError):
                        pass
        finally:
            await server.close()
    assert turns(scraped, "message", "answered") == 1


def test_each_waypoint_counts_in_a_registry_of_its_own() -> None:
    from bot.metrics import Metrics

    one, other = Metrics(), Metrics()
    one.delivered("sent")
    one.delivered("throttled")
    assert one.deliveries.labels("sent")._value.get() == 1
    assert one.deliveries.labels("retried")._value.get() == 1
    assert other.deliveries.labels("sent")._value.get() == 0


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def _json_lines() -> Iterator[_Lines]:
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_json_log_lines_of_a_turn_carry_its_correlation_id_and_no_content(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    typed = "help zebra-quartz-9931"
    card_value = "kestrel-umber-4410"
    activity_id = "1700000000777777"
    with _json_lines() as lines:
        async with serve(engine, sessions, seeded) as world:
            said = message(typed, user=HEAD, expect_replies=True, activity_id=activity_id)
            await world.replies(said)
            await world.replies(said)  # redelivered: the same id, the same correlation
            await world.submit({"verb": "no-such-verb", "note": card_value}, HEAD)
    entries = [json.loads(line) for line in lines.lines]
    ours = correlation_id(activity_id)
    assert [
        e["message"].rsplit(" ms=", 1)[0]
        for e in entries
        if e.get("turn") == ours and e["message"].startswith("turn type=")
    ] == ["turn type=message outcome=answered", "turn type=message outcome=redelivered"]
    # Every turn's lines carry its id; lines between turns carry none.
    turn_ends = [e for e in entries if e["message"].startswith("turn type=")]
    assert len(turn_ends) == 3 and all(e.get("turn") for e in turn_ends)
    assert turn_ends[2]["turn"] != ours
    # The id is a hash of the activity's id: neither it nor who sent it is shown.
    joined = "\n".join(lines.lines)
    for content in (typed, "zebra", card_value, activity_id, HEAD):
        assert content not in joined, content
