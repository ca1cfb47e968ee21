"""Notes of visit as the school and the trust read them: `visits [school]` lists a
school's notes newest first against its visit programme, and each opens in full.

Recording a note of visit is dialogs/visit.py; who records and who reads is
dialogs/visits/access.py; the full note's card, which any dialog may show for a
visit id, is dialogs/visits/note.py.
"""

from __future__ import annotations

from dialogs.registry import Registry
from dialogs.visits.access import READERS
from dialogs.visits.listing import list_visits, notes_page, show_note
from dialogs.visits.verbs import VisitVerb


def register(registry: Registry) -> None:
    registry.command(
        "visits",
        title="Notes of visit",
        summary="A school's notes of visit, newest first, against its visits this year",
        phrases=("visits", "notes of visits", "past visits", "visit notes", "visit history"),
        private=True,
        example="visits oakfield",
        roles=READERS,
    )(list_visits)
    registry.verb(VisitVerb.notes, private=True, roles=READERS)(notes_page)
    registry.verb(VisitVerb.show, private=True, roles=READERS)(show_note)
