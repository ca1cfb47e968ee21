"""The demo's coaching: a term of sessions, every teacher coached every three weeks at
five schools, and Oakfield Primary lagging well below the trust's target (one of its
four teachers coached in the last six weeks, a session cancelled, Liam Doherty last
coached eight weeks ago). Written through `record_coaching_session`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.coaching import CANCELLED, HELD
from storage.coaching.sessions import SessionDetails, record_coaching_session
from storage.demo.cast import (
    BRONTE,
    KINGSBRIDGE,
    LLWYNCELYN,
    OAKFIELD,
    RIVERSIDE,
    ST_MARYS,
    Cast,
)
from storage.strands import active_strands

# One action step for each of the trust's starting strands (storage/strands.py), in order.
ACTION_STEPS = (
    "Open each lesson with a five-question retrieval quiz",
    "Pre-teach three tier-2 words before the class reads the text",
    "Ask for every verbal answer again, better, in a full sentence",
    "Model the first paragraph live under the visualiser",
    "Check every pupil on mini-whiteboards before moving on",
    "Ask pupils which strategy they chose, and why",
)
NOTES = (
    "Routines are secure; the step took hold in the first half of the lesson.",
    "Pupils responded well; keep the pace up in the independent practice.",
    "Good start. Next time look at the lower-attaining group's answers.",
)
# A well-covered teacher is coached every three weeks; the n-th coachee of a coach three
# days after the one before, so some were coached this fortnight and some not.
CADENCE = (70, 49, 28, 9)

# (URN, coach, coachees) at the well-covered schools.
COACHING = (
    (ST_MARYS, "Siân Llewelyn", ("Daniel Okoro", "Amira Haddad", "Ben Carter")),
    (ST_MARYS, "Catherine O'Neill", ("Siân Llewelyn",)),
    (BRONTE, "Seán O'Brien", ("Chloé Dubois", "Kwame Mensah", "Rebecca Lowe", "Emma Thornton")),
    (BRONTE, "Anjali Mehta", ("Seán O'Brien",)),
    (LLWYNCELYN, "Catrin Rhys", ("Ffion Hughes", "Dafydd Morgan", "Elin Davies")),
    (LLWYNCELYN, "Imogen Clarke", ("Catrin Rhys",)),
    (RIVERSIDE, "Imogen Clarke", ("José Martínez", "Grace Adeyemi", "Oliver Hart")),
    (KINGSBRIDGE, "Søren Lund", ("Agnieszka Wójcik", "Matthew Finch", "Yusuf Rahman")),
    (KINGSBRIDGE, "Nuala D'Arcy", ("Søren Lund",)),
)
# Oakfield Primary, by hand: (coachee, days ago, status), all coached by Priya Shah.
OAKFIELD_COACH = "Priya Shah"
OAKFIELD_SESSIONS = (
    ("Liam Doherty", 70, HELD),
    ("Hannah Greene", 63, HELD),
    ("Liam Doherty", 56, HELD),
    ("Zoë Fairbairn", 49, HELD),
    ("Hannah Greene", 35, HELD),
    ("Hannah Greene", 21, HELD),
    ("Zoë Fairbairn", 20, CANCELLED),
)


async def coach_the_term(session: AsyncSession, cast: Cast) -> None:
    strands = [strand.id for strand in await active_strands(session, trust_id=cast.trust_id)]
    planned: list[tuple[str, str, str, int, str]] = []
    for urn, coach, coachees in COACHING:
        for n, coachee in enumerate(coachees):
            planned += [(urn, coach, coachee, ago + 3 * n, HELD) for ago in CADENCE]
    planned += [(OAKFIELD, OAKFIELD_COACH, *held) for held in OAKFIELD_SESSIONS]
    # Oldest first, as they were logged; each teacher works through the strands in turn.
    planned.sort(key=lambda plan: (-plan[3], plan[0], plan[2]))
    sessions_of: dict[str, int] = {}
    for number, (urn, coach, coachee, ago, status) in enumerate(planned, 1):
        turn = sessions_of.get(coachee, 0)
        sessions_of[coachee] = turn + 1
        step = (turn + len(coachee)) % len(ACTION_STEPS)
        held = status == HELD
        await record_coaching_session(
            session,
            trust_id=cast.trust_id,
            coach_id=cast.person(coach),
            form_id=f"demo-coaching-{number}",
            details=SessionDetails(
                coachee_id=cast.person(coachee),
                school_id=cast.school(urn).id,
                held_on=cast.day(ago),
                strand_id=strands[step % len(strands)] if strands else None,
                status=status,
                action_step=ACTION_STEPS[step] if held else "",
                notes=NOTES[number % len(NOTES)] if held else "Cancelled: cover needed.",
                next_session_on=cast.day(ago - 21),
            ),
            logged_at=cast.at(ago, 17),
        )
