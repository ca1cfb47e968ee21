"""Visits' card verbs: the names their cards and their handlers share.

Here, apart from the dialogs, so that any card of the job (the note of visit's form,
the list, the full note) can name them without importing another dialog.
"""

from __future__ import annotations

from enum import StrEnum


class VisitVerb(StrEnum):
    # The note of visit's form, for a school chosen on a card; and saving it.
    start = "visit.start"
    save = "visit.save"
    # A school's notes of visit, a page at a time; and one note in full.
    notes = "visit.notes"
    show = "visit.show"
