"""Standards review reminders, on SQLite and PostgreSQL: in the 14 days before a term
ends each trust lead gets one card per school whose review (or annual standards
meeting) is not recorded, through the outbox, never twice.

The default English calendar: the autumn term 2026 ends on Friday 18 December, the
spring term 2027 on Thursday 25 March, the summer term 2027 on Friday 16 July.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import main as waypoint
from bot.connector import Connector as BotConnector
from bot.connector import TokenProvider
from bot.offloop import BlockingWorker
from bot.proactive import OutboxNotifier
from bot.scheduled.reviews import queue_review_reminders
from bot.scheduler import review_tick
from bot.sender import OutboxSender
from bot.settings import Settings
from dialogs.review import ReviewVerb
from storage.categories import record_categorisation
from storage.engine import Sessions
from storage.models import Delivery, StandardsReview
from storage.standards import REVIEW_REMINDER, record_review, set_standards_meeting_term
from tests.improvement import seed_improvement
from tests.support import (
    TENANT,
    TRUST_LEAD,
    Seeded,
    Turns,
    add_person,
    card_actions,
    card_text,
    facts,
    in_store,
    install_chat,
    loopback_connector,
    seed_trust,
)

SETTINGS = Settings(_env_file=None)
# A second trust lead: each gets their own card.
OTHER_LEAD = "aaaaaaaa-0000-4000-8000-000000000008"
AUTUMN_ENDS = date(2026, 12, 18)
SUMMER_ENDS = date(2027, 7, 16)


async def _world(sessions: Sessions) -> Seeded:
    """Oakfield (100001) in Refinement, St Mary's (100002) in Recovery, two trust leads."""
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with sessions.begin() as session:
        seeded.person_ids[OTHER_LEAD] = await add_person(
            session, seeded.trust_id, OTHER_LEAD, "Owen Lead", ["trust_lead"]
        )
        for urn, key, form in (("100001", "refinement", "a"), ("100002", "recovery", "b")):
            await record_categorisation(
                session,
                trust_id=seeded.trust_id,
                school_id=seeded.school_ids[urn],
                category_key=key,
                decided_on=date(2026, 7, 9),
                attendees="Head, DE",
                rationale="Agreed",
                recorded_by=None,
                form_id=form * 32,
            )
    return seeded


async def _remind(sessions: Sessions, seeded: Seeded, today: date) -> int:
    """The reminders of `today`, queued now (so the sender finds them due)."""
    now = datetime.now(UTC)
    run = await queue_review_reminders(sessions, trust_id=seeded.trust_id, today=today, now=now)
    return run.queued


async def _reminders(sessions: Sessions) -> list[Delivery]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.kind == REVIEW_REMINDER).order_by(Delivery.id)
        )
        return list(rows)


def _shown(delivery: Delivery) -> str:
    return card_text(delivery.payload["card"])


async def test_a_recovery_school_is_reminded_once_fourteen_days_before_the_term_ends(
    sessions: Sessions,
) -> None:
    seeded = await _world(sessions)
    st_marys = seeded.school_ids["100002"]
    # Fifteen days before: too early.
    assert await _remind(sessions, seeded, date(2026, 12, 3)) == 0
    assert await _reminders(sessions) == []
    # Fourteen days before Friday 18 December: one card for each trust lead.
    assert await _remind(sessions, seeded, date(2026, 12, 4)) == 2
    # And not again: the same day, the next, the term's last day.
    for day in (date(2026, 12, 4), date(2026, 12, 5), AUTUMN_ENDS):
        assert await _remind(sessions, seeded, day) == 0
    rows = await _reminders(sessions)
    assert {row.recipient_id for row in rows} == {
        seeded.person_ids[TRUST_LEAD],
        seeded.person_ids[OTHER_LEAD],
    }
    assert {row.period for row in rows} == {f"2026-27/t1/school-{st_marys}"}
    # Neither lead has installed Waypoint: both wait for them (storage/waiting.py).
    assert {row.status for row in rows} == {"waiting"}
    # Refinement brings no termly review, and autumn holds no annual meeting.
    shown = _shown(rows[0])
    assert "Oakfield" not in shown
    assert "Standards review due: St Mary's C of E" in shown
    assert (
        "Recovery brings a standards review every term. Autumn term 2026-27 ends on "
        "Friday 18 December 2026 and no review is recorded for it yet."
    ) in shown
    assert facts(rows[0].payload["card"]) == {
        "School": "St Mary's C of E",
        "Category": "Recovery, since 9 July 2026",
        "Last review": "None recorded",
    }
    # After the term's end: nothing; the spring term's reminder is the spring's own.
    assert await _remind(sessions, seeded, date(2026, 12, 19)) == 0
    assert await _remind(sessions, seeded, date(2027, 3, 11)) == 2
    assert {row.period for row in await _reminders(sessions)} == {
        f"2026-27/t1/school-{st_marys}",
        f"2026-27/t2/school-{st_marys}",
    }


