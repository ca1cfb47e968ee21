"""The relational model: trusts, schools, people, roles, frameworks, conversation state.

Every row belongs to a trust (directly or through its parent); nothing crosses trusts.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both stores: SQLite hands back naive ones otherwise."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # SQLAlchemy reads this class attribute by name; it is never mutated.
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}  # noqa: RUF012


class Role(enum.StrEnum):
    teacher = "teacher"
    coach = "coach"
    subject_lead = "subject_lead"
    head = "head"
    attendance_lead = "attendance_lead"
    sia = "sia"
    trust_lead = "trust_lead"
    admin = "admin"


# Roles held for the whole trust, never at one school: their holders reach every
# school of their trust.
TRUST_WIDE_ROLES = frozenset({Role.trust_lead, Role.admin})
# Roles held either at a school or for the whole trust: a trust-wide attendance lead
# follows every school's concerns, and nothing else of theirs.
EITHER_SCOPE_ROLES = frozenset({Role.attendance_lead})


class Trust(Base):
    __tablename__ = "trust"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A teacher with no coaching session for this many days is due one.
    coaching_interval_days: Mapped[int] = mapped_column(default=14, server_default="14")
    # Share of a school's teachers coached in the last six weeks the trust aims for.
    coaching_target_percent: Mapped[int] = mapped_column(default=80, server_default="80")
    # When the weekly digest goes out, in the trust's own time zone (0 = Monday).
    digest_weekday: Mapped[int] = mapped_column(default=0, server_default="0")
    digest_time: Mapped[str] = mapped_column(String(5), default="07:30", server_default="07:30")
    digest_timezone: Mapped[str] = mapped_column(
        String(64), default="Europe/London", server_default="Europe/London"
    )
    # A QA summary belongs to the term whose window holds its date: from this many
    # weeks before the term's end to this many weeks after it.
    qa_window_weeks_before: Mapped[int] = mapped_column(default=4, server_default="4")
    qa_window_weeks_after: Mapped[int] = mapped_column(default=3, server_default="3")
    # Subject leads without a summary are reminded this many days before the term ends.
    qa_reminder_days: Mapped[int] = mapped_column(default=14, server_default="14")
    # Closed attendance concerns are kept for the academic year of closure plus this
    # many years, then anonymised (`waypoint retention apply`).
    attendance_retention_years: Mapped[int] = mapped_column(default=2, server_default="2")


class Framework(Base):
    """A trust's categorisation framework: its own data, copied from a preset.

    One per trust; a trust that changes framework replaces this row's categories.
    """

    __tablename__ = "framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    categories: Mapped[list[Category]] = relationship(
        back_populates="framework", order_by="Category.rank", cascade="all, delete-orphan"
    )


class Category(Base):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("framework_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    # 1 is the strongest position; higher ranks need more support.
    rank: Mapped[int] = mapped_column(Integer)
    descriptor: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    support: Mapped[list[str]] = mapped_column(JSON, default=list)
    challenge: Mapped[list[str]] = mapped_column(JSON, default=list)
    improvement_target: Mapped[str] = mapped_column(Text, default="")
    monitoring: Mapped[str] = mapped_column(Text, default="")
    needs_attention: Mapped[bool] = mapped_column(default=False)

    framework: Mapped[Framework] = relationship(back_populates="categories")


class School(Base):
    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("trust_id", "urn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    urn: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(40))
    hub: Mapped[str | None] = mapped_column(String(100))


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("trust_id", "aad_object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    aad_object_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))

    # What the person is at which school; the schools they are linked to are the
    # schools of these roles.
    roles: Mapped[list[PersonRole]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="(PersonRole.role, PersonRole.school_id)",
    )
    subjects: Mapped[list[PersonSubject]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PersonSubject.subject"
    )


def _quoted_roles(roles: frozenset[Role]) -> str:
    return ", ".join(f"'{role.value}'" for role in sorted(roles))


class PersonRole(Base):
    """A role a person holds at one school, or for the whole trust (no school).

    Being head of one school and a teacher at another is two rows, and gives a
    teacher's reach at the second. Trust-wide roles never name a school; an
    attendance lead may be either; every other role names one.
    """

    __tablename__ = "person_role"
    __table_args__ = (
        # NULLs are distinct in a unique constraint on both stores: the school rows
        # are unique here, the trust-wide rows by the partial index below.
        UniqueConstraint("person_id", "role", "school_id"),
        Index(
            "uq_person_role_trust_wide",
            "person_id",
            "role",
            unique=True,
            sqlite_where=text("school_id IS NULL"),
            postgresql_where=text("school_id IS NULL"),
        ),
        CheckConstraint(
            f"(role IN ({_quoted_roles(TRUST_WIDE_ROLES)}) AND school_id IS NULL)"
            f" OR role IN ({_quoted_roles(EITHER_SCOPE_ROLES)})"
            f" OR (role NOT IN ({_quoted_roles(TRUST_WIDE_ROLES | EITHER_SCOPE_ROLES)})"
            " AND school_id IS NOT NULL)",
            name="school_fits_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    # Removing a school removes the roles held there.
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), index=True
    )


class PersonSubject(Base):
    """A subject a subject lead leads (at each school where they are subject lead)."""

    __tablename__ = "person_subject"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(80), primary_key=True)


class ConversationRef(Base):
    """Where Waypoint can reach a person or a team proactively (stored at install)."""

    __tablename__ = "conversation_ref"
    __table_args__ = (UniqueConstraint("trust_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str] = mapped_column(String(512))
    conversation_type: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    service_url: Mapped[str] = mapped_column(String(512))
    bot_id: Mapped[str] = mapped_column(String(256))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Saved from a turn whose token was checked. A reference saved in anonymous mode
    # names a service URL nobody vouched for: no token is ever sent there.
    authenticated: Mapped[bool] = mapped_column(default=False, server_default=false())
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Teams answered 403/404: the person blocked or removed Waypoint. Never retried
    # until they install it again.
    gone_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BotStateItem(Base):
    """Bot Framework conversation/user state, one row per storage key, with an eTag."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    e_tag: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcessedActivity(Base):
    """Activities already handled, so a redelivered activity is handled once."""

    __tablename__ = "processed_activity"
    __table_args__ = (UniqueConstraint("channel_id", "conversation_id", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(512))
    activity_id: Mapped[str] = mapped_column(String(256))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEvent(Base):
    """Who did or tried what, when. Never free text nor pupil references."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)


class CoachingStrand(Base):
    """A focus strand of the trust's own teaching approach (e.g. retrieval practice)."""

    __tablename__ = "coaching_strand"
    __table_args__ = (UniqueConstraint("trust_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer)
    # Strands dropped from the trust's list stay on the sessions that used them.
    active: Mapped[bool] = mapped_column(default=True)


class CoachingSession(Base):
    """One incremental coaching session. Notes and action step are for coach and coachee only."""

    __tablename__ = "coaching_session"
    __table_args__ = (UniqueConstraint("trust_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    coachee_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    strand_id: Mapped[int | None] = mapped_column(
        ForeignKey("coaching_strand.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))
    action_step: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    next_session_on: Mapped[date | None] = mapped_column(Date)
    # The card's own id: a double-clicked or redelivered submit stores one session.
    form_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SchoolCategorisation(Base):
    """A school's category as agreed at a standards meeting; the latest one is current."""

    __tablename__ = "school_categorisation"
    __table_args__ = (UniqueConstraint("trust_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    # The name as it was, so history survives a change of framework.
    category_name: Mapped[str] = mapped_column(String(100))
    decided_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The card's own id (storage/forms.py); none for a categorisation loaded by a command.
    form_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Visit(Base):
    """A school improvement adviser's note of visit."""

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("school_id", "number"),
        UniqueConstraint("trust_id", "form_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    number: Mapped[int] = mapped_column(Integer)
    visited_on: Mapped[date] = mapped_column(Date)
    focus: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[str] = mapped_column(Text, default="")
    next_visit_on: Mapped[date | None] = mapped_column(Date)
    # The card's own id (storage/forms.py); none for a visit loaded by a command.
    form_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SchoolAction(Base):
    """A next step a school must carry out: from a visit, or set by hand."""

    __tablename__ = "school_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    # open, done or dropped.
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # The latest RAG rating (red, amber, green); its history is in action_event.
    rag: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ActionEvent(Base):
    """Every RAG rating and status change of an action: who, when, what."""

    __tablename__ = "action_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("school_action.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # "rag" or "status".
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(16))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))


class TermDate(Base):
    """A term of a trust's academic year, as the trust set it (three terms or six).

    A year the trust has not set falls back to the default English calendar
    (storage.terms); rows here always win for their academic year.
    """

    __tablename__ = "term_date"
    __table_args__ = (UniqueConstraint("trust_id", "academic_year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    # "2026-27": the year starts in September.
    academic_year: Mapped[str] = mapped_column(String(7))
    # 1 for the first term of the year, in date order.
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date] = mapped_column(Date)


class QaSummary(Base):
    """A subject lead's termly QA summary; a resubmission is a new version, the latest counts."""

    __tablename__ = "qa_summary"
    __table_args__ = (
        UniqueConstraint("school_id", "subject", "academic_year", "term", "version"),
        UniqueConstraint("trust_id", "form_id"),
        # Compliance reads one term of a whole trust at once.
        Index("ix_qa_summary_term", "trust_id", "academic_year", "term"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(80))
    academic_year: Mapped[str] = mapped_column(String(7))
    term: Mapped[int] = mapped_column(Integer)
    # The term's name when submitted, so history survives a change of term dates.
    term_name: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    strengths: Mapped[str] = mapped_column(Text)
    areas_for_development: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    # red, amber or green.
    judgement: Mapped[str] = mapped_column(String(8))
    actions: Mapped[str] = mapped_column(Text, default="")
    cpd: Mapped[str] = mapped_column(Text, default="")
    # The card's own id: a double-clicked or redelivered submit stores one version.
    form_id: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class QaReminder(Base):
    """A QA reminder claimed for one subject lead, school, subject and term.

    The row is the promise that the reminder is sent at most once: it is written
    before sending and removed again only when the send fails.
    """

    __tablename__ = "qa_reminder"
    __table_args__ = (
        # Named by hand: the conventional name would pass PostgreSQL's 63 characters.
        UniqueConstraint(
            "trust_id",
            "school_id",
            "subject",
            "academic_year",
            "term",
            "person_id",
            name="uq_qa_reminder_once",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(80))
    academic_year: Mapped[str] = mapped_column(String(7))
    term: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttendanceConcern(Base):
    """A pupil attendance concern: pupil data, for the school's attendance staff only.

    The pupil is a reference (MIS id or initials), never a name. Derived flags are
    stored as they were worked out from the figures given when it was raised.
    """

    __tablename__ = "attendance_concern"
    __table_args__ = (
        # The open list of a school, most overdue review first.
        Index("ix_attendance_concern_open", "trust_id", "school_id", "status", "next_review_on"),
        UniqueConstraint("trust_id", "form_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    pupil_ref: Mapped[str] = mapped_column(String(20))
    year_group: Mapped[str] = mapped_column(String(4))
    # Exact to two places: 90.00 is persistent absence, 90.01 is not.
    attendance_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2, asdecimal=True))
    unauthorised_sessions_10_weeks: Mapped[int] = mapped_column(Integer)
    concern_type: Mapped[str] = mapped_column(String(32))
    vulnerable: Mapped[list[str]] = mapped_column(JSON, default=list)
    done_so_far: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(16))
    persistent_absence: Mapped[bool] = mapped_column(default=False)
    severe_absence: Mapped[bool] = mapped_column(default=False)
    consider_penalty_notice: Mapped[bool] = mapped_column(default=False)
    # open or closed.
    status: Mapped[str] = mapped_column(String(8), default="open")
    outcome: Mapped[str | None] = mapped_column(String(32))
    next_review_on: Mapped[date | None] = mapped_column(Date)
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The card's own id: a double-clicked or redelivered submit raises one concern.
    form_id: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    anonymised_at: Mapped[datetime | None] = mapped_column()


class ConcernEvent(Base):
    """One entry of a concern's chronology: raised, stage, action, review, closed, anonymised."""

    __tablename__ = "concern_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_concern.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(16))
    # The day an action was taken (it may be logged later), or the review date set.
    on_date: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")
    # The update or close card that made it (its ConcernChange), if a card did.
    form_id: Mapped[str | None] = mapped_column(String(64))


class ConcernChange(Base):
    """One update or close card applied to a concern: stored once per form
    (storage/forms.py), however often the card arrives; its entries are the
    concern's events with the same form id."""

    __tablename__ = "concern_change"
    __table_args__ = (UniqueConstraint("trust_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    concern_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_concern.id", ondelete="CASCADE"), index=True
    )
    # update or close.
    kind: Mapped[str] = mapped_column(String(8))
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    form_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One proactive message to one person: a digest, a reminder or a notice.

    Unique per (trust, kind, period, recipient): composing the same digest twice,
    or on two replicas at once, queues it once.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("trust_id", "kind", "period", "recipient_id"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_recipient_status", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    # trust_digest, school_digest, qa_reminder, coaching_step, attendance_notice, …
    kind: Mapped[str] = mapped_column(String(32))
    # The digest period ("2026-W47") or the notice's own key ("coaching:123").
    period: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # Who asked for it (a trust lead's "digest", a coach's session), for the report.
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The message to send: {"text": …, "card": …}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending → sending → sent | gone | failed | unconfirmed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class SendThrottle(Base):
    """Teams said 429: every sender waits until `until` (one row per trust)."""

    __tablename__ = "send_throttle"

    trust_id: Mapped[int] = mapped_column(
        ForeignKey("trust.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime]


class DigestRun(Base):
    """A week's digests composed for a trust: once per period, whoever asks."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("trust_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))
    composed_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued: Mapped[int] = mapped_column(Integer, default=0)
