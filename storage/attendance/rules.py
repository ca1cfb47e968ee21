"""The DfE's thresholds and the words a concern is recorded in.

Thresholds are the DfE's (*Working together to improve school attendance*):
persistent absence is missing 10% or more of possible sessions (attendance at or
below 90%), severe absence is missing 50% or more (at or below 50%), and the
national framework has schools consider a penalty notice at 10 or more
unauthorised sessions within 10 school weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

PERSISTENT_AT_OR_BELOW = Decimal("90")
SEVERE_AT_OR_BELOW = Decimal("50")
PENALTY_NOTICE_SESSIONS = 10
# Two sessions a day, five days a week, ten weeks.
SESSIONS_IN_10_WEEKS = 100

# The DfE's support-first approach, in order.
STAGES = {
    "expect": "Expect",
    "monitor": "Monitor",
    "listen": "Listen and understand",
    "facilitate": "Facilitate support",
    "formalise": "Formalise support",
    "enforce": "Enforce",
}
CONCERN_TYPES = {
    "persistent": "Persistent absence",
    "severe": "Severe absence",
    "pattern": "Pattern (e.g. Mondays, after holidays)",
    "lateness": "Lateness",
    "unexplained": "Unexplained absence",
    "cme_risk": "Child missing education risk",
    "other": "Other",
}
VULNERABLE_GROUPS = {
    "disadvantaged": "Disadvantaged / pupil premium",
    "sen_support": "SEN support",
    "ehcp": "EHCP",
    "cin_cp": "Child in need or child protection",
    "looked_after": "Looked after",
    "eal": "EAL",
    "young_carer": "Young carer",
}
YEAR_GROUPS = {
    "N": "Nursery",
    "R": "Reception",
    **{str(n): f"Year {n}" for n in range(1, 14)},
}
OUTCOMES = {
    "improved": "Attendance improved",
    "left": "Left the school",
    "support_elsewhere": "Support continues elsewhere (e.g. early help)",
    "legal": "Passed to the local authority (legal intervention)",
    "other": "Other",
}


@dataclass(frozen=True)
class AbsenceFlags:
    persistent: bool
    severe: bool
    penalty_notice: bool


def absence_flags(attendance_percent: Decimal, unauthorised_sessions: int) -> AbsenceFlags:
    """What the figures mean, by the DfE's thresholds (both edges inclusive)."""
    return AbsenceFlags(
        persistent=attendance_percent <= PERSISTENT_AT_OR_BELOW,
        severe=attendance_percent <= SEVERE_AT_OR_BELOW,
        penalty_notice=unauthorised_sessions >= PENALTY_NOTICE_SESSIONS,
    )
