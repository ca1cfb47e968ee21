"""One QA summary in full: for its author, its school's head and adviser, and trust leads."""

from __future__ import annotations

from dialogs.forms import record_id
from dialogs.qa.access import may_read, refused
from dialogs.qa.words import summary_card
from dialogs.turn import Reply, Turn
from storage.directory import person_name
from storage.qa import qa_summary
from storage.schools import school_in_trust


async def show(turn: Turn) -> Reply:
    summary_id = record_id(turn.data.get("summary_id"))
    async with turn.sessions.begin() as session:
        row = (
            await qa_summary(session, trust_id=turn.actor.trust_id, summary_id=summary_id)
            if summary_id is not None
            else None
        )
        if row is None or not may_read(turn.actor, row):
            await refused(session, turn.actor, "qa.show", school_id=row.school_id if row else None)
            return Reply(
                text="You don't have access to that QA summary: it is for its author, "
                "the school's head and adviser, and trust leads."
            )
        school = await school_in_trust(session, trust_id=row.trust_id, school_id=row.school_id)
        author = await person_name(session, row.author_id)
        return summary_card(
            row,
            school.name if school else "a school",
            zone=turn.zone,
            title=f"QA summary: {row.subject}",
            subtitle=None,
            author=author or "someone no longer in Waypoint",
        )
