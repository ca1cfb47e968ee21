"""Digests: right figures on a seeded trust, once per week, within Teams' size, counts only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.proactive import OutboxNotifier
from bot.scheduled.digests import compose_week
from bot.scheduler import digest_due, tick
from bot.sender import OutboxSender
from bot.settings import Settings
from dialogs.digest_cards import trust_digest_card
from storage.coaching.sessions import SessionDetails, record_coaching_session
from storage.digests import trust_position
from storage.frameworks import install_framework, load_preset
from storage.models import (
    AttendanceConcern,
    Category,
    CoachingStrand,
    Delivery,
    DigestRun,
    Person,
    PersonRole,
    School,
    SchoolAction,
    SchoolCategorisation,
    Trust,
)
from storage.strands import set_strands
from tests.support import (
    HEAD,
    TEACHER,
    TRUST_LEAD,
    Seeded,
    card_text,
    cards_in,
    execute,
    install_chat,
    loopback_connector,
    message,
    seed_trust,
    serve_waypoint,
)

# Thursday in the last weeks of the autumn term (it ends Friday 18 December).
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
SETTINGS = Settings(_env_file=None)
PUPIL = "MIS4471"


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> Seeded:
    """Oakfield: Recovery, one red and one overdue action, every teacher coached, a new
    severe-absence concern. St Mary's: Refinement, its History QA missing, nobody coached."""
    seeded = await seed_trust(sessions)
    oakfield, st_marys = seeded.school_ids["100001"], seeded.school_ids["100002"]
    async with sessions.begin() as session:
        await install_framework(
            session, trust_id=seeded.trust_id, spec=load_preset("five-categories")
        )
        categories = {c.name: c for c in await session.scalars(select(Category))}
        for school_id, name in ((oakfield, "Recovery"), (st_marys, "Refinement")):
            session.add(
                SchoolCategorisation(
                    trust_id=seeded.trust_id,
                    school_id=school_id,
                    category_id=categories[name].id,
                    category_name=name,
                    decided_on=date(2026, 7, 9),
                    recorded_at=datetime(2026, 7, 9, tzinfo=UTC),
                )
            )
        session.add_all(
            [
                SchoolAction(
                    trust_id=seeded.trust_id,
                    school_id=oakfield,
                    description="Secret plan one",
                    due_on=TODAY - timedelta(days=1),
                ),
                SchoolAction(
                    trust_id=seeded.trust_id,
                    school_id=oakfield,
                    rag="red",
                    description="Secret plan two",
                    due_on=TODAY + timedelta(days=7),
                ),
                SchoolAction(
                    trust_id=seeded.trust_id,
                    school_id=st_marys,
                    status="done",
                    description="Done plan",
                    due_on=TODAY - timedelta(days=30),
                ),
            ]
        )
        await set_strands(session, trust_id=seeded.trust_id, names=["Oracy"])
        await session.flush()
        strand_id = int(await session.scalar(select(CoachingStrand.id)) or 0)
        await record_coaching_session(
            session,
            trust_id=seeded.trust_id,
            coach_id=seeded.person_ids[HEAD],
            form_id="a" * 32,
            details=SessionDetails(
                coachee_id=seeded.person_ids[TEACHER],
                school_id=oakfield,
                held_on=TODAY - timedelta(days=3),
                strand_id=strand_id,
                status="held",
                action_step="Secret step",
                notes="Secret note",
                next_session_on=None,
            ),
            logged_at=NOW - timedelta(days=3),
        )
        session.add(
            AttendanceConcern(
                trust_id=seeded.trust_id,
                school_id=oakfield,
                pupil_ref=PUPIL,
                year_group="Y8",
                attendance_percent=Decimal("45.0"),
                unauthorised_sessions_10_weeks=12,
                concern_type="severe_absence",
                vulnerable=["ehcp"],
                done_so_far="Secret history",
                stage="monitor",
                persistent_absence=True,
                severe_absence=True,
                consider_penalty_notice=True,
                form_id="b" * 32,
                raised_at=NOW - timedelta(days=2),
            )
        )
    return seeded


