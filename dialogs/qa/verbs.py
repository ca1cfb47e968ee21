"""QA's card verbs: the names its cards and its handlers share."""

from __future__ import annotations

from enum import StrEnum


class QaVerb(StrEnum):
    # The form for one (school, subject), from a reminder or a status card.
    open = "qa.open"
    save = "qa.save"
    show = "qa.show"
    # One school's status, and a page of a many-school status.
    status = "qa.status"
    status_page = "qa.status_page"
