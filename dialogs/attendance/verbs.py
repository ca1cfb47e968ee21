"""Attendance's card verbs: the names its cards and its handlers share."""

from __future__ import annotations

from enum import StrEnum


class AttendanceVerb(StrEnum):
    save = "attendance.save"
    open = "attendance.open"
    # The update card, and saving it.
    edit = "attendance.edit"
    update = "attendance.update"
    # The close card, and closing.
    closing = "attendance.closing"
    close = "attendance.close"
    # One school's list, chosen from several.
    list = "attendance.list"
