"""A trust's visit programme: the adviser visits a school of each phase is entitled to
in an academic year, and the focus the trust plans for each visit number.

Loaded from a `phase,visit,focus` file (`waypoint visits programme set FILE`): a line
per visit, so a phase's entitlement is the number of visits listed for it, 1 to N
with none missing; a focus may be left empty (a visit whose focus is agreed with the
school later). Each phase in the file replaces that phase's programme; phases not in
the file are left as they were. All or nothing, as the other imports: the file is
read and checked by storage.csv_rows, and one problem anywhere changes nothing.
Loading the same file again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.csv_rows import ImportRejected, RowError, csv_lines, parse_rows
from storage.imports.rows import SCHOOL_PHASES, Phase
from storage.models import Trust, VisitEntitlement, VisitPlan

PROGRAMME_COLUMNS = ("phase", "visit", "focus")
# As the note of visit's form allows: a visit number from 1 to 99, a focus of 500.
MAX_VISITS = 99
FOCUS_MAX = 500

# Seed 002's universal offer: an adviser works with each secondary school "for at
# least 4 days per year" and with each primary "on at least six days during the year"
# (a visit is a school day, 9.00 to 15.00). The seed names no other phase; nursery,
# all-through, special, alternative provision and 16 plus get the primary figure,
# the larger one: too high an entitlement shows a school as owed a visit, which a
# trust notices and corrects by loading its own; too low would show a school as
# fully visited when it is not, which nobody would notice.
SECONDARY_VISITS = 4
OTHER_PHASE_VISITS = 6


def default_entitlement(phase: str) -> int:
    """The visits a year for a school of `phase` when the trust has loaded none."""
    return SECONDARY_VISITS if phase == "secondary" else OTHER_PHASE_VISITS


@dataclass(frozen=True)
class PhaseProgramme:
    """One phase's programme: its entitlement and the planned focus by visit number."""

    phase: str
    visits: int
    focus: dict[int, str] = field(default_factory=dict)
    # False: the defaults, the trust has loaded nothing for this phase.
    loaded: bool = False


async def visit_programme(session: AsyncSession, *, trust_id: int) -> list[PhaseProgramme]:
    """The trust's programme for every phase, in SCHOOL_PHASES order (then any phase
    only the store knows); defaults where it has loaded nothing."""
    loaded = {
        row.phase: row.visits
        for row in await session.scalars(
            select(VisitEntitlement).where(VisitEntitlement.trust_id == trust_id)
        )
    }
    focus: defaultdict[str, dict[int, str]] = defaultdict(dict)
    for plan in await session.scalars(
        select(VisitPlan).where(VisitPlan.trust_id == trust_id).order_by(VisitPlan.number)
    ):
        focus[plan.phase][plan.number] = plan.focus
    phases = list(SCHOOL_PHASES) + sorted(set(loaded) - set(SCHOOL_PHASES))
    return [
        PhaseProgramme(
            phase,
            loaded.get(phase, default_entitlement(phase)),
            dict(focus.get(phase, {})),
            loaded=phase in loaded,
        )
        for phase in phases
    ]


async def entitlements(session: AsyncSession, *, trust_id: int) -> dict[str, int]:
    """The visits a year by phase, as the trust loaded them (one statement); a phase
    missing here has `default_entitlement`."""
    rows = await session.execute(
        select(VisitEntitlement.phase, VisitEntitlement.visits).where(
            VisitEntitlement.trust_id == trust_id
        )
    )
    return {phase: visits for phase, visits in rows}


async def entitlement(session: AsyncSession, *, trust_id: int, phase: str) -> int:
    """The visits a year for a school of `phase` at this trust."""
    loaded = await session.scalar(
        select(VisitEntitlement.visits).where(
            VisitEntitlement.trust_id == trust_id, VisitEntitlement.phase == phase
        )
    )
    return default_entitlement(phase) if loaded is None else int(loaded)


async def planned_focus(
    session: AsyncSession, *, trust_id: int, phase: str, number: int
) -> str | None:
    """The focus the trust plans for visit `number` at a school of `phase`, if any."""
    return await session.scalar(
        select(VisitPlan.focus).where(
            VisitPlan.trust_id == trust_id, VisitPlan.phase == phase, VisitPlan.number == number
        )
    )


# -- loading a programme from a file ----------------------------------------------


def _visit_number(value: str) -> str:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_VISITS:
        raise ValueError(f"{value!r} is not a visit number (1 to {MAX_VISITS})")
    return text


def _focus(value: str) -> str:
    if any(ord(char) < 32 for char in value):
        raise ValueError("must be one line of text")
    return " ".join(value.split())


