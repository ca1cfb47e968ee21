"""Subject-lead QA summaries: the card, term windows, status, reminders, permissions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main as waypoint
from bot.connector import Connector as BotConnector
from bot.connector import TokenProvider
from bot.offloop import BlockingWorker
from bot.proactive import OutboxNotifier
from bot.scheduled.qa_reminders import send_qa_reminders
from bot.sender import OutboxSender
from bot.settings import Settings
from storage.academic_calendar import QaClosed, QaOpen
from storage.csv_rows import ImportRejected
from storage.engine import Sessions
from storage.models import (
    AuditEvent,
    QaReminder,
    QaSummary,
    TermDate,
)
from storage.term_dates import set_terms
from storage.terms import qa_period
from tests.support import (
    HEAD,
    SUBJECT_LEAD,
    TEACHER,
    TENANT,
    TRUST_LEAD,
    Seeded,
    Served,
    add_person,
    card_text,
    cards_in,
    count_rows,
    field_error,
    in_store,
    inputs,
    install_chat,
    seed_trust,
    serve,
    shown_in,
)
from tests.support import (
    Connector as Loopback,
)
from tests.support import (
    loopback_connector as loopback,
)

SETTINGS = Settings(_env_file=None)
BEA = "bbbbbbbb-0000-4000-8000-000000000001"  # Science and Geography at Oakfield
CAL = "bbbbbbbb-0000-4000-8000-000000000002"  # Maths at Oakfield
MO = "bbbbbbbb-0000-4000-8000-000000000003"  # Art at Oakfield and St Mary's
# Autumn 2026-27 ends Fri 18 Dec 2026 (default calendar): its window is 20 Nov – 8 Jan.
IN_AUTUMN_WINDOW = datetime(2026, 12, 1, 9, tzinfo=UTC)

SIX_TERMS = """academic_year,term,starts,ends
2026-27,Autumn 1,2026-09-02,2026-10-23
2026-27,Autumn 2,2026-11-02,2026-12-18
2026-27,Spring 1,2027-01-04,2027-02-12
2026-27,Spring 2,2027-02-22,2027-03-26
2026-27,Summer 1,2027-04-12,2027-05-21
2026-27,Summer 2,2027-06-01,2027-07-21
"""

ANSWERS = {
    "strengths": "Enquiry questions are sharp; pupils use sources well.",
    "areas_for_development": "Retrieval of chronology in KS2.",
    "evidence": "deep_dive,book_look",
    "judgement": "green",
    "actions": "Termly retrieval quizzes in Y5 and Y6.",
    "cpd": "Staff meeting on chronology.",
}


async def seed_qa(sessions: Sessions) -> Seeded:
    """The seeded trust plus three more subject leads."""
    seeded = await seed_trust(sessions)
    oak, marys = seeded.school_ids["100001"], seeded.school_ids["100002"]
    async with sessions.begin() as session:
        for aad, name, schools, subjects in (
            (BEA, "Bea Bio", [oak], ["Science", "Geography"]),
            (CAL, "Cal Maths", [oak], ["Maths"]),
            (MO, "Mo Multi", [oak, marys], ["Art"]),
        ):
            seeded.person_ids[aad] = await add_person(
                session,
                seeded.trust_id,
                aad,
                name,
                ["subject_lead", "teacher"],
                schools,
                subjects=subjects,
            )
    return seeded


def waypoint_at(
    engine: AsyncEngine, sessions: Sessions, when: datetime = IN_AUTUMN_WINDOW
) -> AbstractAsyncContextManager[Served]:
    """Waypoint served with its clock stopped in the autumn QA window (or at `when`)."""
    return serve(engine, sessions, settings=SETTINGS, now=when)


async def open_form(world: Served, user: str) -> tuple[dict[str, Any], dict[str, Any]]:
    [card] = cards_in(await world.say("submit qa", user))
    [action] = card["actions"]
    assert action["verb"] == "qa.save"
    return card, dict(action["data"])


def sections(card: dict[str, Any]) -> dict[str, list[str]]:
    """A qa_status card as {heading: [line, ...]}."""
    found: dict[str, list[str]] = {}
    heading = ""
    for element in card["body"][2:]:
        if element["type"] == "TextBlock" and element.get("weight") == "Bolder":
            heading = element["text"]
            found[heading] = []
        elif element["type"] == "ColumnSet":
            found[heading].append(element["columns"][0]["items"][0]["text"])
    return found


async def summaries(sessions: Sessions) -> list[QaSummary]:
    async with sessions() as session:
        return list(await session.scalars(select(QaSummary).order_by(QaSummary.id)))


# -- submitting --------------------------------------------------------------------


async def test_a_submission_through_the_card_is_stored_and_confirmed(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_qa(sessions)
    async with waypoint_at(engine, sessions) as world:
        card, data = await open_form(world, SUBJECT_LEAD)
        text = card_text(card)
        assert "QA summary: Autumn term 2026-27" in text
        assert "History at St Mary's C of E" in text
        assert "8 January 2027" in text
        assert {i["id"] for i in card["body"] if i["type"].startswith("Input.")} == {
            "strengths",
            "areas_for_development",
            "evidence",
            "judgement",
            "actions",
            "cpd",
        }
        body = await world.execute("qa.save", {**data, **ANSWERS}, SUBJECT_LEAD)
        confirmation = shown_in(body)
        assert "QA summary submitted" in confirmation
        assert "version 1" in confirmation
        assert "Deep dive, Book look" in confirmation and "Green" in confirmation
        # Teams retries: the same form again stores nothing more.
        again = await world.execute("qa.save", {**data, **ANSWERS}, SUBJECT_LEAD)
        assert "Already submitted" in shown_in(again)
    [row] = await summaries(sessions)
    assert (row.school_id, row.subject) == (seeded.school_ids["100002"], "History")
    assert (row.academic_year, row.term, row.term_name, row.version) == (
        "2026-27",
        1,
        "Autumn term",
        1,
    )
    assert row.author_id == seeded.person_ids[SUBJECT_LEAD]
    assert row.evidence == ["deep_dive", "book_look"]
    assert (row.judgement, row.strengths, row.cpd) == (
        "green",
        ANSWERS["strengths"],
        ANSWERS["cpd"],
    )


async def test_validation_errors_come_back_on_the_card_with_values_kept(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await seed_qa(sessions)
    async with waypoint_at(engine, sessions) as world:
        _, data = await open_form(world, SUBJECT_LEAD)
        bad = {
            **ANSWERS,
            "areas_for_development": "   ",
            "evidence": "",
            "judgement": "purple",
            "cpd": "x" * 4001,
        }
        body = await world.execute("qa.save", {**data, **bad}, SUBJECT_LEAD)
    card = body["value"]
    assert "Please check the fields marked below" in card_text(card)
    assert field_error(card, "areas_for_development") == (
        "Write the areas for development in the subject's pedagogy."
    )
    assert field_error(card, "evidence") == "Choose at least one kind of evidence."
    assert field_error(card, "judgement") == "Choose red, amber or green."
    assert field_error(card, "cpd") == "Keep this to 4,000 characters (this is 4001)."
    values = {key: field.get("value") for key, field in inputs(card).items()}
    assert values["strengths"] == ANSWERS["strengths"]
    assert values["actions"] == ANSWERS["actions"]
    assert values["judgement"] == "purple"
    # The same form id, so the corrected card still stores once.
    assert card["actions"][0]["data"]["form_id"] == data["form_id"]
    assert await summaries(sessions) == []


async def test_a_lead_of_several_chooses_and_a_reminder_button_preselects(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_qa(sessions)
    marys = seeded.school_ids["100002"]
    async with waypoint_at(engine, sessions) as world:
        card, data = await open_form(world, MO)
        [choice] = [e for e in card["body"] if e.get("id") == "target"]
        assert [c["title"] for c in choice["choices"]] == [
            "Art at Oakfield Primary",
            "Art at St Mary's C of E",
        ]
        missing = await world.execute("qa.save", {**data, **ANSWERS}, MO)
        assert "Choose the subject and school." in shown_in(missing)
        opened = await world.execute("qa.open", {"school_id": marys, "subject": "Art"}, MO)
        [picked] = [e for e in opened["value"]["body"] if e.get("id") == "target"]
        assert picked["value"] == f"{marys}:Art"
        saved = await world.execute("qa.save", {**data, **ANSWERS, "target": picked["value"]}, MO)
        assert "QA summary submitted" in shown_in(saved)
    [row] = await summaries(sessions)
    assert (row.school_id, row.subject) == (marys, "Art")


async def test_a_subject_lead_submitting_for_another_schools_subject_is_refused(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_qa(sessions)
    oak = seeded.school_ids["100001"]
    async with waypoint_at(engine, sessions) as world:
        _, data = await open_form(world, SUBJECT_LEAD)
        before = await count_rows(sessions)
        injected = {**data, **ANSWERS, "school_id": oak, "subject": "Science"}
        body = await world.execute("qa.save", injected, SUBJECT_LEAD)
        assert "You don't have access to submit a QA summary" in shown_in(body)
        # Their own subject at another school, through the choice input.
        chosen = {**data, **ANSWERS, "target": f"{oak}:History"}
        body = await world.execute("qa.save", chosen, SUBJECT_LEAD)
        assert "You don't have access" in shown_in(body)
    after = await count_rows(sessions)
    assert {k: v - before[k] for k, v in after.items() if v != before[k]} == {"audit_event": 2}
    async with sessions() as session:
        events = list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.action, e.outcome, e.school_id) for e in events[-2:]] == [
        ("qa.save", "refused", oak),
        ("qa.save", "refused", oak),
    ]


async def test_a_teacher_cannot_open_the_form(engine: AsyncEngine, sessions: Sessions) -> None:
    await seed_qa(sessions)
    async with waypoint_at(engine, sessions) as world:
        [reply] = await world.say("submit qa", TEACHER)
    assert "You don't have access to Submit QA summary" in reply["text"]


# -- term windows ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "term", "next_opens"),
    [
        # The day before the autumn window opens (4 weeks before Fri 18 Dec).
        (date(2026, 11, 19), None, date(2026, 11, 20)),
        (date(2026, 11, 20), "Autumn term 2026-27", None),
        # The Christmas holidays are inside the 3 weeks after the term.
        (date(2026, 12, 30), "Autumn term 2026-27", None),
        # The window's last day, then the spring term with no window open.
        (date(2027, 1, 8), "Autumn term 2026-27", None),
        (date(2027, 1, 9), None, date(2027, 2, 25)),
        # Easter holidays: after the spring term (ends Thu 25 Mar 2027), in its window.
        (date(2027, 4, 1), "Spring term 2026-27", None),
        # The summer holidays after the window: the next one is next autumn's.
        (date(2027, 8, 6), "Summer term 2026-27", None),
        (date(2027, 8, 20), None, date(2027, 11, 19)),
    ],
)
async def test_the_default_calendar_picks_the_term_whose_window_holds_the_day(
    sessions: Sessions,
    today: date,
    term: str | None,
    next_opens: date | None,
) -> None:
    seeded = await seed_trust(sessions)
    async with sessions() as session:
        period = await qa_period(session, trust_id=seeded.trust_id, today=today)
    if term is None:
        assert isinstance(period, QaClosed)
        assert period.next is not None and period.next.opens == next_opens
    else:
        assert isinstance(period, QaOpen) and period.term.title == term


@pytest.mark.parametrize(
    ("today", "term"),
    [
        # October half-term: three weeks after Autumn 1 ends.
        (date(2026, 10, 28), "Autumn 1"),
        (date(2026, 11, 13), "Autumn 1"),
        (date(2026, 11, 16), None),
        (date(2026, 11, 20), "Autumn 2"),
        # Spring 1's window (to 5 Mar) overlaps Spring 2's: the earlier term keeps it.
        (date(2027, 3, 5), "Spring 1"),
        (date(2027, 3, 6), "Spring 2"),
        (date(2027, 7, 21), "Summer 2"),
    ],
)
async def test_a_six_term_trust_uses_its_own_terms(
    sessions: Sessions, today: date, term: str | None
) -> None:
    seeded = await seed_trust(sessions)
    async with sessions.begin() as session:
        report = await set_terms(session, trust_id=seeded.trust_id, csv_text=SIX_TERMS)
    assert str(report) == "2026-27: 6 terms"
    async with sessions() as session:
        period = await qa_period(session, trust_id=seeded.trust_id, today=today)
    if term is None:
        assert isinstance(period, QaClosed) and period.next is not None
        assert period.next.term.name == "Autumn 2"
    else:
        assert isinstance(period, QaOpen) and period.term.name == term


async def test_between_windows_the_lead_is_told_no_term_is_open_and_when_the_next_opens(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await seed_qa(sessions)
    async with waypoint_at(engine, sessions, datetime(2026, 11, 19, 16, tzinfo=UTC)) as world:
        [reply] = await world.say("qa", SUBJECT_LEAD)
    assert reply["text"] == (
        "No term is open for QA summaries today. The window for Summer term 2025-26 closed "
        "on Friday 7 August 2026. The next window, for Autumn term 2026-27, opens on "
        "Friday 20 November 2026."
    )


async def test_a_form_submitted_after_its_window_closed_stores_nothing(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await seed_qa(sessions)
    async with waypoint_at(engine, sessions, datetime(2027, 1, 8, 12, tzinfo=UTC)) as world:
        _, data = await open_form(world, SUBJECT_LEAD)
        world.at(datetime(2027, 1, 9, 12, tzinfo=UTC))
        body = await world.execute("qa.save", {**data, **ANSWERS}, SUBJECT_LEAD)
    assert "No term is open for QA summaries today" in shown_in(body)
    assert "Nothing was saved." in shown_in(body)
    assert await summaries(sessions) == []


async def test_term_dates_file_errors_are_named_by_line_and_change_nothing(
    sessions: Sessions,
) -> None:
    seeded = await seed_trust(sessions)
    bad = (
        "academic_year,term,starts,ends\n"
        "2026-28,Autumn,2026-09-02,2026-12-18\n"
        "2026-27,Spring,2027-03-01,2027-01-04\n"
        "2026-27,Summer,2027-04-12,20/07/2027\n"
        "2026-27,Summer,2027-05-12,2027-06-01\n"
        "2026-27,Extra,2027-07-01,notadate\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        async with sessions.begin() as session:
            await set_terms(session, trust_id=seeded.trust_id, csv_text=bad)
    messages = [str(e) for e in rejected.value.errors]
    assert messages[0].startswith("line 2: academic_year: '2026-28' is not an academic year")
    assert messages[1].startswith("line 3: the term ends (2027-01-04) before it starts")
    assert "line 5: term 'Summer' of 2026-27 is already on line 4" in messages
    assert "line 5: term 'Summer' overlaps term 'Summer' on line 4" in messages
    assert any(m.startswith("line 6: ends: 'notadate' is not a date") for m in messages)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TermDate)) == 0


# -- status ------------------------------------------------------------------------


async def test_resubmission_makes_version_2_and_status_counts_it_once(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await seed_qa(sessions)
    async with waypoint_at(engine, sessions) as world:
        _, first = await open_form(world, SUBJECT_LEAD)
        await world.execute("qa.save", {**first, **ANSWERS}, SUBJECT_LEAD)
        card, second = await open_form(world, SUBJECT_LEAD)
        assert "You submitted on Tue 1 Dec 2026 — this will be version 2." in card_text(card)
        assert second["form_id"] != first["form_id"]
        body = await world.execute(
            "qa.save", {**second, **ANSWERS, "judgement": "amber"}, SUBJECT_LEAD
        )
        assert "version 2" in shown_in(body)
        [trust_card] = cards_in(await world.say("qa status", TRUST_LEAD))
        [school_card] = cards_in(await world.say("qa status st marys", TRUST_LEAD))
    assert [(r.version, r.judgement) for r in await summaries(sessions)] == [
        (1, "green"),
        (2, "amber"),
    ]
    assert sections(trust_card)["Schools"] == [
        "Oakfield Primary: 0 of 4 submitted",
        "St Mary's C of E: 1 of 2 submitted",
    ]
    assert "Across Test Trust: 1 of 6 submitted." in card_text(trust_card)
    listed = sections(school_card)
    assert listed["Submitted (1)"] == [
        "History: Sam Subject submitted on Tue 1 Dec 2026 (version 2), Amber"
    ]
    assert listed["Not yet submitted (1)"] == ["Art: Mo Multi"]
    assert "1 of 2 subjects submitted" in card_text(school_card)


async def test_status_lists_exactly_the_missing_subjects_of_the_heads_school(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await seed_qa(sessions)
    async with waypoint_at(engine, sessions) as world:
        [before] = cards_in(await world.say("qa status", HEAD))
        card, data = await open_form(world, BEA)
        target = next(
            c["value"]
            for c in next(e for e in card["body"] if e.get("id") == "target")["choices"]
            if c["value"].endswith(":Science")
        )
        await world.execute("qa.save", {**data, **ANSWERS, "target": target}, BEA)
        [status] = cards_in(await world.say("qa status", HEAD))
        refused = await world.say("qa status st marys", HEAD)
    # Nothing submitted yet: no "submitted" heading above "No summary yet" to contradict it.
    assert list(sections(before)) == ["Not yet submitted (4)"]
    assert "0 of 4 subjects submitted." in card_text(before)
    assert "Submitted (" not in card_text(before) and "No summary yet" not in card_text(before)
    listed = sections(status)
    assert listed["Not yet submitted (3)"] == [
        "Art: Mo Multi",
        "Geography: Bea Bio",
        "Maths: Cal Maths",
    ]
    assert [line.split(":")[0] for line in listed["Submitted (1)"]] == ["Science"]
    text = card_text(status)
    assert "1 of 4 subjects submitted" in text
    assert "open until Friday 8 January 2027: 38 days left" in text
    assert "You don't have access to that school's QA summaries" in refused[0]["text"]


async def test_a_summary_is_read_by_its_author_its_head_and_trust_leads_only(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await seed_qa(sessions)
    async with waypoint_at(engine, sessions) as world:
        _, data = await open_form(world, CAL)
        await world.execute("qa.save", {**data, **ANSWERS}, CAL)
        [row] = await summaries(sessions)
        seen = {
            user: shown_in(await world.execute("qa.show", {"summary_id": row.id}, user))
            for user in (CAL, HEAD, TRUST_LEAD, TEACHER, SUBJECT_LEAD, BEA)
        }
    for reader in (CAL, HEAD, TRUST_LEAD):
        assert ANSWERS["strengths"] in seen[reader] and "Cal Maths" in seen[reader]
    for outsider in (TEACHER, SUBJECT_LEAD, BEA):
        assert seen[outsider].startswith("You don't have access to that QA summary")
        assert ANSWERS["strengths"] not in seen[outsider]


# -- reminders ---------------------------------------------------------------------


async def install(sessions: Sessions, seeded: Seeded, aad: str, url: str) -> None:
    """The person's personal chat with Waypoint, as stored when they install the app."""
    await install_chat(sessions, seeded.trust_id, seeded.person_ids[aad], url, f"a:chat-{aad}")


