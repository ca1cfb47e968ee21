"""Incremental coaching: log a session in one card, see mine, see coverage.

Content private, activity visible: a session's notes and action step are shown
only to its coach and its coachee; coverage shows counts and strands.
"""

from __future__ import annotations

from dialogs.coaching.access import COVERAGE_READERS, LOGGERS
from dialogs.coaching.coverage import coverage
from dialogs.coaching.mine import my_coaching, view
from dialogs.coaching.session_form import edit, open_form, save
from dialogs.coaching.verbs import CoachingVerb
from dialogs.registry import Registry
from storage.models import STAFF_ROLES


def register(registry: Registry) -> None:
    registry.command(
        "log_coaching",
        title="Log coaching",
        summary="Log an incremental coaching session in one card",
        phrases=("log coaching", "coaching", "log a session", "log a coaching session"),
        private=True,
        example="log coaching",
        roles=LOGGERS,
    )(open_form)
    registry.command(
        "my_coaching",
        title="My coaching",
        summary="Your recent sessions, who is due one, your current action step",
        phrases=("my coaching", "my sessions", "my action step"),
        private=True,
        roles=STAFF_ROLES,
    )(my_coaching)
    registry.command(
        "coaching_coverage",
        title="Coaching coverage",
        summary="Share of teachers coached, frequency, cancellations (no content)",
        phrases=("coaching coverage", "coverage"),
        private=False,
        example="coaching coverage [school]",
        roles=COVERAGE_READERS,
    )(coverage)
    registry.verb(CoachingVerb.school, private=True, roles=LOGGERS)(open_form)
    registry.verb(CoachingVerb.save, private=True, roles=LOGGERS, writes=True)(save)
    registry.verb(CoachingVerb.edit, private=True, roles=LOGGERS)(edit)
    registry.verb(CoachingVerb.view, private=True, roles=STAFF_ROLES)(view)
