"""How long a message waits for a reader who has not installed Waypoint yet.

Past its bound a message is old news that would mislead more than inform, so it
expires ("expired: never installed") instead of arriving late. storage/outbox.py
keeps the rows; these are the kinds and their bounds.
"""

from __future__ import annotations

from datetime import timedelta

# For someone who has not installed Waypoint yet: sent when they do, within its bound.
WAITING = "waiting"
# Waited its bound (or was replaced) and was never delivered: final.
EXPIRED = "expired"
NEVER_INSTALLED = "never installed"

# Kinds of message, where a kind's bound differs from a plain notice's.
TRUST_DIGEST_KIND = "trust_digest"
SCHOOL_DIGEST_KIND = "school_digest"
ATTENDANCE_NOTICE = "attendance_notice"
# A coach's session, with its action step, for the coachee.
COACHING_STEP = "coaching_step"
REVIEW_REMINDER_KIND = "review_reminder"

# A digest is one week's picture: next week's replaces one still waiting
# (`enqueue_many(latest_only=True)`), and a week on it says nothing current.
DIGEST_WAIT = timedelta(days=7)
# An attendance notice asks the lead to look at a concern: it is withdrawn when the
# concern is closed (`withdraw_waiting`); after a month the school's own follow-up
# (reviews every fortnight or sooner) has overtaken it.
ATTENDANCE_NOTICE_WAIT = timedelta(days=30)
# An action step, a reminder or another notice: still worth reading for about half a
# term; by then the next session, visit or review has superseded it.
NOTICE_WAIT = timedelta(days=30)
WAIT_BOUNDS: dict[str, timedelta] = {
    TRUST_DIGEST_KIND: DIGEST_WAIT,
    SCHOOL_DIGEST_KIND: DIGEST_WAIT,
    ATTENDANCE_NOTICE: ATTENDANCE_NOTICE_WAIT,
    COACHING_STEP: NOTICE_WAIT,
    REVIEW_REMINDER_KIND: NOTICE_WAIT,
}


def wait_bound(kind: str) -> timedelta:
    """How long a message of this kind waits for a reader who has not installed Waypoint."""
    return WAIT_BOUNDS.get(kind, NOTICE_WAIT)


def attendance_notice_key(concern_id: int) -> str:
    """The period of a concern's notice to its attendance leads: one per lead and concern,
    withdrawn while still waiting when the concern is closed."""
    return f"concern-{concern_id}"
