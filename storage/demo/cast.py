"""Who and when, for the demo's term of history: its people and schools by name, and
days counted back from the trust's today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.directory import trust_zone
from storage.models import Person, School, Trust


@dataclass(frozen=True)
class Cast:
    """The demo trust on one day: every date of its history is counted back from `today`."""

    trust_id: int
    today: date
    zone: ZoneInfo
    # Display name -> person id; URN -> school.
    people: dict[str, int]
    schools: dict[str, School]

    def day(self, ago: int) -> date:
        """The school day `ago` days before today (negative: after it): a Saturday or
        Sunday is taken back to the Friday before."""
        day = self.today - timedelta(days=ago)
        return day - timedelta(days=max(0, day.weekday() - 4))

    def at(self, ago: int, hour: int = 16) -> datetime:
        """A moment of that day, at `hour` on the school's clock, in UTC as stored."""
        local = datetime.combine(self.day(ago), time(hour, 0), tzinfo=self.zone)
        return local.astimezone(UTC)

    def person(self, name: str) -> int:
        return self.people[name]

    def school(self, urn: str) -> School:
        return self.schools[urn]


async def cast_of(session: AsyncSession, *, trust: Trust, today: date) -> Cast:
    people = {
        person.display_name: person.id
        for person in await session.scalars(select(Person).where(Person.trust_id == trust.id))
    }
    schools = {
        school.urn: school
        for school in await session.scalars(select(School).where(School.trust_id == trust.id))
    }
    return Cast(trust.id, today, trust_zone(trust), people, schools)


# The schools by URN (storage/demo/schools.csv).
ST_MARYS = "109234"
OAKFIELD = "118645"
BRONTE = "137520"
LLWYNCELYN = "401872"
RIVERSIDE = "126781"
KINGSBRIDGE = "144903"