async def test_the_reminders_button_opens_the_review_form_for_that_school(
    sessions: Sessions,
) -> None:
    seeded = await _world(sessions)
    await _remind(sessions, seeded, date(2026, 12, 4))
    card = (await _reminders(sessions))[0].payload["card"]
    [(verb, data)] = card_actions(card)
    assert (verb, data["school_id"]) == (ReviewVerb.start, seeded.school_ids["100002"])
    turns = Turns(sessions, now=datetime(2026, 12, 4, 9, tzinfo=UTC))
    form = (await turns.submit(card, TRUST_LEAD)).card
    assert form is not None
    assert "Standards review" in card_text(form) and "St Mary's C of E" in card_text(form)


async def test_a_review_for_the_term_settles_it_a_categorisation_alone_does_not(
    sessions: Sessions,
) -> None:
    seeded = await _world(sessions)
    st_marys = seeded.school_ids["100002"]
    async with sessions.begin() as session:
        await record_review(
            session,
            trust_id=seeded.trust_id,
            school_id=st_marys,
            held_on=date(2026, 12, 1),
            attendees="Head, DE, trustee",
            trustees_attended=True,
            new_category=None,
            notes="",
            recorded_by=seeded.person_ids[TRUST_LEAD],
            form_id="c" * 32,
        )
    assert await _remind(sessions, seeded, date(2026, 12, 10)) == 0
    # The spring term needs its own review. St Mary's is recategorised in it with
    # `categorise`: still in a category that brings one, and no review recorded.
    async with sessions.begin() as session:
        await record_categorisation(
            session,
            trust_id=seeded.trust_id,
            school_id=st_marys,
            category_key="repair",
            decided_on=date(2027, 2, 1),
            attendees="Head, DE",
            rationale="Worse",
            recorded_by=None,
            form_id="d" * 32,
        )
    assert await _remind(sessions, seeded, date(2027, 3, 15)) == 2
    [shown, _] = [_shown(row) for row in await _reminders(sessions)]
    assert "Standards review due: St Mary's C of E" in shown
    assert "Repair brings a standards review every term" in shown


async def test_the_annual_standards_meeting_is_reminded_in_the_last_term_for_every_school(
    sessions: Sessions,
) -> None:
    seeded = await _world(sessions)
    # Two weeks before the summer term ends: both schools; St Mary's once, not twice.
    assert await _remind(sessions, seeded, date(2027, 7, 2)) == 4
    assert await _remind(sessions, seeded, date(2027, 7, 9)) == 0
    mine = [
        row
        for row in await _reminders(sessions)
        if row.recipient_id == seeded.person_ids[TRUST_LEAD]
    ]
    shown = {row.period: _shown(row) for row in mine}
    oakfield = shown[f"2026-27/t3/school-{seeded.school_ids['100001']}"]
    st_marys = shown[f"2026-27/t3/school-{seeded.school_ids['100002']}"]
    assert "Standards meeting due: Oakfield Primary" in oakfield
    assert (
        "Summer term 2026-27 holds the annual standards meeting. The term ends on "
        "Friday 16 July 2027 and none is recorded for Oakfield Primary this year."
    ) in oakfield
    assert "Standards meeting due: St Mary's C of E" in st_marys
    assert "also brings a review every term" in st_marys


@pytest.mark.parametrize(("chosen", "spring", "summer"), [(2, 4, 2), (6, 2, 4), (None, 2, 4)])
async def test_the_trust_chooses_the_annual_meetings_term(
    sessions: Sessions, chosen: int | None, spring: int, summer: int
) -> None:
    """Term 2 moves the meeting to spring; term 6 of a three-term year is its last."""
    seeded = await _world(sessions)
    async with sessions.begin() as session:
        await set_standards_meeting_term(session, trust_id=seeded.trust_id, number=chosen)
    assert await _remind(sessions, seeded, date(2027, 3, 12)) == spring
    assert await _remind(sessions, seeded, date(2027, 7, 2)) == summer


async def test_a_categorisation_in_the_meeting_term_is_the_annual_meeting(
    sessions: Sessions,
) -> None:
    """Oakfield's annual meeting is held; St Mary's too, but its termly review is not."""
    seeded = await _world(sessions)
    async with sessions.begin() as session:
        for urn, key, form in (("100001", "refinement", "e"), ("100002", "recovery", "f")):
            await record_categorisation(
                session,
                trust_id=seeded.trust_id,
                school_id=seeded.school_ids[urn],
                category_key=key,
                decided_on=date(2027, 6, 24),
                attendees="Head, Chair, DE, SIA",
                rationale="Confirmed at the annual standards meeting",
                recorded_by=None,
                form_id=form * 32,
            )
    assert await _remind(sessions, seeded, date(2027, 7, 2)) == 2
    rows = await _reminders(sessions)
    assert {row.period for row in rows} == {f"2026-27/t3/school-{seeded.school_ids['100002']}"}
    shown = _shown(rows[0])
    assert "Standards review due: St Mary's C of E" in shown
    assert "annual standards meeting" not in shown


