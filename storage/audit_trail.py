"""Reading the audit trail back (`waypoint audit`): who did or tried what, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, Person, School


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    person_id: int | None
    person_name: str | None
    action: str
    outcome: str
    school_name: str | None
    subject_type: str | None
    subject_id: int | None

    def __str__(self) -> str:
        who = f"{self.person_name} (#{self.person_id})" if self.person_id else "waypoint"
        subject = f"{self.subject_type} #{self.subject_id}" if self.subject_type else "-"
        when = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return "\t".join((when, who, self.action, self.outcome, self.school_name or "-", subject))


async def audit_trail(
    session: AsyncSession, *, trust_id: int, since: datetime | None = None
) -> list[AuditLine]:
    """The trust's audit events, oldest first; ids and names only, never free text."""
    query = (
        select(
            AuditEvent.at,
            AuditEvent.person_id,
            Person.display_name,
            AuditEvent.action,
            AuditEvent.outcome,
            School.name,
            AuditEvent.subject_type,
            AuditEvent.subject_id,
        )
        .outerjoin(Person, Person.id == AuditEvent.person_id)
        .outerjoin(School, School.id == AuditEvent.school_id)
        .where(AuditEvent.trust_id == trust_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    return [AuditLine(*row) for row in await session.execute(query)]
