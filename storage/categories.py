"""A school's category: the register agreed at standards meetings, with its history."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import UnaryExpression

from storage.forms import store_once
from storage.frameworks import FrameworkSpec, install_framework
from storage.models import Category, Framework, School, SchoolCategorisation


@dataclass(frozen=True)
class CategoryStanding:
    """Where a school stands: its current categorisation, the category it names (None
    when the framework no longer has it) and the categorisation before it."""

    current: SchoolCategorisation
    category: Category | None
    previous: SchoolCategorisation | None


@dataclass(frozen=True)
class CategorisationRecorded:
    categorisation: SchoolCategorisation
    # False when this form had been stored already (a double click, a redelivery).
    created: bool
    previous: SchoolCategorisation | None


class UnknownCategory(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"the trust's framework has no category {key!r}")


class FrameworkInUse(ValueError):
    """Replacing the framework would drop categories some schools are in now."""

    def __init__(self, schools: dict[str, list[str]]) -> None:
        self.schools = schools
        listed = "; ".join(
            f"{name!s} (now in {', '.join(sorted(names))})" for name, names in schools.items()
        )
        super().__init__(
            "the new framework leaves out categories that schools are in now: "
            f"{listed}. Keep those category keys in the file, or recategorise the "
            "schools first"
        )


def _newest_first() -> tuple[UnaryExpression[date], UnaryExpression[int]]:
    return SchoolCategorisation.decided_on.desc(), SchoolCategorisation.id.desc()


async def framework_categories(session: AsyncSession, *, trust_id: int) -> list[Category]:
    """The trust's categories, strongest first."""
    rows = await session.scalars(
        select(Category)
        .join(Framework, Framework.id == Category.framework_id)
        .where(Framework.trust_id == trust_id)
        .order_by(Category.rank)
    )
    return list(rows)


async def school_category(
    session: AsyncSession, *, trust_id: int, school_id: int
) -> CategoryStanding | None:
    """The school's current category, or None when it has never been categorised."""
    # The category comes in the same statement: every `category` turn asks this.
    latest = (
        await session.execute(
            select(SchoolCategorisation, Category)
            .outerjoin(Category, Category.id == SchoolCategorisation.category_id)
            .where(
                SchoolCategorisation.trust_id == trust_id,
                SchoolCategorisation.school_id == school_id,
            )
            .order_by(*_newest_first())
            .limit(2)
        )
    ).all()
    if not latest:
        return None
    current, category = latest[0]
    return CategoryStanding(
        current=current, category=category, previous=latest[1][0] if len(latest) > 1 else None
    )


async def categorisation_history(
    session: AsyncSession, *, trust_id: int, school_id: int
) -> list[SchoolCategorisation]:
    """Every categorisation of the school, newest first."""
    rows = await session.scalars(
        select(SchoolCategorisation)
        .where(
            SchoolCategorisation.trust_id == trust_id,
            SchoolCategorisation.school_id == school_id,
        )
        .order_by(*_newest_first())
    )
    return list(rows)


async def record_categorisation(
    session: AsyncSession,
    *,
    trust_id: int,
    school_id: int,
    category_key: str,
    decided_on: date,
    attendees: str,
    rationale: str,
    recorded_by: int | None,
    form_id: str,
) -> CategorisationRecorded:
    """Store a standards meeting's decision once per form.

    The category's name is copied so that the history reads the same after the
    trust changes its framework. Raises FormTaken for a form id stored for another
    school or by someone else.
    """
    category = await session.scalar(
        select(Category)
        .join(Framework, Framework.id == Category.framework_id)
        .where(Framework.trust_id == trust_id, Category.key == category_key)
    )
    if category is None:
        raise UnknownCategory(category_key)
    before = await school_category(session, trust_id=trust_id, school_id=school_id)
    stored = await store_once(
        session,
        SchoolCategorisation,
        {
            "trust_id": trust_id,
            "school_id": school_id,
            "category_id": category.id,
            "category_name": category.name,
            "decided_on": decided_on,
            "attendees": attendees,
            "rationale": rationale,
            "recorded_by": recorded_by,
            "form_id": form_id,
        },
        same=("school_id", "recorded_by"),
    )
    previous = before.current if before is not None and stored.created else None
    return CategorisationRecorded(stored.row, created=stored.created, previous=previous)


