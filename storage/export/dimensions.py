"""The export's dimensions: schools, terms, categories, coaching strands, people and
the roles they hold at each school.

People are ids and display names only: no email or Entra object id. Power BI joins
on `person_id`, and a name is all a report shows; an address or a directory id in a
file that leaves Waypoint would be contact and identity data with no analytic use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.academic_calendar import (
    Term,
    academic_year_of,
    default_terms,
    year_label,
    year_start,
)
from storage.directory import trust_today, trust_zone
from storage.export.schema import Batches, Calendar, Table, streamed, term_key
from storage.models import (
    Category,
    CoachingSession,
    CoachingStrand,
    Framework,
    Person,
    PersonRole,
    QaSummary,
    School,
    SchoolAction,
    SchoolCategorisation,
    TermDate,
    Trust,
    Visit,
)


class NoSuchTrust(LookupError):
    """The trust asked for is not in the store."""


async def trust_calendar(session: AsyncSession, *, trust_id: int) -> Calendar:
    """The trust's time zone and every term from its first recorded fact to this year.

    Years the trust has set its terms for use those; any other year in the range is
    the default English calendar (as storage.terms does). Two statements, whatever
    the size of the trust.
    """
    trust = await session.get(Trust, trust_id)
    if trust is None:
        raise NoSuchTrust(f"no trust with id {trust_id}")
    this_year = academic_year_of(trust_today(trust, datetime.now(UTC)))

    def earliest(column: InstrumentedAttribute[Any], owner: InstrumentedAttribute[int]) -> Any:
        return select(func.min(column)).where(owner == trust_id).scalar_subquery()

    firsts = (
        await session.execute(
            select(
                earliest(SchoolCategorisation.decided_on, SchoolCategorisation.trust_id),
                earliest(Visit.visited_on, Visit.trust_id),
                earliest(CoachingSession.held_on, CoachingSession.trust_id),
                earliest(SchoolAction.due_on, SchoolAction.trust_id),
                earliest(QaSummary.academic_year, QaSummary.trust_id),
            )
        )
    ).one()
    starts = [academic_year_of(day) for day in firsts[:4] if day is not None]
    if firsts[4] is not None:
        starts.append(year_start(firsts[4]))
    stored = await session.scalars(select(TermDate).where(TermDate.trust_id == trust_id))
    by_year: dict[str, list[Term]] = {}
    for row in stored:
        by_year.setdefault(row.academic_year, []).append(
            Term(row.academic_year, row.number, row.name, row.starts, row.ends)
        )
    years = {year_label(start) for start in range(min([*starts, this_year]), this_year + 1)}
    terms: list[Term] = []
    for label in sorted(years | set(by_year)):
        stored_terms = sorted(by_year.get(label, []), key=lambda term: term.number)
        terms += stored_terms or default_terms(year_start(label))
    return Calendar(trust_id=trust_id, zone=trust_zone(trust), terms=tuple(terms))


async def _schools(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(School.id, School.urn, School.name, School.hub, School.phase)
        .where(School.trust_id == calendar.trust_id)
        .order_by(School.name, School.id)
    )
    async for batch in streamed(session, query):
        yield [tuple(row) for row in batch]


async def _terms(session: AsyncSession, calendar: Calendar) -> Batches:
    yield [
        (
            term_key(term.academic_year, term.number),
            term.academic_year,
            term.number,
            term.name,
            term.starts,
            term.ends,
        )
        for term in calendar.terms
    ]


async def _categories(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(
            Category.id,
            Category.name,
            Category.rank,
            Category.needs_attention,
            Category.termly_review,
            Framework.name,
        )
        .join(Framework, Framework.id == Category.framework_id)
        .where(Framework.trust_id == calendar.trust_id)
        .order_by(Category.rank)
    )
    async for batch in streamed(session, query):
        yield [tuple(row) for row in batch]


async def _strands(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(
            CoachingStrand.id, CoachingStrand.name, CoachingStrand.position, CoachingStrand.active
        )
        .where(CoachingStrand.trust_id == calendar.trust_id)
        .order_by(CoachingStrand.position, CoachingStrand.id)
    )
    async for batch in streamed(session, query):
        yield [tuple(row) for row in batch]


async def _people(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(Person.id, Person.display_name)
        .where(Person.trust_id == calendar.trust_id)
        .order_by(Person.id)
    )
    async for batch in streamed(session, query):
        yield [tuple(row) for row in batch]


async def _person_roles(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(PersonRole.person_id, PersonRole.role, PersonRole.school_id)
        .join(Person, Person.id == PersonRole.person_id)
        .where(Person.trust_id == calendar.trust_id)
        .order_by(PersonRole.person_id, PersonRole.role, PersonRole.school_id)
    )
    async for batch in streamed(session, query):
        yield [tuple(row) for row in batch]


DIMENSIONS = (
    Table("dim_schools", ("school_id", "urn", "name", "hub", "phase"), _schools),
    Table(
        "dim_terms",
        ("term_key", "academic_year", "term_number", "name", "starts_on", "ends_on"),
        _terms,
    ),
    Table(
        "dim_categories",
        ("category_id", "name", "rank", "needs_attention", "termly_review", "framework"),
        _categories,
    ),
    Table("dim_strands", ("strand_id", "name", "position", "active"), _strands),
    Table("dim_people", ("person_id", "display_name"), _people),
    Table("dim_person_roles", ("person_id", "role", "school_id"), _person_roles),
)
