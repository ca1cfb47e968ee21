"""Incremental coaching: who can be coached, sessions, and coverage.

Content private, activity visible: notes and action steps are read only through
the functions for a session's coach and coachee (`sessions`); `coverage` returns
counts, shares and strand names, never content.
"""

from __future__ import annotations

from datetime import timedelta

from storage.models import Role

HELD = "held"
CANCELLED = "cancelled"
# Who logs coaching sessions, at the schools where they hold the role.
COACHING_LOGGERS = frozenset({Role.coach, Role.head, Role.trust_lead})
# Sessions can be corrected by their author for this long after logging.
EDIT_WINDOW = timedelta(days=7)
