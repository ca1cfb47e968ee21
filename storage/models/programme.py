"""A trust's visit programme: how many adviser visits a school of each phase is
entitled to in an academic year, and the focus the trust plans for each visit.

A trust that has loaded nothing for a phase gets the default entitlement
(storage.visit_programme) and no planned focus.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class VisitEntitlement(Base):
    """The visits a year a school of this phase is entitled to, as the trust loaded it."""

    __tablename__ = "visit_entitlement"
    __table_args__ = (UniqueConstraint("trust_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"))
    # One of storage.imports.rows.SCHOOL_PHASES, as School.phase spells it.
    phase: Mapped[str] = mapped_column(String(40))
    visits: Mapped[int] = mapped_column(Integer)


class VisitPlan(Base):
    """The focus the trust plans for a visit number at schools of a phase (e.g. visit 1
    of a primary: "safeguarding, attendance, SIP priorities")."""

    __tablename__ = "visit_plan"
    __table_args__ = (UniqueConstraint("trust_id", "phase", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    focus: Mapped[str] = mapped_column(Text)
