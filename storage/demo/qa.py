"""The demo's subject-lead QA summaries: all but one submitted for the term `qa status`
reports on, with mixed judgements. Oakfield Primary's mathematics (Zoë Fairbairn) is
the one missing, so the demo subject lead has a summary to write. Written through
`record_qa_summary`."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import QaOpen, QaPeriod, QaWindow
from storage.demo.cast import BRONTE, KINGSBRIDGE, LLWYNCELYN, RIVERSIDE, ST_MARYS, Cast
from storage.qa import QaContent, record_qa_summary
from storage.terms import qa_period

# (URN, subject, lead, judgement, days before today (or the window's close) submitted,
# strengths, areas for development).
SUMMARIES = (
    (
        ST_MARYS,
        "English",
        "Daniel Okoro",
        "green",
        9,
        "Reading for pleasure is visible in every class; writing outcomes rose.",
        "Spelling in Year 3 is inconsistent.",
    ),
    (
        BRONTE,
        "Science",
        "Chloé Dubois",
        "green",
        12,
        "Practical work is purposeful; assessment is used well at KS4.",
        "Disciplinary vocabulary in Year 7.",
    ),
    (
        BRONTE,
        "History",
        "Kwame Mensah",
        "green",
        6,
        "Pupils write confidently about causation and evidence.",
        "Local history in the KS3 curriculum.",
    ),
    (
        LLWYNCELYN,
        "Geography",
        "Ffion Hughes",
        "amber",
        10,
        "Fieldwork in the local area is well planned.",
        "Map skills are not revisited often enough to stick.",
    ),
    (
        LLWYNCELYN,
        "History",
        "Ffion Hughes",
        "green",
        4,
        "A well-sequenced curriculum with Welsh history throughout.",
        "Chronology in Years 3 and 4.",
    ),
    (
        RIVERSIDE,
        "Art",
        "José Martínez",
        "green",
        14,
        "Sketchbooks show clear progression in drawing.",
        "Knowledge of artists beyond Europe.",
    ),
    (
        KINGSBRIDGE,
        "Mathematics",
        "Agnieszka Wójcik",
        "amber",
        8,
        "Consistent lesson structure; retrieval starters in every lesson.",
        "Problem solving at KS4 foundation tier.",
    ),
    (
        KINGSBRIDGE,
        "English",
        "Matthew Finch",
        "red",
        3,
        "Year 11 revision programme is well attended.",
        "Reading at KS3: a third of Year 8 read well below their age; no intervention yet.",
    ),
)


def reported_window(period: QaPeriod) -> QaWindow | None:
    """The window `qa status` reports on: today's, else the one that closed last."""
    return period.window if isinstance(period, QaOpen) else period.previous


async def submit_summaries(session: AsyncSession, cast: Cast) -> None:
    window = reported_window(await qa_period(session, trust_id=cast.trust_id, today=cast.today))
    if window is None:
        return
    last = min(cast.today, window.closes)
    for n, (urn, subject, lead, judgement, before, strengths, areas) in enumerate(SUMMARIES, 1):
        day: date = max(window.opens, cast.day((cast.today - last).days + before))
        await record_qa_summary(
            session,
            trust_id=cast.trust_id,
            school_id=cast.school(urn).id,
            subject=subject,
            term=window.term,
            author_id=cast.person(lead),
            form_id=f"demo-qa-{n}",
            content=QaContent(
                strengths=strengths,
                areas_for_development=areas,
                evidence=["deep_dive", "book_look", "pupil_voice"][: 1 + n % 3],
                judgement=judgement,
                actions=f"In the subject action plan for next term: {areas}",
                cpd="Subject network meeting next term.",
            ),
            submitted_at=cast.at((cast.today - day).days, 16),
        )
