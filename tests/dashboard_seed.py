"""A small trust seeded through the storage functions the commands use, for the
dashboard's data tests: three schools in two hubs and two phases, each with its
categories, coaching, QA, actions, attendance concerns and visits. Every text a
person typed is distinctive ("Secret …", "ZZPUPIL…") so a test can look for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import default_terms
from storage.actions import Rag, mark_action_done, rate_action
from storage.attendance.concerns import ConcernDetails, raise_concern
from storage.categories import record_categorisation
from storage.coaching.sessions import SessionDetails, record_coaching_session
from storage.engine import Sessions
from storage.frameworks import install_framework, load_preset
from storage.models import CoachingStrand, School, Trust
from storage.qa import QaContent, record_qa_summary
from storage.strands import set_strands
from storage.visits import VisitRecorded, record_visit
from tests.support import HEAD, TEACHER, TRUST_LEAD, Seeded, add_person, add_school, seed_trust

# Thursday 10 December 2026: the autumn term (1 September to 18 December) is in its
# QA window; its weeks run from Monday 31 August.
TODAY = date(2026, 12, 10)
AUTUMN = default_terms(2026)[0]
ADVISER = "bbbbbbbb-0000-4000-8000-000000000001"
GOVERNOR = "bbbbbbbb-0000-4000-8000-000000000002"
SECRET = "Secret"
PUPIL = "ZZPUPIL"


@dataclass
class Trust3:
    seeded: Seeded
    oakfield: int
    st_marys: int
    hill: int


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def _form(n: int) -> str:
    return f"{n:032d}"


async def seed_dashboard_trust(sessions: Sessions) -> Trust3:
    """Oakfield Primary (hub North), St Mary's C of E (primary, hub South) and Hill
    Secondary (hub North). The numbers each panel should show are in the tests."""
    seeded = await seed_trust(sessions)
    trust_id = seeded.trust_id
    oakfield, st_marys = seeded.school_ids["100001"], seeded.school_ids["100002"]
    hill = await add_school(sessions, trust_id, "100003", "Hill Secondary")
    async with sessions.begin() as session:
        await session.execute(update(School).where(School.id == hill).values(phase="secondary"))
        await session.execute(
            update(School).where(School.id.in_([oakfield, hill])).values(hub="North")
        )
        await session.execute(update(School).where(School.id == st_marys).values(hub="South"))
        await session.execute(
            update(Trust).where(Trust.id == trust_id).values(coaching_target_percent=75)
        )
        await install_framework(session, trust_id=trust_id, spec=load_preset("five-categories"))
        await set_strands(session, trust_id=trust_id, names=["Oracy"])
        lead = seeded.person_ids[TRUST_LEAD]
        head = seeded.person_ids[HEAD]
        adviser = await add_person(
            session, trust_id, ADVISER, "Ava Adviser", ["sia"], [st_marys, hill]
        )
        seeded.person_ids[ADVISER] = adviser
        seeded.person_ids[GOVERNOR] = await add_person(
            session, trust_id, GOVERNOR, "Gil Governor", ["governor"], [oakfield]
        )
        tia = await add_person(
            session,
            trust_id,
            "cccccccc-0000-4000-8000-000000000001",
            "Tia Teacher",
            ["teacher"],
            [oakfield],
        )
        await add_person(
            session,
            trust_id,
            "cccccccc-0000-4000-8000-000000000002",
            "Hugo Teacher",
            ["teacher"],
            [hill],
        )
        lara = await add_person(
            session,
            trust_id,
            "cccccccc-0000-4000-8000-000000000003",
            "Lara Lead",
            ["subject_lead"],
            [oakfield],
            subjects=["Maths", "English"],
        )

        # Categories: Oakfield Repair (2023, before the three years) -> Recovery ->
        # Reinforcement, confirmed in July 2026; St Mary's first categorised in 2026.
        for n, (school_id, key, day) in enumerate(
            [
                (oakfield, "repair", date(2023, 1, 10)),
                (oakfield, "recovery", date(2024, 3, 1)),
                (oakfield, "reinforcement", date(2025, 7, 1)),
                (oakfield, "reinforcement", date(2026, 7, 1)),
                (st_marys, "excellence", date(2026, 7, 9)),
            ]
        ):
            await record_categorisation(
                session,
                trust_id=trust_id,
                school_id=school_id,
                category_key=key,
                decided_on=day,
                attendees="Secret attendees",
                rationale="Secret rationale",
                recorded_by=lead,
                form_id=_form(100 + n),
            )

        # Coaching: Tom (Oakfield) held on 7 December; Tia's session cancelled; Sam
        # (St Mary's) held on 1 October, outside the last six weeks.
        strand = await session.scalar(select(CoachingStrand.id))
        for n, (coachee, school_id, day, status) in enumerate(
            [
                (seeded.person_ids[TEACHER], oakfield, date(2026, 12, 7), "held"),
                (tia, oakfield, date(2026, 12, 7), "cancelled"),
                (
                    seeded.person_ids["aaaaaaaa-0000-4000-8000-000000000005"],
                    st_marys,
                    date(2026, 10, 1),
                    "held",
                ),
            ]
        ):
            await record_coaching_session(
                session,
                trust_id=trust_id,
                coach_id=head,
                form_id=_form(200 + n),
                details=SessionDetails(
                    coachee_id=coachee,
                    school_id=school_id,
                    held_on=day,
                    strand_id=strand,
                    status=status,
                    action_step="Secret coaching step",
                    notes="Secret coaching note",
                    next_session_on=None,
                ),
                logged_at=at(day),
            )

        # QA, autumn term: Oakfield Maths red then amber (latest wins), English
        # expected and missing; St Mary's History green.
        for n, (school_id, subject, author, judgement) in enumerate(
            [
                (oakfield, "Maths", lara, "red"),
                (oakfield, "Maths", lara, "amber"),
                (
                    st_marys,
                    "History",
                    seeded.person_ids["aaaaaaaa-0000-4000-8000-000000000005"],
                    "green",
                ),
            ]
        ):
            await record_qa_summary(
                session,
                trust_id=trust_id,
                school_id=school_id,
                subject=subject,
                term=AUTUMN,
                author_id=author,
                form_id=_form(300 + n),
                content=QaContent(
                    strengths="Secret strengths",
                    areas_for_development="Secret areas",
                    evidence=["deep_dive"],
                    judgement=judgement,
                    actions="Secret QA actions",
                    cpd="Secret cpd",
                ),
                submitted_at=at(date(2026, 12, 1)),
            )

        # Visits and actions. Oakfield: steps A, B, C due 1 November at the first
        # visit; C marked done; B rated amber in the first minutes of October; A rated
        # red at the second visit, which sets step D. St Mary's: step E, rated green in December.
        first = await _visit(
            session,
            trust_id,
            oakfield,
            adviser,
            1,
            date(2026, 9, 15),
            ["A", "B", "C"],
            date(2026, 11, 1),
            {},
            400,
        )
        a, b, c = (action.id for action in first.actions)
        await mark_action_done(
            session, action_id=c, school_id=oakfield, by_person_id=head, at=at(date(2026, 10, 20))
        )
        await rate_action(
            session,
            action_id=b,
            school_id=oakfield,
            rag=Rag.amber,
            by_person_id=adviser,
            # 00:30 on 1 October in London (BST): October's, though September's in UTC.
            at=datetime(2026, 9, 30, 23, 30, tzinfo=UTC),
        )
        await _visit(
            session,
            trust_id,
            oakfield,
            adviser,
            2,
            date(2026, 11, 20),
            ["D"],
            date(2027, 1, 31),
            {a: Rag.red},
            401,
        )
        second = await _visit(
            session,
            trust_id,
            st_marys,
            adviser,
            1,
            date(2026, 10, 10),
            ["E"],
            date(2026, 12, 31),
            {},
            402,
        )
        await rate_action(
            session,
            action_id=second.actions[0].id,
            school_id=st_marys,
            rag=Rag.green,
            by_person_id=adviser,
            at=at(date(2026, 12, 1)),
        )
        # Last academic year's visit to Hill does not count this year.
        await _visit(session, trust_id, hill, adviser, 1, date(2026, 6, 1), [], None, {}, 403)

        # Attendance: Oakfield two at "monitor" (one severe, raised 8 December; one
        # persistent) and one severe at "listen" raised 20 September; St Mary's one
        # severe at "expect" raised 9 December; Hill one severe at "enforce" raised in
        # June, last term.
        for n, (school_id, percent, stage, day) in enumerate(
            [
                (oakfield, "45", "monitor", date(2026, 12, 8)),
                (oakfield, "88", "monitor", date(2026, 11, 3)),
                (oakfield, "40", "listen", date(2026, 9, 20)),
                (st_marys, "30", "expect", date(2026, 12, 9)),
                (hill, "20", "enforce", date(2026, 6, 10)),
            ]
        ):
            await raise_concern(
                session,
                trust_id=trust_id,
                raised_by=head,
                form_id=_form(500 + n),
                details=ConcernDetails(
                    school_id=school_id,
                    pupil_ref=f"{PUPIL}{n:03d}",
                    year_group="Y7",
                    attendance_percent=Decimal(percent),
                    unauthorised_sessions=2,
                    concern_type="severe",
                    vulnerable=[],
                    done_so_far="Secret done so far",
                    stage=stage,
                ),
                raised_at=at(day),
                today=day,
            )
    return Trust3(seeded, oakfield, st_marys, hill)


async def _visit(
    session: AsyncSession,
    trust_id: int,
    school_id: int,
    adviser: int,
    number: int,
    day: date,
    steps: list[str],
    due_on: date | None,
    ratings: dict[int, Rag],
    form: int,
) -> VisitRecorded:
    return await record_visit(
        session,
        trust_id=trust_id,
        school_id=school_id,
        adviser_id=adviser,
        number=number,
        visited_on=day,
        focus="Secret focus",
        strengths="Secret visit strengths",
        risks="Secret risks",
        next_visit_on=None,
        next_steps=[f"Secret step {step}" for step in steps],
        owner_id=None,
        due_on=due_on,
        ratings=ratings,
        form_id=_form(form),
        at=at(day),
    )
