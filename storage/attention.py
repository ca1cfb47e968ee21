"""Why a school needs attention: the stated reasons, ranked by severity.

A school is listed under "Needs attention" in the trust digest only for one of
these reasons, each stated once, the most severe first; a school with none is
listed among the others, whatever its category. Counts only: no reason names a
pupil, a note or an action's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

# Coaching coverage this many percentage points or more below the trust's target
# (in the last six weeks) is "well below" it.
COACHING_WELL_BELOW = 20


class Concern(IntEnum):
    """The reasons a school needs attention, the most severe first."""

    category = 1
    target_missed = 2
    overdue_actions = 3
    red_qa = 4
    new_severe_absence = 5
    coaching_low = 6


@dataclass(frozen=True)
class Reason:
    concern: Concern
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Signals:
    """What the reasons are read from: one school's figures."""

    category: str | None = None
    category_needs_attention: bool = False
    target_missed: str | None = None
    overdue_actions: int = 0
    red_qa_subjects: tuple[str, ...] = ()
    new_severe: int = 0
    coached_6_weeks: int | None = None


def reasons(signals: Signals, *, coaching_target: int) -> list[Reason]:
    """The school's reasons, the most severe first, each once."""
    found: list[Reason] = []
    if signals.category_needs_attention and signals.category:
        found.append(Reason(Concern.category, f"{signals.category} category"))
    if signals.target_missed:
        found.append(Reason(Concern.target_missed, signals.target_missed))
    if signals.overdue_actions:
        found.append(
            Reason(Concern.overdue_actions, count(signals.overdue_actions, "overdue action"))
        )
    if signals.red_qa_subjects:
        subjects = ", ".join(signals.red_qa_subjects)
        found.append(
            Reason(
                Concern.red_qa,
                f"{count(len(signals.red_qa_subjects), 'red QA judgement')} ({subjects})",
            )
        )
    if signals.new_severe:
        found.append(
            Reason(
                Concern.new_severe_absence,
                count(signals.new_severe, "new severe-absence concern"),
            )
        )
    if (
        signals.coached_6_weeks is not None
        and signals.coached_6_weeks <= coaching_target - COACHING_WELL_BELOW
    ):
        found.append(
            Reason(
                Concern.coaching_low,
                f"coaching {signals.coached_6_weeks}% in 6 weeks (target {coaching_target}%)",
            )
        )
    return found


def severity(found: list[Reason]) -> tuple[bool, ...]:
    """A sort key: a school with a more severe reason first; between two with the same
    most severe reason, the one with the next more severe reason; and so on."""
    present = {reason.concern for reason in found}
    return tuple(concern not in present for concern in Concern)


def count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"