class ProgrammeRow(BaseModel):
    """One line of a visit programme file: a visit of a phase and its planned focus."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    phase: Phase
    visit: Annotated[str, Field(min_length=1), AfterValidator(_visit_number)]
    focus: Annotated[str, Field(max_length=FOCUS_MAX), AfterValidator(_focus)] = ""

    @property
    def number(self) -> int:
        return int(self.visit)


@dataclass(frozen=True)
class ProgrammeReport:
    """What a file set: the visits of each phase it lists, and which of them changed."""

    visits: dict[str, int]
    changed: frozenset[str]

    def __str__(self) -> str:
        if not self.visits:
            return "no rows, nothing changed"
        parts = [
            f"{phase} {count} visits{'' if phase in self.changed else ' (unchanged)'}"
            for phase, count in self.visits.items()
        ]
        return ", ".join(parts)


def _phase_problems(rows: list[tuple[int, ProgrammeRow]]) -> list[RowError]:
    errors: list[RowError] = []
    by_phase: defaultdict[str, dict[int, int]] = defaultdict(dict)
    for line, row in rows:
        seen = by_phase[row.phase]
        if row.number in seen:
            errors.append(
                RowError(
                    line,
                    f"visit {row.number} of {row.phase} is already on line {seen[row.number]}",
                )
            )
        else:
            seen[row.number] = line
    for phase, lines in by_phase.items():
        missing = sorted(set(range(1, max(lines) + 1)) - set(lines))
        if missing:
            listed = ", ".join(str(number) for number in missing)
            errors.append(
                RowError(
                    lines[max(lines)],
                    f"{phase} lists visits up to {max(lines)} but not visit {listed}: "
                    "list every visit from 1 (leave its focus empty if it is not planned yet)",
                )
            )
    return errors


def _phase_order(phase: str) -> int:
    return SCHOOL_PHASES.index(phase) if phase in SCHOOL_PHASES else len(SCHOOL_PHASES)


def read_programme(csv_text: str) -> dict[str, dict[int, str]]:
    """The file's programme: each phase's visits, numbered, with their planned focus
    ("" for none). `ImportRejected` lists every problem by line."""
    lines, errors = csv_lines(csv_text, PROGRAMME_COLUMNS)
    rows, row_errors = parse_rows(lines, ProgrammeRow)
    errors += row_errors + _phase_problems(rows)
    if errors:
        raise ImportRejected(errors)
    programme: defaultdict[str, dict[int, str]] = defaultdict(dict)
    for _, row in sorted(rows, key=lambda item: (_phase_order(item[1].phase), item[1].number)):
        programme[row.phase][row.number] = row.focus
    return dict(programme)


async def set_visit_programme(
    session: AsyncSession, *, trust_id: int, csv_text: str
) -> ProgrammeReport:
    """Make each phase of a `phase,visit,focus` file the trust's programme for that
    phase; other phases are left alone.

    Only what differs is written, so loading the same file again writes nothing.
    All or nothing: `ImportRejected` lists every problem by line.
    """
    if await session.get(Trust, trust_id) is None:
        raise ValueError(f"there is no trust with id {trust_id}")
    programme = read_programme(csv_text)
    if not programme:
        return ProgrammeReport({}, frozenset())
    phases = list(programme)
    entitled = {
        row.phase: row
        for row in await session.scalars(
            select(VisitEntitlement).where(
                VisitEntitlement.trust_id == trust_id, VisitEntitlement.phase.in_(phases)
            )
        )
    }
    plans = {
        (row.phase, row.number): row
        for row in await session.scalars(
            select(VisitPlan).where(VisitPlan.trust_id == trust_id, VisitPlan.phase.in_(phases))
        )
    }
    changed: set[str] = set()
    for phase, visits in programme.items():
        current = entitled.get(phase)
        if current is None:
            session.add(VisitEntitlement(trust_id=trust_id, phase=phase, visits=len(visits)))
            changed.add(phase)
        elif current.visits != len(visits):
            current.visits = len(visits)
            changed.add(phase)
        for number, focus in visits.items():
            plan = plans.pop((phase, number), None)
            if not focus:
                if plan is not None:
                    await session.delete(plan)
                    changed.add(phase)
            elif plan is None:
                session.add(VisitPlan(trust_id=trust_id, phase=phase, number=number, focus=focus))
                changed.add(phase)
            elif plan.focus != focus:
                plan.focus = focus
                changed.add(phase)
    # Planned visits past a phase's new entitlement go with it.
    stale = [plan.id for plan in plans.values()]
    if stale:
        await session.execute(delete(VisitPlan).where(VisitPlan.id.in_(stale)))
        changed.update(plan.phase for plan in plans.values())
    await session.flush()
    return ProgrammeReport(
        {phase: len(visits) for phase, visits in programme.items()}, frozenset(changed)
    )


def describe_programme(programme: Iterable[PhaseProgramme]) -> list[str]:
    """The programme as lines of text, for the command line."""
    lines: list[str] = []
    for phase in programme:
        source = "loaded" if phase.loaded else "default"
        heading = f"{phase.phase}: {phase.visits} visits a year ({source})"
        if not phase.focus:
            lines.append(f"{heading}; no visit has a planned focus")
            continue
        lines.append(heading)
        for number in range(1, phase.visits + 1):
            focus = phase.focus.get(number)
            lines.append(f"  visit {number}: {focus or 'no planned focus'}")
    return lines
