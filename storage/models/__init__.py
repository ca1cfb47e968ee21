"""The relational model: trusts, schools, people, roles, frameworks, conversation state.

Every row belongs to a trust (directly or through its parent); nothing crosses trusts.

The models live in this package's modules, one per domain; every one of them is
importable from here, and importing this package declares every table on
`Base.metadata` (which Alembic's env.py compares the migrations with).
"""

from __future__ import annotations

from storage.models.attendance import AttendanceConcern, ConcernChange, ConcernEvent
from storage.models.audit import AuditEvent
from storage.models.base import NAMING, Base, UTCDateTime, utcnow
from storage.models.coaching import CoachingSession, CoachingStrand
from storage.models.conversations import BotStateItem, ConversationRef, ProcessedActivity
from storage.models.delivery import Delivery, DigestRun, SendThrottle
from storage.models.directory import (
    EITHER_SCOPE_ROLES,
    STAFF_ROLES,
    TRUST_WIDE_ROLES,
    Person,
    PersonRole,
    PersonSubject,
    Role,
    School,
    Trust,
)
from storage.models.improvement import (
    ActionEvent,
    Category,
    Framework,
    SchoolAction,
    SchoolCategorisation,
    Visit,
)
from storage.models.programme import VisitEntitlement, VisitPlan
from storage.models.qa import QaReminder, QaSummary, TermDate
from storage.models.standards import StandardsReview

__all__ = [
    "EITHER_SCOPE_ROLES",
    "NAMING",
    "STAFF_ROLES",
    "TRUST_WIDE_ROLES",
    "ActionEvent",
    "AttendanceConcern",
    "AuditEvent",
    "Base",
    "BotStateItem",
    "Category",
    "CoachingSession",
    "CoachingStrand",
    "ConcernChange",
    "ConcernEvent",
    "ConversationRef",
    "Delivery",
    "DigestRun",
    "Framework",
    "Person",
    "PersonRole",
    "PersonSubject",
    "ProcessedActivity",
    "QaReminder",
    "QaSummary",
    "Role",
    "School",
    "SchoolAction",
    "SchoolCategorisation",
    "SendThrottle",
    "StandardsReview",
    "TermDate",
    "Trust",
    "UTCDateTime",
    "Visit",
    "VisitEntitlement",
    "VisitPlan",
    "utcnow",
]