@asynccontextmanager
async def notifier(sessions: Sessions) -> AsyncIterator[OutboxNotifier]:
    worker = BlockingWorker("test-reminders")
    connector = BotConnector(TokenProvider(SETTINGS, worker))
    try:
        yield OutboxNotifier(sessions, OutboxSender(sessions, connector))
    finally:
        await connector.close()
        worker.stop()


def reminded(connector: Loopback) -> dict[str, list[str]]:
    return {
        posted["conversation"]: sections(posted["activity"]["attachments"][0]["content"])[
            "Still to submit"
        ]
        for posted in connector.posted
    }


async def test_reminders_go_once_per_term_and_subject_lead(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_qa(sessions)
    async with loopback() as connector, notifier(sessions) as sender:
        for aad in (SUBJECT_LEAD, BEA, MO):
            await install(sessions, seeded, aad, connector.url)
        # Sam has submitted History already; Cal has not installed Waypoint.
        async with waypoint_at(engine, sessions) as world:
            _, data = await open_form(world, SUBJECT_LEAD)
            await world.execute("qa.save", {**data, **ANSWERS}, SUBJECT_LEAD)
        # Fourteen days before Fri 18 Dec is Fri 4 Dec; the 3rd is too early.
        early = await send_qa_reminders(
            sessions, trust_id=seeded.trust_id, today=date(2026, 12, 3), deliver=sender.deliver
        )
        await sender.drain()
        assert "no reminders" in str(early) and connector.posted == []
        runs = [
            await send_qa_reminders(
                sessions, trust_id=seeded.trust_id, today=day, deliver=sender.deliver
            )
            for day in (date(2026, 12, 4), date(2026, 12, 4), date(2026, 12, 10))
        ]
        await sender.drain()
        assert [(r.people, r.delivered) for r in runs] == [(3, 2), (1, 0), (1, 0)]
        assert reminded(connector) == {
            f"a:chat-{BEA}": ["Geography at Oakfield Primary", "Science at Oakfield Primary"],
            f"a:chat-{MO}": ["Art at Oakfield Primary", "Art at St Mary's C of E"],
        }
        assert len(connector.posted) == 2
        # Cal installs the app: the next run reaches Cal, and only Cal.
        await install(sessions, seeded, CAL, connector.url)
        last = await send_qa_reminders(
            sessions, trust_id=seeded.trust_id, today=date(2026, 12, 11), deliver=sender.deliver
        )
        await sender.drain()
        assert (last.people, last.delivered) == (1, 1)
        assert len(connector.posted) == 3
        assert reminded(connector)[f"a:chat-{CAL}"] == ["Maths at Oakfield Primary"]
    card = connector.posted[0]["activity"]["attachments"][0]["content"]
    assert "Autumn term ends on Friday 18 December 2026" in card_text(card)
    button = card["body"][3]["columns"][1]["items"][0]["actions"][0]
    assert button["data"]["verb"] == "qa.open"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(QaReminder)) == 5


