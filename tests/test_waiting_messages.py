"""Messages that wait for their reader: a digest for someone who has not installed
Waypoint is delivered once when they do; blocked stays blocked; the report says which."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_waypoint, create_app
from bot.connector import Connector, TokenProvider
from bot.offloop import BlockingWorker
from bot.proactive import OutboxNotifier
from bot.scheduled.digests import compose_week
from bot.sender import OutboxSender
from bot.settings import Settings
from storage.conversations import save_reference
from storage.digests import SCHOOL_DIGEST, TRUST_DIGEST
from storage.models import Delivery, DigestRun, Trust
from storage.outbox import Message, enqueue_many
from storage.standards import REVIEW_REMINDER
from storage.waiting import (
    DIGEST_WAIT,
    REVIEW_REMINDER_KIND,
    SCHOOL_DIGEST_KIND,
    TRUST_DIGEST_KIND,
)
from tests.fake_teams import fake_teams
from tests.support import (
    BOT_ID,
    HEAD,
    TRUST_LEAD,
    add_person,
    card_text,
    cards_in,
    install_chat,
    loopback_connector,
    message,
    seed_trust,
    serve_waypoint,
)

SETTINGS = Settings(_env_file=None)
# A Thursday far from the real clock: the server's own sender (on the real clock) finds
# nothing due and expires nothing, so only the senders a test runs act.
NOW = datetime(2031, 1, 16, 9, 0, tzinfo=UTC)
NIA = "bbbbbbbb-0000-4000-8000-000000000001"  # installs after the digest is queued
BEA = "bbbbbbbb-0000-4000-8000-000000000002"  # blocked Waypoint (Teams answers 403)
FAY = "bbbbbbbb-0000-4000-8000-000000000003"  # Teams keeps failing
UNA = "bbbbbbbb-0000-4000-8000-000000000004"  # never installs


def test_the_kinds_the_bounds_name_are_the_kinds_queued() -> None:
    assert (TRUST_DIGEST_KIND, SCHOOL_DIGEST_KIND, REVIEW_REMINDER_KIND) == (
        TRUST_DIGEST,
        SCHOOL_DIGEST,
        REVIEW_REMINDER,
    )


def _install(user: str, url: str, *, kind: str = "installationUpdate") -> dict[str, Any]:
    """Teams' announcement that `user` installed Waypoint in their own chat."""
    body = message("", user=user, service_url=url, conversation_id=f"a:{user}")
    body.pop("text")
    if kind == "installationUpdate":
        body.update(type=kind, action="add")
    else:
        body.update(type=kind, membersAdded=[{"id": BOT_ID}])
    return body


async def _statuses(sessions: async_sessionmaker[AsyncSession], kind: str) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.recipient_id, Delivery.status, Delivery.last_error)
            .where(Delivery.kind == kind)
            .order_by(Delivery.id)
        )
        return {person: status for person, status, _ in rows}


