"""Finding a school by what someone typed: a URN, a name, or a near miss of one."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import School

# WRatio scores (0–100): at or above this a name counts as meant.
MATCH_SCORE = 78
# Another school this close to the best is a real alternative: ask which.
CLOSE_MARGIN = 6


@dataclass(frozen=True)
class SchoolFound:
    school: School


@dataclass(frozen=True)
class SchoolsToChoose:
    schools: tuple[School, ...]


@dataclass(frozen=True)
class SchoolNotFound:
    query: str


SchoolMatch = SchoolFound | SchoolsToChoose | SchoolNotFound


def fold(text: str) -> str:
    """Lower case without accents or punctuation: "Brontë" and "bronte" are one."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = "".join(c if c.isalnum() else " " for c in letters.replace("'", ""))
    return " ".join(cleaned.split())


def match_school(schools: list[School], query: str) -> SchoolMatch:
    wanted = fold(query)
    if not wanted:
        return SchoolNotFound(query)
    for school in schools:
        if wanted == school.urn or wanted == fold(school.name):
            return SchoolFound(school)
    choices = {school.id: fold(school.name) for school in schools}
    scored = process.extract(wanted, choices, scorer=_name_score, limit=5)
    good = [(score, key) for _, score, key in scored if score >= MATCH_SCORE]
    if not good:
        return SchoolNotFound(query)
    by_id = {school.id: school for school in schools}
    best = good[0][0]
    close = [by_id[key] for score, key in good if best - score < CLOSE_MARGIN]
    if len(close) == 1:
        return SchoolFound(close[0])
    return SchoolsToChoose(tuple(sorted(close, key=lambda s: s.name)))


def _name_score(query: str, name: str, **_: object) -> float:
    """WRatio, or a typo'd word or two against the same number of the name's words
    ("oakfeld" against "oakfield"), whichever is better."""
    best = float(fuzz.WRatio(query, name))
    width = len(query.split())
    words = name.split()
    for start in range(0, max(1, len(words) - width + 1)):
        best = max(best, fuzz.ratio(query, " ".join(words[start : start + width])))
    return best


async def find_school(session: AsyncSession, *, trust_id: int, query: str) -> SchoolMatch:
    """Match within one trust only: another trust's schools never match."""
    schools = list(await session.scalars(select(School).where(School.trust_id == trust_id)))
    return match_school(schools, query)


async def school_in_trust(session: AsyncSession, *, trust_id: int, school_id: int) -> School | None:
    """The school with this id, if it is one of the trust's (no other trust's school
    is ever said to exist)."""
    school = await session.get(School, school_id)
    return school if school is not None and school.trust_id == trust_id else None