def _ranked(trust_id: int) -> Subquery:
    """The trust's categorisations (id, school_id, category_name), each with its rank
    at its school, newest 1: the current one is `newest == 1`."""
    newest = (
        func.row_number()
        .over(partition_by=SchoolCategorisation.school_id, order_by=_newest_first())
        .label("newest")
    )
    return (
        select(
            SchoolCategorisation.id,
            SchoolCategorisation.school_id,
            SchoolCategorisation.category_name,
            newest,
        )
        .where(SchoolCategorisation.trust_id == trust_id)
        .subquery("ranked")
    )


def current_category_names(trust_id: int) -> Subquery:
    """(school_id, category_name) of each categorised school's current categorisation,
    to join to in a query of the caller's (storage/home.py's school lines)."""
    ranked = _ranked(trust_id)
    return (
        select(ranked.c.school_id, ranked.c.category_name)
        .where(ranked.c.newest == 1)
        .subquery("current_category")
    )


async def current_categorisations(
    session: AsyncSession, *, trust_id: int
) -> dict[int, SchoolCategorisation]:
    """Each categorised school's current categorisation, by school id, in one query."""
    ranked = _ranked(trust_id)
    rows = await session.scalars(
        select(SchoolCategorisation)
        .join(ranked, ranked.c.id == SchoolCategorisation.id)
        .where(ranked.c.newest == 1)
    )
    return {row.school_id: row for row in rows}


async def replace_framework(
    session: AsyncSession, *, trust_id: int, spec: FrameworkSpec
) -> Framework:
    """Install `spec` as the trust's framework unless that would silently take away
    a category some school is in now.

    Categories only found in history may go: their categorisations keep the name.
    """
    keys = {item.key for item in spec.categories}
    current = await current_categorisations(session, trust_id=trust_id)
    category_ids = {c.category_id for c in current.values() if c.category_id is not None}
    dropped_ids: set[int] = set()
    if category_ids:
        dropped_ids = set(
            await session.scalars(
                select(Category.id).where(Category.id.in_(category_ids), Category.key.not_in(keys))
            )
        )
    if dropped_ids:
        affected = [c for c in current.values() if c.category_id in dropped_ids]
        rows = await session.execute(
            select(School.id, School.name).where(School.id.in_([c.school_id for c in affected]))
        )
        names = {school_id: name for school_id, name in rows}
        schools: dict[str, list[str]] = {}
        for categorisation in sorted(affected, key=lambda c: names[c.school_id]):
            schools.setdefault(names[categorisation.school_id], []).append(
                categorisation.category_name
            )
        raise FrameworkInUse(schools)
    return await install_framework(session, trust_id=trust_id, spec=spec)


# -- improvement target dates ---------------------------------------------------------

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "eighteen": 18,
    "twenty-four": 24,
}
_MONTHS_PER = {"week": 0, "month": 1, "year": 12}
_WITHIN = re.compile(r"\bwithin\b(?P<period>[^.;]*)", re.IGNORECASE)
_QUANTITY = re.compile(
    # Longest words first, so "eighteen" is not read as "eight".
    r"\b(?P<number>\d+|"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")\b\s*(?P<unit>weeks?|months?|years?)?",
    re.IGNORECASE,
)


def improvement_target_date(target: str, decided_on: date) -> date | None:
    """When the target falls due, if it states a period.

    "within 12–18 months" and "within 1 year – 18 months" give the far end of the
    range (18 months), the date the trust will hold the school to.
    """
    within = _WITHIN.search(target)
    if within is None:
        return None
    latest: date | None = None
    pending: list[int] = []
    for quantity in _QUANTITY.finditer(within.group("period")):
        raw = quantity.group("number").lower()
        pending.append(int(raw) if raw.isdigit() else _NUMBER_WORDS[raw])
        unit = quantity.group("unit")
        if unit is None:
            # "12 to 18 months": a bare number takes the unit written after it.
            continue
        unit = unit.lower().rstrip("s")
        for number in pending:
            due = (
                decided_on + timedelta(weeks=number)
                if unit == "week"
                else add_months(decided_on, number * _MONTHS_PER[unit])
            )
            latest = due if latest is None else max(latest, due)
        pending = []
    return latest


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
