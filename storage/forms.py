"""Form ids: one per card, so a card sent twice stores once."""

from __future__ import annotations


class FormTaken(Exception):
    """The form id is already stored, for another person, school or trust.

    Form ids are Waypoint's own (uuid4): only a tampered or mixed-up card carries
    one of another record. Nothing is stored, and the other record is not shown.
    """
