"""3. Delivery: digests sent by the outbox to a connector that enforces Teams' limits.

1,000 digest deliveries (500 people, each with a trust digest and a school digest,
so that per-conversation order and limits matter) are queued with
storage.outbox.enqueue, then sent by bot.sender.OutboxSender to tests/fake_teams.py's
FakeTeams, which answers 429 to anything over the tenant rate or Teams'
per-conversation limits. The sender runs with tenant_rate = the enforced rate.
Baseline: the enforced rate itself. Checked: every delivery sent, each received
exactly once, no limit broken.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.procs import Server, free_port, python_server, serve
from bench.results import Figure, Results
from bench.stores import STORES, StoreMissing, migrated_store
from bot.connector import Connector, TokenProvider
from bot.offloop import BlockingWorker
from bot.sender import OutboxSender
from bot.settings import Settings
from cards.render import render_card
from storage.engine import session_factory
from storage.models import ConversationRef, Delivery, Person, Trust
from storage.outbox import enqueue

SECTION = "delivery"
KINDS = ("trust_digest", "school_digest")
PERIOD = "2026-W47"


@dataclass(frozen=True)
class DeliverySizes:
    people: int
    # Enforced tenant rates (msg/s), each a run of its own on each store.
    rates: tuple[float, ...]
    # The send must be over by then, or the run counts as failed.
    within_s: float


# 30/s: Teams' documented rate per app per tenant and the sender's default; 100/s
# asks more of the sender than Teams ever would.
FULL = DeliverySizes(people=500, rates=(30.0, 100.0), within_s=180)
SMOKE = DeliverySizes(people=10, rates=(100.0,), within_s=30)


async def queue_digests(
    sessions: async_sessionmaker[AsyncSession], teams_url: str, people: int
) -> int:
    """A trust whose people installed Waypoint, with this week's digests queued for each."""
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        trust = Trust(tenant_id="bench-delivery", name="Benchmark Trust")
        session.add(trust)
        await session.flush()
        ids = list(
            await session.scalars(
                insert(Person).returning(Person.id),
                [
                    {
                        "trust_id": trust.id,
                        "aad_object_id": f"bench-{n}",
                        "email": f"person{n}@bench.example",
                        "display_name": f"Person {n:04d}",
                    }
                    for n in range(people)
                ],
            )
        )
        await session.execute(
            insert(ConversationRef),
            [
                {
                    "trust_id": trust.id,
                    "person_id": person_id,
                    "conversation_id": f"a:bench-{person_id}",
                    "conversation_type": "personal",
                    "channel_id": "msteams",
                    "service_url": teams_url,
                    "bot_id": "28:waypoint",
                    "reference": {},
                }
                for person_id in ids
            ],
        )
        queued = 0
        for person_id in ids:
            for kind in KINDS:
                card = render_card(
                    "notice",
                    title=f"Your {kind.replace('_', ' ')} for {PERIOD}",
                    text="Coaching coverage, QA compliance, attendance concerns and actions "
                    "across your schools this week.",
                    facts=[("Schools", "200"), ("Coached in 2 weeks", "64%")],
                    buttons=[],
                )
                queued += await enqueue(
                    session,
                    trust_id=trust.id,
                    kind=kind,
                    period=PERIOD,
                    recipient_id=person_id,
                    # The text is unique, so the fake connector can tell a repeat.
                    payload={"text": f"{kind} {person_id}", "card": card},
                    now=now,
                )
    return queued


async def _statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return {status: int(count) for status, count in rows}


def _teams_stats(teams: Server) -> dict[str, Any]:
    with urllib.request.urlopen(teams.url + "/stats", timeout=10) as response:
        stats: dict[str, Any] = json.load(response)
        return stats


async def deliver(
    store: str, work: Path, sizes: DeliverySizes, rate: float, teams: Server
) -> Figure:
    async with migrated_store(store, work, "delivery") as engine:
        sessions = session_factory(engine)
        before = _teams_stats(teams)
        queued = await queue_digests(sessions, teams.url + "/", sizes.people)
        worker = BlockingWorker("bench-tokens")
        connector = Connector(TokenProvider(Settings(_env_file=None), worker))
        sender = OutboxSender(sessions, connector, tenant_rate=rate)
        started = time.perf_counter()
        runs = 0
        try:
            async with asyncio.timeout(sizes.within_s):
                while True:
                    runs += 1
                    await sender.run_once()
                    statuses = await _statuses(sessions)
                    if not statuses.get("pending") and not statuses.get("sending"):
                        break
                    # A 429 is retried after its Retry-After: wait for it to come due.
                    await asyncio.sleep(0.05)
        finally:
            await connector.close()
            worker.stop()
        elapsed = time.perf_counter() - started
    after = _teams_stats(teams)
    received = Counter(after["received"]) - Counter(before["received"])
    violations = after["violations"][len(before["violations"]) :]
    sent = statuses.get("sent", 0)
    twice = sum(1 for count in received.values() if count > 1)
    achieved = sent / elapsed
    lost = queued - len(received)
    ok = sent == queued and lost == 0 and twice == 0 and not violations
    return Figure(
        SECTION,
        f"{queued:,} digests at {rate:g}/s enforced, {store}",
        achieved,
        "msg/s",
        "enforced tenant rate",
        rate,
        target="≥ 0.9 × enforced; none lost or twice",
        met=ok and achieved >= 0.9 * rate,
        note=f"lost {lost}, twice {twice}, over the limits {len(violations)}",
        detail={
            "queued": queued,
            "statuses": statuses,
            "seconds": round(elapsed, 2),
            "sender_runs": runs,
            "received": len(received),
            "violations": violations[:10],
        },
    )


def run_delivery(results: Results, work: Path, sizes: DeliverySizes) -> None:
    for rate in sizes.rates:
        port = free_port()
        command = [*python_server("fake-teams", port), "--tenant-rate", str(rate)]
        with serve(f"fake-teams-{rate:g}", command, port=port, log_dir=work) as teams:
            for store in STORES:
                try:
                    figure = asyncio.run(
                        deliver(store, work / f"{store}-{rate:g}", sizes, rate, teams)
                    )
                except StoreMissing as missing:
                    results.notes.append(f"delivery on {store} not run: {missing}")
                    continue
                results.add(figure)
