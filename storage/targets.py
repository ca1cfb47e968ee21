"""An improvement target passed unmet: news for the category card and the trust digest.

A category's improvement target names the category a school should reach and by
when ("Improve to Refinement within 1 year – 18 months"), counted from the
school's current categorisation (`improvement_target_date`, the date the category
card shows). Once that date has passed with the school not in the target category
or a stronger one (a lower rank), the target is missed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from storage.categories import CategoryStanding, framework_categories, improvement_target_date
from storage.models import Category, SchoolCategorisation


@dataclass(frozen=True)
class MissedTarget:
    due_on: date
    # The target category's name.
    target: str

    @property
    def shown(self) -> str:
        """ "1 May 2026, not yet Refinement": the category card's words."""
        return f"{self.due_on.day} {self.due_on:%B %Y}, not yet {self.target}"

    @property
    def reason(self) -> str:
        """The trust digest's attention reason."""
        return f"target date passed: {self.shown}"


def target_category(target: str, categories: Iterable[Category]) -> Category | None:
    """The category a target moves the school to: the one named after "to"
    ("Improve to Refinement", "Move to Excellence"); the first, if it names several."""
    found: tuple[int, Category] | None = None
    for category in categories:
        named = re.search(
            rf"\bto\s+(?:the\s+)?{re.escape(category.name)}(?!\w)", target, re.IGNORECASE
        )
        if named and (found is None or named.start() < found[0]):
            found = (named.start(), category)
    return found[1] if found else None


def missed_target(
    category: Category, categories: Iterable[Category], *, decided_on: date, today: date
) -> MissedTarget | None:
    """The school's target, if its date has passed and the school is not there yet."""
    due_on = improvement_target_date(category.improvement_target, decided_on)
    if due_on is None or today <= due_on:
        return None
    target = target_category(category.improvement_target, categories)
    if target is None or category.rank <= target.rank:
        return None
    return MissedTarget(due_on, target.name)


async def school_missed_target(
    session: AsyncSession, *, trust_id: int, standing: CategoryStanding, today: date
) -> MissedTarget | None:
    """`missed_target` for one school; the framework is read only for a date passed."""
    category = standing.category
    if category is None:
        return None
    due_on = improvement_target_date(category.improvement_target, standing.current.decided_on)
    if due_on is None or today <= due_on:
        return None
    return missed_target(
        category,
        await framework_categories(session, trust_id=trust_id),
        decided_on=standing.current.decided_on,
        today=today,
    )


def missed_targets(
    categories: Mapping[int, Category],
    current: Mapping[int, SchoolCategorisation],
    *,
    today: date,
) -> dict[int, MissedTarget]:
    """By school id, each school's missed target (the digest reads every school at once)."""
    missed: dict[int, MissedTarget] = {}
    for school_id, decision in current.items():
        category = categories.get(decision.category_id) if decision.category_id else None
        if category is None:
            continue
        found = missed_target(
            category, categories.values(), decided_on=decision.decided_on, today=today
        )
        if found is not None:
            missed[school_id] = found
    return missed
