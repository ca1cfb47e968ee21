"""A synthetic trust at scale: schools, staff, and three academic years of history.

At 200 schools: 6,013 staff (30 a school and 13 trust-wide), about 300,000
coaching sessions, 20,000 QA summaries, 30,000 attendance concerns and 20,000
actions (with their status events), and each school's categorisations. Every
figure scales with the number of schools, so 50 schools is a quarter of it.

generate_trust puts the trust in a store: the trust itself as Waypoint adds one
(its framework and coaching strands with it), then its schools and people
(bench/synthetic_people.py) and each school's records (bench/synthetic_history.py),
in the shape bench/synthetic_shape.py describes, bulk-loaded with ids chosen up front
(bench/synthetic_rows.py). Random choices come from a seeded generator: the same
shape gives the same trust.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.synthetic_history import TrustHistory, add_school_history, school_days
from bench.synthetic_people import add_schools, add_staff, add_trust_people
from bench.synthetic_rows import Rows
from bench.synthetic_shape import TrustShape
from storage.academic_calendar import academic_year_of, default_terms
from storage.directory import add_trust
from storage.models import (
    ActionEvent,
    AttendanceConcern,
    Base,
    Category,
    CoachingSession,
    CoachingStrand,
    Framework,
    Person,
    PersonRole,
    PersonSubject,
    QaSummary,
    School,
    SchoolAction,
    SchoolCategorisation,
)

# The tables whose ids are chosen here.
KEYED: tuple[type[Base], ...] = (
    School,
    Person,
    SchoolCategorisation,
    CoachingSession,
    QaSummary,
    AttendanceConcern,
    SchoolAction,
    ActionEvent,
)
# Every table loaded, parents first.
INSERT_ORDER: tuple[type[Base], ...] = (
    School,
    Person,
    PersonRole,
    PersonSubject,
    SchoolCategorisation,
    CoachingSession,
    QaSummary,
    AttendanceConcern,
    SchoolAction,
    ActionEvent,
)


@dataclass
class SyntheticTrust:
    trust_id: int
    shape: TrustShape
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


async def generate_trust(
    sessions: async_sessionmaker[AsyncSession],
    *,
    shape: TrustShape,
    today: date,
    tenant_id: str = "synthetic-trust",
) -> SyntheticTrust:
    started = time.perf_counter()
    rng = random.Random(shape.seed)
    first_year = academic_year_of(today) - (shape.years - 1)
    rows = Rows()

    async with sessions.begin() as session:
        trust = await add_trust(
            session, tenant_id=tenant_id, name="Synthetic Trust", framework_key="five-categories"
        )
        trust_id = trust.id
        categories = list(
            await session.scalars(
                select(Category)
                .join(Framework, Framework.id == Category.framework_id)
                .where(Framework.trust_id == trust_id)
                .order_by(Category.rank)
            )
        )
        strands = list(
            await session.scalars(
                select(CoachingStrand.id).where(CoachingStrand.trust_id == trust_id)
            )
        )
        await rows.start_ids(session, KEYED)

    school_ids = add_schools(rows, trust_id, shape)
    leads = add_trust_people(rows, trust_id, shape, school_ids)
    terms = [
        term for year in range(first_year, first_year + shape.years) for term in default_terms(year)
    ]
    history = TrustHistory(
        trust_id=trust_id,
        shape=shape,
        today=today,
        days=school_days(date(first_year, 9, 1), today),
        past_terms=[term for term in terms if term.starts <= today],
        categories=categories,
        strands=strands,
        recorded_by=leads[0],
    )
    for school_id in school_ids:
        staff = add_staff(rows, trust_id, shape, school_id)
        add_school_history(rows, rng, history, staff)

    async with sessions.begin() as session:
        await rows.insert(session, INSERT_ORDER)
    return SyntheticTrust(
        trust_id=trust_id,
        shape=shape,
        rows=rows.counts(),
        seconds=time.perf_counter() - started,
    )
