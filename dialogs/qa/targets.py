"""What a subject lead submits for: each (school, subject) they lead, this term."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs.forms import record_id
from dialogs.turn import Turn
from storage.academic_calendar import QaPeriod
from storage.directory import Actor
from storage.engine import AsyncSession
from storage.models import Role
from storage.qa import led_subjects
from storage.terms import qa_period

NO_SUBJECTS = (
    "Waypoint has no subject and school for you as a subject lead yet. "
    "Your trust admin can add them."
)


@dataclass(frozen=True)
class Target:
    school_id: int
    school_name: str
    subject: str

    @property
    def key(self) -> tuple[int, str]:
        return (self.school_id, self.subject)

    @property
    def value(self) -> str:
        return f"{self.school_id}:{self.subject}"

    @property
    def title(self) -> str:
        return f"{self.subject} at {self.school_name}"


async def subject_targets(session: AsyncSession, actor: Actor) -> list[Target]:
    if Role.subject_lead not in actor.roles:
        return []
    leads = await led_subjects(session, trust_id=actor.trust_id, person_id=actor.person_id)
    return [Target(lead.school_id, lead.school_name, lead.subject) for lead in leads]


async def today_period(session: AsyncSession, turn: Turn) -> QaPeriod:
    return await qa_period(
        session,
        trust_id=turn.actor.trust_id,
        today=turn.today,
        settings=turn.actor.settings.qa,
        calendar=turn.actor.calendar,
    )


def target_key(data: dict[str, Any]) -> tuple[int, str] | None:
    """The (school, subject) a submit names: the choice, or the card's own data."""
    raw = data.get("target")
    school: object
    subject: object
    if isinstance(raw, str) and ":" in raw:
        school, subject = raw.split(":", 1)
    else:
        school, subject = data.get("school_id"), data.get("subject")
    school_id = record_id(school)
    if school_id is None:
        return None
    return (school_id, subject) if isinstance(subject, str) and subject else None


def names_target(data: dict[str, Any]) -> bool:
    return any(data.get(key) not in (None, "") for key in ("target", "school_id", "subject"))
