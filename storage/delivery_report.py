"""Who a proactive message reached: the delivery rows of one kind and period, by
outcome (for `digest report`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, Person
from storage.outbox import SENT


@dataclass
class DeliveryReport:
    kind: str
    period: str
    counts: dict[str, int] = field(default_factory=dict)
    # Recipients not reached, by name, with why.
    not_reached: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def latest_period(session: AsyncSession, *, trust_id: int, kind: str) -> str | None:
    return await session.scalar(
        select(Delivery.period)
        .where(Delivery.trust_id == trust_id, Delivery.kind == kind)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(1)
    )


async def delivery_report(
    session: AsyncSession, *, trust_id: int, kind: str, period: str
) -> DeliveryReport:
    report = DeliveryReport(kind=kind, period=period)
    where = (Delivery.trust_id == trust_id, Delivery.kind == kind, Delivery.period == period)
    for status, count in await session.execute(
        select(Delivery.status, func.count()).where(*where).group_by(Delivery.status)
    ):
        report.counts[status] = int(count)
    names = await session.execute(
        select(Person.display_name, Delivery.status)
        .join(Person, Person.id == Delivery.recipient_id)
        .where(*where, Delivery.status != SENT)
        .order_by(Delivery.status, Person.display_name)
        .limit(50)
    )
    report.not_reached = [(name, status) for name, status in names]
    return report


async def outbox_counts(session: AsyncSession) -> dict[str, int]:
    """Delivery rows by state, all trusts: one grouped count (the status index serves
    it), for the metrics scrape."""
    rows = await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {str(status): int(count) for status, count in rows}
