"""Coaching's card verbs: the names its cards and its handlers share."""

from __future__ import annotations

from enum import StrEnum


class CoachingVerb(StrEnum):
    # The school chosen first, when the coach coaches at many.
    school = "coaching.school"
    save = "coaching.save"
    edit = "coaching.edit"
    view = "coaching.view"
