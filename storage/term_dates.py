"""Setting a trust's term dates from an `academic_year,term,starts,ends` file
(`waypoint terms set FILE`).

Each academic year in the file replaces the trust's terms for that year; years not
in the file are left alone. A year holds from three to six terms (three, or six as
some trusts keep), none overlapping. All or nothing, as the imports: the file is
read and checked by storage.csv_rows, and one problem anywhere changes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import year_label, year_start
from storage.csv_rows import ImportRejected, RowError, csv_lines, parse_rows
from storage.models import TermDate, Trust

TERM_COLUMNS = ("academic_year", "term", "starts", "ends")
TERM_NAME_MAX = 40
MIN_TERMS, MAX_TERMS = 3, 6

_YEAR = re.compile(r"([0-9]{4})\s*[-/]\s*([0-9]{2}|[0-9]{4})")
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def _academic_year(value: str) -> str:
    match = _YEAR.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not an academic year (write it like 2026-27)")
    start, end = int(match[1]), int(match[2])
    if end % 100 != (start + 1) % 100 or (end >= 100 and end != start + 1):
        raise ValueError(f"{value!r} is not an academic year: the second year follows the first")
    return year_label(start)


def _term_name(value: str) -> str:
    if any(ord(char) < 32 for char in value):
        raise ValueError("must be one line of text")
    return " ".join(value.split())


def _parse_date(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    uk = _UK_DATE.fullmatch(text)
    try:
        if uk:
            # Spreadsheets in the UK save dates as day/month/year.
            return date(int(uk[3]), int(uk[2]), int(uk[1]))
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (write it like 2026-09-02)") from None


class TermRow(BaseModel):
    """One line of a terms file."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    academic_year: Annotated[str, Field(min_length=1), AfterValidator(_academic_year)]
    term: Annotated[str, Field(min_length=1, max_length=TERM_NAME_MAX), AfterValidator(_term_name)]
    starts: date
    ends: date

    @field_validator("starts", "ends", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if value == "":
            raise ValueError("is required")
        return _parse_date(value)

    @model_validator(mode="after")
    def _within_year(self) -> TermRow:
        if self.ends < self.starts:
            raise ValueError(f"the term ends ({self.ends}) before it starts ({self.starts})")
        start = year_start(self.academic_year)
        # Some trusts start in the last days of August; none start in July.
        first, last = date(start, 8, 1), date(start + 1, 8, 31)
        if not (first <= self.starts and self.ends <= last):
            raise ValueError(
                f"the term's dates must fall within the academic year {self.academic_year} "
                f"({first} to {last})"
            )
        return self


@dataclass(frozen=True)
class TermsReport:
    years: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{year}: {count} terms" for year, count in sorted(self.years.items()))


def _year_problems(rows: list[tuple[int, TermRow]]) -> list[RowError]:
    errors: list[RowError] = []
    by_year: defaultdict[str, list[tuple[int, TermRow]]] = defaultdict(list)
    for line, row in rows:
        by_year[row.academic_year].append((line, row))
    for year, year_rows in by_year.items():
        seen: dict[str, int] = {}
        for line, row in year_rows:
            key = row.term.casefold()
            if key in seen:
                errors.append(
                    RowError(line, f"term {row.term!r} of {year} is already on line {seen[key]}")
                )
            else:
                seen[key] = line
        ordered = sorted(year_rows, key=lambda item: item[1].starts)
        for (line_a, a), (line_b, b) in pairwise(ordered):
            if b.starts <= a.ends:
                errors.append(
                    RowError(line_b, f"term {b.term!r} overlaps term {a.term!r} on line {line_a}")
                )
        if not MIN_TERMS <= len(year_rows) <= MAX_TERMS:
            first_line = min(line for line, _ in year_rows)
            errors.append(
                RowError(
                    first_line,
                    f"{year} has {len(year_rows)} terms: a year needs from {MIN_TERMS} "
                    f"to {MAX_TERMS} (three terms, or six)",
                )
            )
    return errors


async def set_terms(session: AsyncSession, *, trust_id: int, csv_text: str) -> TermsReport:
    """Replace the trust's terms for every academic year in an
    `academic_year,term,starts,ends` file; other years are left alone.

    All or nothing, as the imports: `ImportRejected` lists every problem by line.
    Summaries already stored keep their year, term number and term name.
    """
    if await session.get(Trust, trust_id) is None:
        raise ValueError(f"there is no trust with id {trust_id}")
    lines, errors = csv_lines(csv_text, TERM_COLUMNS)
    rows, row_errors = parse_rows(lines, TermRow)
    errors += row_errors + _year_problems(rows)
    if errors:
        raise ImportRejected(errors)
    by_year: defaultdict[str, list[TermRow]] = defaultdict(list)
    for _, row in rows:
        by_year[row.academic_year].append(row)
    if not by_year:
        return TermsReport({})
    await session.execute(
        delete(TermDate).where(
            TermDate.trust_id == trust_id, TermDate.academic_year.in_(list(by_year))
        )
    )
    values = [
        {
            "trust_id": trust_id,
            "academic_year": year,
            "number": number,
            "name": row.term,
            "starts": row.starts,
            "ends": row.ends,
        }
        for year, year_rows in by_year.items()
        for number, row in enumerate(sorted(year_rows, key=lambda r: r.starts), 1)
    ]
    await session.execute(insert(TermDate), values)
    return TermsReport({year: len(year_rows) for year, year_rows in by_year.items()})