# -- the command line --------------------------------------------------------------


def test_terms_set_and_qa_remind_from_the_command_line(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_store(store_env, seed_qa)
    terms = tmp_path / "terms.csv"
    terms.write_text(SIX_TERMS, encoding="utf-8")
    assert waypoint(["terms", "set", str(terms), "--tenant-id", TENANT]) == 0
    assert "terms set for 'Test Trust': 2026-27: 6 terms" in capsys.readouterr().out
    terms.write_text(SIX_TERMS.replace("2026-10-23", "2026-13-23"), encoding="utf-8")
    assert waypoint(["terms", "set", str(terms), "--tenant-id", TENANT]) == 1
    assert "line 2: ends: '2026-13-23' is not a date" in capsys.readouterr().err
    remind = ["qa", "remind", "--tenant-id", TENANT, "--today", "2026-11-16"]
    assert waypoint(remind) == 0
    out = capsys.readouterr().out
    assert "no reminders: No term is open for QA summaries today." in out
    assert "Autumn 2 2026-27, opens on Friday 20 November 2026" in out


def test_qa_settings_change_the_windows_and_are_checked(
    store_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    in_store(store_env, seed_trust)
    show = ["terms", "show", "--tenant-id", TENANT, "--today", "2026-12-01"]
    assert waypoint(show) == 0
    out = capsys.readouterr().out
    assert "from 4 weeks before a term ends to 3 weeks after; reminders 14 days" in out
    assert (
        "Autumn term 2026-27: 2026-09-01 to 2026-12-18, QA window 2026-11-20 to 2027-01-08"
    ) in out
    settings = ["qa", "settings", "--tenant-id", TENANT]
    assert waypoint([*settings, "--weeks-before", "2", "--reminder-days", "7"]) == 0
    assert "from 2 weeks before a term ends to 3 weeks after; reminders 7 days" in (
        capsys.readouterr().out
    )
    assert waypoint([*settings, "--weeks-after", "20"]) == 1
    assert "nothing changed: weeks after must be from 0 to 8 (not 20)" in capsys.readouterr().err
    assert waypoint(show) == 0
    assert "QA window 2026-12-04 to 2027-01-08" in capsys.readouterr().out


async def test_status_reads_a_whole_trust_in_the_same_few_queries_however_many_schools(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    from sqlalchemy import event

    from storage.academic_calendar import default_terms
    from storage.models import School
    from storage.qa_compliance import compliance

    seeded = await seed_qa(sessions)
    autumn = default_terms(2026)[0]
    statements: list[str] = []

    def count(*args: Any) -> None:
        # SQLite's explicit BEGIN is not a query.
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            statements.append(str(args[2]))

    async def queries() -> int:
        statements.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            async with sessions() as session:
                await compliance(session, trust_id=seeded.trust_id, term=autumn)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        return len(statements)

    few = await queries()
    async with sessions.begin() as session:
        session.add_all(
            School(
                trust_id=seeded.trust_id, urn=f"2000{n:02d}", name=f"School {n}", phase="primary"
            )
            for n in range(30)
        )
    # The schools, their subject leads and the term's summaries: one statement.
    assert few == 1
    assert await queries() == few