async def test_the_schedulers_tick_queues_them_once_on_the_trusts_own_day(
    sessions: Sessions,
) -> None:
    await _world(sessions)
    # 22:30 UTC on Thursday 1 July 2027 is 23:30 in London (BST): still the 1st, too
    # early for the summer term's reminders. An hour later it is Friday the 2nd there.
    assert await review_tick(sessions, datetime(2027, 7, 1, 22, 30, tzinfo=UTC)) == 0
    assert await review_tick(sessions, datetime(2027, 7, 1, 23, 30, tzinfo=UTC)) == 4
    # Every tick tries; none queues a reminder again.
    assert await review_tick(sessions, datetime(2027, 7, 1, 23, 31, tzinfo=UTC)) == 0
    assert await review_tick(sessions, datetime(2027, 7, 9, 12, 0, tzinfo=UTC)) == 0
    assert len(await _reminders(sessions)) == 4


@asynccontextmanager
async def _notifier(sessions: Sessions) -> AsyncIterator[OutboxNotifier]:
    worker = BlockingWorker("test-review-reminders")
    connector = BotConnector(TokenProvider(SETTINGS, worker))
    try:
        yield OutboxNotifier(sessions, OutboxSender(sessions, connector))
    finally:
        await connector.close()
        worker.stop()


async def test_a_trust_lead_receives_the_card_in_their_own_chat(sessions: Sessions) -> None:
    seeded = await _world(sessions)
    async with loopback_connector() as connector, _notifier(sessions) as sender:
        await install_chat(
            sessions, seeded.trust_id, seeded.person_ids[TRUST_LEAD], connector.url, "a:tess"
        )
        await _remind(sessions, seeded, date(2026, 12, 4))
        await sender.drain()
        await _remind(sessions, seeded, date(2026, 12, 7))
        await sender.drain()
    [posted] = connector.posted
    assert posted["conversation"] == "a:tess"
    card: dict[str, Any] = posted["activity"]["attachments"][0]["content"]
    assert "Standards review due: St Mary's C of E" in card_text(card)
    # Owen has no chat with Waypoint: his waits for him, and is not tried meanwhile.
    statuses = {row.recipient_id: row.status for row in await _reminders(sessions)}
    assert statuses == {
        seeded.person_ids[TRUST_LEAD]: "sent",
        seeded.person_ids[OTHER_LEAD]: "waiting",
    }


def test_reviews_remind_and_settings_from_the_command_line(
    store_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = in_store(store_env, _world)
    remind = ["reviews", "remind", "--tenant-id", TENANT]
    assert waypoint([*remind, "--today", "2026-12-03"]) == 0
    assert "no reminders today: they go in the 14 days before a term ends" in (
        capsys.readouterr().out
    )
    assert waypoint([*remind, "--today", "2026-12-04"]) == 0
    out = capsys.readouterr().out
    assert (
        "Autumn term 2026-27: 1 school(s) due a standards review or meeting; 2 reminder(s)" in out
    )
    assert waypoint([*remind, "--today", "2026-12-05"]) == 0
    assert "0 reminder(s) queued now" in capsys.readouterr().out
    assert len(in_store(store_env, _reminders)) == 2

    settings = ["reviews", "settings", "--tenant-id", TENANT]
    assert waypoint(settings) == 0
    assert "the annual standards meeting is in the last term of the year" in (
        capsys.readouterr().out
    )
    assert waypoint([*settings, "--annual-meeting-term", "6"]) == 0
    assert "the annual standards meeting is in term 6" in capsys.readouterr().out
    assert waypoint([*settings, "--annual-meeting-term", "7"]) == 1
    assert "nothing changed: the term must be from 1 to 6, or last (not 7)" in (
        capsys.readouterr().err
    )
    assert waypoint([*settings, "--annual-meeting-term", "last"]) == 0
    assert "in the last term of the year" in capsys.readouterr().out
    assert seeded.trust_id
    assert in_store(store_env, _no_reviews)


async def _no_reviews(sessions: Sessions) -> bool:
    async with sessions() as session:
        return (await session.scalar(select(StandardsReview.id))) is None


async def test_the_annual_meetings_card_opens_the_form_to_record_the_meeting(
    sessions: Sessions,
) -> None:
    seeded = await _world(sessions)
    await _remind(sessions, seeded, date(2027, 7, 2))
    oakfield = f"2026-27/t3/school-{seeded.school_ids['100001']}"
    [card] = [r.payload["card"] for r in await _reminders(sessions) if r.period == oakfield][:1]
    [button] = card["actions"]
    assert button["title"] == "Record the meeting"
    assert button["data"] == {"verb": ReviewVerb.start, "school_id": seeded.school_ids["100001"]}


async def test_a_run_with_nothing_new_to_queue_writes_nothing(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick runs every minute: outside the days, or with every reminder queued, it
    only reads (on SQLite, no write lock; on PostgreSQL, no ids spent on conflicts)."""
    seeded = await _world(sessions)
    assert await _remind(sessions, seeded, date(2026, 12, 4)) == 2

    def no_writing() -> None:
        raise AssertionError("a run with nothing new opened a write transaction")

    monkeypatch.setattr(sessions, "begin", no_writing)
    for day in (date(2026, 12, 1), date(2026, 12, 4), date(2026, 12, 11)):
        assert await _remind(sessions, seeded, day) == 0