def _report_facts(activities: list[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    [card] = cards_in(activities)
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    return card_text(card), facts


async def test_a_digest_waits_for_who_installs_later_and_blocked_stays_blocked(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    trust_id = seeded.trust_id
    async with sessions.begin() as session:
        people = {
            aad: await add_person(session, trust_id, aad, name, ["trust_lead"])
            for aad, name in (
                (NIA, "Nia New"),
                (BEA, "Bea Blocked"),
                (FAY, "Fay Failing"),
                (UNA, "Una Unreached"),
            )
        }
    people[TRUST_LEAD] = seeded.person_ids[TRUST_LEAD]
    async with (
        loopback_connector() as connector,
        fake_teams(gone={f"a:{BEA}"}, unavailable_share=1.0) as teams,
        serve_waypoint(engine, SETTINGS) as (client, waypoint),
    ):
        waypoint.bot.clock = lambda: NOW
        await install_chat(sessions, trust_id, people[TRUST_LEAD], connector.url, "a:lead")
        await install_chat(sessions, trust_id, people[BEA], teams.url, f"a:{BEA}")
        await install_chat(sessions, trust_id, people[FAY], teams.url, f"a:{FAY}")
        await compose_week(sessions, trust_id=trust_id, now=NOW)
        queued = await _statuses(sessions, TRUST_DIGEST)
        assert queued[people[NIA]] == queued[people[UNA]] == "waiting"
        assert queued[people[TRUST_LEAD]] == "pending"
        # One attempt each: Teams' 503 for Fay ends as "failed" at once.
        sender = OutboxSender(sessions, waypoint.connector, clock=lambda: NOW, max_attempts=1)
        outbox = OutboxNotifier(sessions, sender, clock=lambda: NOW)
        await outbox.drain()
        assert len(connector.posted) == 1  # the trust lead's; nobody waiting was claimed

        # Nia installs: Teams announces it twice. Her digest is sent once.
        for kind in ("installationUpdate", "conversationUpdate"):
            response = await client.post(
                "/api/messages", json=_install(NIA, connector.url, kind=kind)
            )
            assert response.status in (200, 201)
            await outbox.drain()
        await outbox.drain()
        report = await client.post(
            "/api/messages", json=message("digest report", user=TRUST_LEAD, expect_replies=True)
        )
        shown, facts = _report_facts((await report.json())["activities"])

        # A week on, the digest still waiting for Una has expired.
        later = OutboxSender(sessions, waypoint.connector, clock=lambda: NOW + DIGEST_WAIT)
        await later.run_once()
        waypoint.bot.clock = lambda: NOW + DIGEST_WAIT
        expired = await client.post(
            "/api/messages", json=message("digest report", user=TRUST_LEAD, expect_replies=True)
        )
        after, after_facts = _report_facts((await expired.json())["activities"])

    # Proactive posts (the welcome card is a reply to the install, posted beside them).
    to_nia = [
        p
        for p in connector.posted
        if p["conversation"] == f"a:{NIA}" and p["path"].endswith("/activities")
    ]
    assert len(to_nia) == 1
    assert "Weekly digest — Test Trust" in card_text(cards_in([to_nia[0]["activity"]])[0])
    # Blocked: asked once, never again, and never delivered.
    assert teams.requests_to[f"a:{BEA}"] == 1 and not teams.received
    final = await _statuses(sessions, TRUST_DIGEST)
    assert final == {
        people[TRUST_LEAD]: "sent",
        people[NIA]: "sent",
        people[BEA]: "gone",
        people[FAY]: "failed",
        people[UNA]: "expired",
    }
    assert "Trust digest 2031-W03: 5 recipients" in shown
    assert shown.count("Trust digest 2031-W03") == 1
    assert facts == {
        "Delivered": "2",
        "Not installed yet": "1: Una Unreached",
        "Blocked or removed": "1: Bea Blocked",
        "Failed": "1: Fay Failing",
    }
    # The trust lead reading the report got hers: she is nowhere but "Delivered".
    assert "Tess Lead" not in shown and "Nia New" not in shown
    assert "sent when they open Waypoint" in shown
    assert after_facts["Not installed yet"] == "0"
    assert after_facts["Expired: never installed"] == "1: Una Unreached"
    async with sessions() as session:
        reason = await session.scalar(
            select(Delivery.last_error).where(
                Delivery.kind == TRUST_DIGEST, Delivery.recipient_id == people[UNA]
            )
        )
    assert reason == "never installed"
    assert "sent when they open Waypoint" not in after


async def test_only_the_latest_digest_waits_and_is_delivered_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    lead = seeded.person_ids[TRUST_LEAD]
    async with sessions.begin() as session:
        for week, when in (("2031-W02", NOW - timedelta(days=7)), ("2031-W03", NOW)):
            await enqueue_many(
                session,
                trust_id=seeded.trust_id,
                messages=[Message(TRUST_DIGEST, week, lead, {"text": f"digest {week}"})],
                now=when,
                latest_only=True,
            )
    async with fake_teams() as teams:
        # Installed (as `waypoint serve` would record it) only now.
        async with sessions.begin() as session:
            await save_reference(
                session,
                trust_id=seeded.trust_id,
                person_id=lead,
                conversation_id="a:lead",
                conversation_type="personal",
                channel_id="msteams",
                service_url=teams.url,
                bot_id=BOT_ID,
                reference={},
                now=NOW,
            )
        connector = Connector(TokenProvider(SETTINGS, BlockingWorker("test-tokens")))
        sender = OutboxSender(sessions, connector, clock=lambda: NOW)
        try:
            await OutboxNotifier(sessions, sender, clock=lambda: NOW).drain()
        finally:
            await connector.close()
    assert dict(teams.received) == {"digest 2031-W03": 1}
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.period, Delivery.status, Delivery.last_error).order_by(
                    Delivery.period
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("2031-W02", "expired", "replaced by a newer one"),
        ("2031-W03", "sent", None),
    ]


async def test_serve_on_a_new_store_sends_no_digest_to_people_who_never_installed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    async with sessions.begin() as session:
        trust = await session.get(Trust, seeded.trust_id)
        assert trust is not None
        # Due from the start of this week whatever day the test runs.
        trust.digest_weekday, trust.digest_time = 0, "00:00"
    async with loopback_connector() as connector:
        await install_chat(
            sessions, seeded.trust_id, seeded.person_ids[TRUST_LEAD], connector.url, "a:lead"
        )
        waypoint = build_waypoint(SETTINGS, engine=engine)
        waypoint.scheduler = True  # as `waypoint serve` starts
        app = create_app(waypoint)
        app.on_cleanup.clear()
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        try:
            for _ in range(100):
                async with sessions() as session:
                    if await session.scalar(select(DigestRun.id)) is not None:
                        break
                await asyncio.sleep(0.05)
            await waypoint.notifier.drain()
        finally:
            await client.close()
            await waypoint.connector.close()
            waypoint.worker.stop()
    # Only the trust lead, who installed Waypoint, was sent anything.
    assert [p["conversation"] for p in connector.posted] == ["a:lead"]
    head = seeded.person_ids[HEAD]
    assert (await _statuses(sessions, SCHOOL_DIGEST))[head] == "waiting"
    assert (await _statuses(sessions, TRUST_DIGEST)) == {seeded.person_ids[TRUST_LEAD]: "sent"}
