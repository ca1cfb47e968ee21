"""Attendance concerns: raise one in a card, follow it through, close it.

Anyone on a school's staff raises a concern for that school. Its attendance
leads and head (and trust-level attendance leads) see, update and close it;
everyone else gets counts. Every look at a concern and every change is audited
by id; nothing here logs, and the notice to the attendance leads carries no
pupil data.

`raising` (the raise card), `concern_card` (one concern), `following` (update
and close), `lists` (lists and counts).
"""

from __future__ import annotations

from dialogs.attendance.concern_card import open_concern
from dialogs.attendance.following import close, closing, edit, update
from dialogs.attendance.lists import list_concerns, list_school
from dialogs.attendance.raising import open_form, save
from dialogs.attendance.verbs import AttendanceVerb
from dialogs.registry import Registry
from storage.models import STAFF_ROLES


def register(registry: Registry) -> None:
    registry.command(
        "raise_concern",
        title="Raise a concern",
        summary="Raise a pupil attendance concern with the school's attendance lead",
        phrases=(
            "raise concern",
            "raise a concern",
            "attendance",
            "attendance concern",
            "raise an attendance concern",
        ),
        private=True,
        example="raise concern",
        roles=STAFF_ROLES,
    )(open_form)
    registry.command(
        "attendance_concerns",
        title="Attendance concerns",
        summary="Open attendance concerns, the most overdue review first (others see counts)",
        phrases=("concerns", "attendance concerns", "open concerns"),
        private=True,
        example="concerns [school]",
        roles=STAFF_ROLES,
    )(list_concerns)
    registry.verb(AttendanceVerb.save, private=True, roles=STAFF_ROLES)(save)
    registry.verb(AttendanceVerb.open, private=True, roles=STAFF_ROLES)(open_concern)
    registry.verb(AttendanceVerb.edit, private=True, roles=STAFF_ROLES)(edit)
    registry.verb(AttendanceVerb.update, private=True, roles=STAFF_ROLES)(update)
    registry.verb(AttendanceVerb.closing, private=True, roles=STAFF_ROLES)(closing)
    registry.verb(AttendanceVerb.close, private=True, roles=STAFF_ROLES)(close)
    registry.verb(AttendanceVerb.list, private=True, roles=STAFF_ROLES)(list_school)