async def test_the_trust_position_is_right_on_a_seeded_trust(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seed(sessions)
    async with sessions() as session:
        position = await trust_position(session, trust_id=seeded.trust_id, today=TODAY)
    schools = {s.name: s for s in position.schools}
    oakfield, st_marys = schools["Oakfield Primary"], schools["St Mary's C of E"]
    # A red-rated action is in the school's figures, not a reason of its own.
    assert oakfield.reasons == [
        "Recovery category",
        "1 overdue action",
        "1 new severe-absence concern",
    ]
    assert (oakfield.open_actions, oakfield.overdue_actions, oakfield.red_actions) == (2, 1, 1)
    assert (oakfield.coached_2_weeks, oakfield.coached_6_weeks) == (100, 100)
    assert (oakfield.open_concerns, oakfield.persistent, oakfield.severe) == (1, 1, 1)
    # A QA summary still to come is not a reason; coaching well below the target is.
    assert st_marys.reasons == ["coaching 0% in 6 weeks (target 80%)"]
    assert (st_marys.qa_expected, st_marys.qa_submitted, st_marys.qa_missing) == (1, 0, ["History"])
    assert st_marys.open_actions == 0
    assert position.qa_term == "Autumn term 2026-27" and position.qa_in_last_weeks
    assert ("Recovery", 1) in position.distribution and ("Refinement", 1) in position.distribution
    assert [s.name for s in position.attention_first()] == ["Oakfield Primary", "St Mary's C of E"]


async def test_the_trust_digest_card_shows_counts_never_content(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seed(sessions)
    async with sessions() as session:
        position = await trust_position(session, trust_id=seeded.trust_id, today=TODAY)
    card = trust_digest_card(position)
    text = json.dumps(card)
    shown = card_text(card)
    assert "Needs attention (2)" in shown
    assert "1 open across the trust: 1 persistent absence, 1 severe absence." in shown
    [chart] = [item for item in card["body"] if item["type"] == "Chart.HorizontalBar"]
    assert {"x": "Recovery", "y": 1, "color": "categoricalMarigold"} in chart["data"]
    assert chart["fallback"]["type"] == "FactSet"
    assert {"title": "Recovery", "value": "1"} in chart["fallback"]["facts"]
    for secret in (PUPIL, "Secret", "ehcp"):
        assert secret not in text


async def test_composing_the_week_twice_queues_each_digest_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seed(sessions)
    first = await compose_week(sessions, trust_id=seeded.trust_id, now=NOW)
    again = await compose_week(sessions, trust_id=seeded.trust_id, now=NOW + timedelta(hours=1))
    # One trust lead; one head (of Oakfield).
    assert (first.composed, first.queued) == (True, 2)
    assert (again.composed, again.queued) == (False, 0)
    async with sessions() as session:
        kinds = sorted((await session.scalars(select(Delivery.kind))).all())
        runs = await session.scalar(select(func.count()).select_from(DigestRun))
    assert kinds == ["school_digest", "trust_digest"] and runs == 1


async def test_the_weeks_digests_are_queued_in_one_insert(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The statements a composition takes don't grow with the trust (bench/README.md)."""
    seeded = await _seed(sessions)
    inserts: list[str] = []

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("INSERT INTO DELIVERY"):
            inserts.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        run = await compose_week(sessions, trust_id=seeded.trust_id, now=NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert run.queued == 2 and len(inserts) == 1
    async with sessions() as session:
        queued = (await session.execute(select(Delivery.kind, Delivery.period))).all()
    assert sorted(queued) == [
        ("school_digest", f"{run.period}/school-{seeded.school_ids['100001']}"),
        ("trust_digest", run.period),
    ]


async def test_the_heads_digest_shows_only_their_school(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seed(sessions)
    await compose_week(sessions, trust_id=seeded.trust_id, now=NOW)
    async with sessions() as session:
        [payload] = (
            await session.scalars(
                select(Delivery.payload).where(Delivery.recipient_id == seeded.person_ids[HEAD])
            )
        ).all()
    shown = card_text(payload["card"])
    assert "Weekly digest — Oakfield Primary" in shown
    assert "St Mary" not in json.dumps(payload)
    assert "Recovery" in shown and "2 open, 1 overdue" in shown
    assert "1 open concern (1 persistent, 1 severe)" in shown
    # Composed on Thursday 10 December: the week is named by its Monday.
    assert "Week of Monday 7 December 2026" in shown
    assert PUPIL not in json.dumps(payload)


async def test_a_two_hundred_school_trust_digest_stays_under_80_kb(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        trust = Trust(tenant_id="big-trust", name="Big Trust")
        session.add(trust)
        await session.flush()
        await install_framework(session, trust_id=trust.id, spec=load_preset("five-categories"))
        categories = list(await session.scalars(select(Category).order_by(Category.rank)))
        schools = [
            School(
                trust_id=trust.id,
                urn=f"{300000 + n}",
                name=f"School {n:03d} " + "x" * 60,
                phase="primary",
            )
            for n in range(200)
        ]
        session.add_all(schools)
        await session.flush()
        for n, school in enumerate(schools):
            category = categories[n % len(categories)]
            session.add(
                SchoolCategorisation(
                    trust_id=trust.id,
                    school_id=school.id,
                    category_id=category.id,
                    category_name=category.name,
                    decided_on=date(2026, 7, 1),
                )
            )
            session.add(
                SchoolAction(
                    trust_id=trust.id,
                    school_id=school.id,
                    description="x",
                    due_on=TODAY - timedelta(days=n % 3),
                )
            )
        teachers = [
            Person(
                trust_id=trust.id,
                aad_object_id=f"t{n}",
                email=f"t{n}@x.org",
                display_name=f"Teacher {n}",
            )
            for n in range(200)
        ]
        session.add_all(teachers)
        await session.flush()
        for teacher, school in zip(teachers, schools, strict=True):
            session.add(PersonRole(person_id=teacher.id, role="teacher", school_id=school.id))
    async with sessions() as session:
        position = await trust_position(session, trust_id=trust.id, today=TODAY)
    card = trust_digest_card(position)
    size = len(json.dumps(card).encode())
    assert size < 80 * 1024, size
    assert sum(count for _, count in position.distribution) == 200
    shown = card_text(card)
    assert "Needs attention (200)" in shown  # every school is below the coaching target
    assert "and 188 more: Show all schools" in shown
    assert card["actions"][0]["verb"] == "digest.page"


def test_the_digest_is_due_from_monday_0730_london_time() -> None:
    trust = Trust(digest_weekday=0, digest_time="07:30", digest_timezone="Europe/London")
    # Winter (GMT): Monday 7 December 2026.
    assert not digest_due(trust, datetime(2026, 12, 7, 7, 29, tzinfo=UTC))
    assert digest_due(trust, datetime(2026, 12, 7, 7, 30, tzinfo=UTC))
    # Early on Monday last week's digest was sent; this week's is not due yet.
    assert not digest_due(trust, datetime(2026, 12, 7, 0, 30, tzinfo=UTC))
    assert digest_due(trust, datetime(2026, 12, 13, 23, 0, tzinfo=UTC))  # the Sunday after
    # Summer (BST): 07:30 in London is 06:30 UTC.
    assert digest_due(trust, datetime(2026, 6, 8, 6, 30, tzinfo=UTC))
    assert not digest_due(trust, datetime(2026, 6, 8, 6, 29, tzinfo=UTC))


async def test_the_scheduler_tick_composes_due_trusts_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seed(sessions)
    first = await tick(sessions, NOW)
    second = await tick(sessions, NOW + timedelta(minutes=1))
    assert [run.queued for run in first] == [2] and second == []
    async with sessions() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(DigestRun)
                .where(DigestRun.trust_id == seeded.trust_id)
            )
            == 1
        )


async def _install(
    sessions: async_sessionmaker[AsyncSession], seeded: Seeded, aad: str, url: str
) -> None:
    await install_chat(sessions, seeded.trust_id, seeded.person_ids[aad], url, f"a:{aad}")


async def test_digests_are_delivered_and_reported_with_names(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await _seed(sessions)
    async with (
        loopback_connector() as connector,
        serve_waypoint(engine, SETTINGS) as (
            client,
            waypoint,
        ),
    ):
        # The trust lead has Waypoint; the head never installed it.
        await _install(sessions, seeded, TRUST_LEAD, connector.url)
        await compose_week(sessions, trust_id=seeded.trust_id, now=NOW)
        # Queued "as of" the test's date: send on the same clock.
        sender = OutboxSender(sessions, waypoint.connector, clock=lambda: NOW)
        await OutboxNotifier(sessions, sender, clock=lambda: NOW).drain()
        waypoint.bot.clock = lambda: NOW
        response = await client.post(
            "/api/messages", json=message("digest report", user=TRUST_LEAD, expect_replies=True)
        )
        [report] = cards_in((await response.json())["activities"])
    [posted] = connector.posted
    assert posted["conversation"] == f"a:{TRUST_LEAD}"
    assert "Weekly digest — Test Trust" in card_text(cards_in([posted["activity"]])[0])
    shown = card_text(report)
    assert "Trust digest 2026-W50: 1 recipient" in shown
    facts = {f["title"]: f["value"] for f in report["body"][1]["facts"]}
    assert facts == {
        "Delivered": "1",
        "Not installed yet": "0",
        "Blocked or removed": "0",
        "Failed": "0",
    }


async def test_digest_on_demand_and_its_pages(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, waypoint):
        waypoint.bot.clock = lambda: NOW
        lead = await client.post(
            "/api/messages", json=message("digest", user=TRUST_LEAD, expect_replies=True)
        )
        [trust_card] = cards_in((await lead.json())["activities"])
        head = await client.post(
            "/api/messages", json=message("digest", user=HEAD, expect_replies=True)
        )
        [school_card] = cards_in((await head.json())["activities"])
        paged = await client.post(
            "/api/messages", json=execute("digest.page", {"page": 1}, user=TRUST_LEAD)
        )
        page: dict[str, Any] = (await paged.json())["value"]
        teacher = await client.post(
            "/api/messages", json=message("digest", user=TEACHER, expect_replies=True)
        )
        [refusal] = (await teacher.json())["activities"]
    assert "Weekly digest — Test Trust" in card_text(trust_card)
    assert "Weekly digest — Oakfield Primary" in card_text(school_card)
    assert "St Mary" not in json.dumps(school_card)
    assert "Page 1 of 1" in card_text(page) and "St Mary's C of E" in card_text(page)
    assert refusal["text"].startswith("You don't have access to Digest")


@pytest.mark.parametrize("weekday", [0, 4])
def test_a_trust_may_choose_its_own_day(weekday: int) -> None:
    trust = Trust(digest_weekday=weekday, digest_time="16:00", digest_timezone="Europe/London")
    friday_afternoon = datetime(2026, 12, 11, 16, 0, tzinfo=UTC)
    assert digest_due(trust, friday_afternoon)
    assert digest_due(trust, friday_afternoon - timedelta(minutes=1)) == (weekday == 0)
