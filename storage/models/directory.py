"""Who is who: a trust, its schools and people, and the roles each person holds at
a school or for the whole trust."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, utcnow


class Role(enum.StrEnum):
    teacher = "teacher"
    coach = "coach"
    subject_lead = "subject_lead"
    head = "head"
    attendance_lead = "attendance_lead"
    sia = "sia"
    trust_lead = "trust_lead"
    admin = "admin"
    # A member of a school's local governing body: reads the school's category,
    # notes of visit and actions; nothing about pupils, coaching or QA content.
    governor = "governor"


# Roles held for the whole trust, never at one school: their holders reach every
# school of their trust.
TRUST_WIDE_ROLES = frozenset({Role.trust_lead, Role.admin})


# Everyone who works in or for the trust's schools: every role but a governor's. A
# command for staff (raising a concern, counts of concerns, one's own coaching) is
# never a governor's, and a governor's school is not one where they are staff.
STAFF_ROLES = frozenset(Role) - {Role.governor}


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
    # The term (1 = the year's first) that holds the annual standards meeting; none
    # is the last term of the year (storage/standards.py).
    standards_meeting_term: Mapped[int | None] = mapped_column()
    # One more with every change to the trust's people, roles, subjects, schools or
    # settings, in the change's own transaction (storage/directory_stamp.py): a
    # process that cached someone's reach at this number may use it while it holds.
    directory_version: Mapped[int] = mapped_column(default=0, server_default="0")


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
