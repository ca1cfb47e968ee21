"""Subject-lead QA: the termly summary card, reading a summary, and `qa status`.

Reminders before a term ends are scheduled work: bot/scheduled/qa_reminders.py.
"""

from __future__ import annotations

from dialogs.qa.access import STATUS_READERS, SUBMITTERS
from dialogs.qa.status import status, status_of_school, status_page
from dialogs.qa.summary import show
from dialogs.qa.summary_form import open_for, open_form, save
from dialogs.qa.verbs import QaVerb
from dialogs.registry import Registry
from storage.models import STAFF_ROLES


def register(registry: Registry) -> None:
    registry.command(
        "qa",
        title="Submit QA summary",
        summary="Your subject's termly QA summary, in one card",
        phrases=("qa", "submit qa", "qa summary", "submit qa summary", "qa form"),
        private=True,
        example="submit qa",
        roles=SUBMITTERS,
    )(open_form)
    registry.command(
        "qa_status",
        title="QA status",
        summary="Which subjects have submitted this term's QA summary, and which have not",
        phrases=("qa status", "qa compliance", "qa summaries"),
        private=True,
        example="qa status [school]",
        roles=STATUS_READERS,
    )(status)
    registry.verb(QaVerb.open, private=True, roles=SUBMITTERS)(open_for)
    registry.verb(QaVerb.save, private=True, roles=SUBMITTERS)(save)
    registry.verb(QaVerb.show, private=True, roles=STAFF_ROLES)(show)
    registry.verb(QaVerb.status, private=True, roles=STATUS_READERS)(status_of_school)
    # Previous / Next on a many-school card: the same readers as the command.
    registry.verb(QaVerb.status_page, private=True, roles=STATUS_READERS)(status_page)
