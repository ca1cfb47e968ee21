"""The few jobs each role does most, and what needs doing now for each: the rows of
the home card. Counts come from storage (a few statements for the whole card)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from dialogs.turn import Turn
from dialogs.words import long_date
from storage.academic_calendar import QaOpen
from storage.coaching import COACHING_LOGGERS
from storage.coaching.coachees import coachees_due, coaching_settings_of
from storage.directory import Actor
from storage.engine import AsyncSession
from storage.home import (
    Count,
    SchoolLine,
    last_coached_on,
    open_concerns,
    overdue_actions,
    read_counts,
    school_lines,
    teachers_due_a_session,
)
from storage.models import STAFF_ROLES, Role
from storage.qa_compliance import compliance
from storage.standards import DueThisTerm, reviews_due
from storage.terms import qa_period

# A home card shows at most this many jobs; "All commands" lists the rest.
MAX_JOBS = 6

# Each role's jobs, the most used first. Someone with several roles gets their
# first role's jobs, then the next role's, up to MAX_JOBS.
ROLE_JOBS: dict[Role, tuple[str, ...]] = {
    Role.trust_lead: ("digest", "schools", "category", "review", "visits", "actions"),
    Role.sia: ("schools", "visit", "prep_visit", "actions", "visits", "category"),
    Role.head: (
        "actions",
        "category",
        "qa_status",
        "coaching_coverage",
        "attendance_concerns",
        "visits",
    ),
    Role.attendance_lead: ("attendance_concerns", "raise_concern"),
    Role.subject_lead: ("qa", "qa_status", "my_coaching", "raise_concern"),
    Role.coach: ("log_coaching", "my_coaching", "coaching_coverage"),
    Role.governor: ("category", "visits", "actions", "dashboard"),
    Role.admin: ("schools", "category", "dashboard", "whoami"),
    Role.teacher: ("my_coaching", "raise_concern"),
}
ROLE_ORDER = tuple(ROLE_JOBS)


@dataclass(frozen=True)
class Job:
    key: str
    title: str
    # What needs doing now ("3 actions overdue"), or what the job is for.
    status: str
    # A count that asks for action: shown in the attention colour.
    attention: bool = False


def job_keys(actor: Actor, allowed: Collection[str]) -> list[str]:
    """The person's jobs, first role first, only commands their roles allow."""
    keys: list[str] = []
    for role in ROLE_ORDER:
        if role not in actor.roles:
            continue
        for key in ROLE_JOBS[role]:
            if key in allowed and key not in keys:
                keys.append(key)
    return keys[:MAX_JOBS]


def has_own_school(actor: Actor) -> bool:
    """Whether "our school" fits: someone who works at one school (a head, a
    governor, staff), not an adviser or a trust lead who looks at many."""
    return not actor.trust_wide and Role.sia not in actor.roles and len(actor.school_ids) == 1


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _titles(actor: Actor) -> dict[str, str]:
    own = has_own_school(actor)
    return {
        "actions": "Our actions" if own else ("Overdue actions" if actor.trust_wide else "Actions"),
        "category": "Our category" if own else "Categories",
        "coaching_coverage": "Coaching coverage",
        "attendance_concerns": "Attendance concerns",
        "visits": "Notes of visit",
        "schools": "Your schools" if not actor.trust_wide else "Schools",
    }


class _Counts:
    """What the rows need, each read once, in one session."""

    def __init__(self, session: AsyncSession, turn: Turn) -> None:
        self.session = session
        self.turn = turn
        self.actor = turn.actor
        self._lines: list[SchoolLine] | None = None
        self._counted: dict[str, int] = {}

    def _count(self, key: str) -> Count | None:
        """The one count a row shows, for the rows that show one."""
        actor, today = self.actor, self.turn.today
        if key == "actions":
            return overdue_actions(trust_id=actor.trust_id, school_ids=self.reach(), today=today)
        if key == "attendance_concerns":
            return open_concerns(trust_id=actor.trust_id, school_ids=self.reach(STAFF_ROLES))
        if key in ("coaching_coverage", "log_coaching"):
            roles = COACHING_LOGGERS if key == "log_coaching" else None
            return teachers_due_a_session(
                trust_id=actor.trust_id,
                school_ids=self.reach(roles),
                today=today,
                days=coaching_settings_of(actor).interval_days,
                exclude_person_id=actor.person_id,
            )
        return None

    async def read_counts(self, keys: Collection[str]) -> None:
        """The rows' counts, all in one statement (not one each)."""
        wanted = {key: count for key in keys if (count := self._count(key)) is not None}
        self._counted = await read_counts(self.session, wanted)

    async def lines(self) -> list[SchoolLine]:
        if self._lines is None:
            self._lines = await school_lines(
                self.session,
                trust_id=self.actor.trust_id,
                school_ids=self.reach(),
                today=self.turn.today,
            )
        return self._lines

    def reach(self, roles: Collection[Role] | None = None) -> frozenset[int] | None:
        return self.actor.schools_where(frozenset(Role) if roles is None else roles)

    async def status(self, key: str) -> tuple[str, bool] | None:
        actor, session, today = self.actor, self.session, self.turn.today
        trust_id = actor.trust_id
        if key == "actions":
            n = self._counted[key]
            where = " across the trust" if actor.trust_wide else ""
            return (f"{plural(n, 'action')} overdue{where}" if n else "No actions overdue"), n > 0
        if key == "attendance_concerns":
            n = self._counted[key]
            return (plural(n, "open concern") if n else "No open concerns"), n > 0
        if key in ("coaching_coverage", "log_coaching"):
            n = self._counted[key]
            text = (
                f"{plural(n, 'teacher')} due a session" if n else "Every teacher coached recently"
            )
            return text, n > 0
        if key == "my_coaching":
            return await self._my_coaching()
        if key in ("category", "schools"):
            lines = await self.lines()
            if key == "category" and len(lines) == 1:
                line = lines[0]
                return f"{line.name}: {line.category or 'no category yet'}", False
            if key == "category":
                named = Counter(line.category or "no category yet" for line in lines)
                return ", ".join(f"{n} {name}" for name, n in named.most_common()), False
            late = sum(1 for line in lines if line.overdue_actions)
            text = plural(len(lines), "school")
            if late:
                text += f", {late} with overdue actions"
            return text, False
        if key == "review":
            due = await reviews_due(
                session, trust_id=trust_id, today=today, calendar=actor.calendar
            )
            if isinstance(due, DueThisTerm) and due.schools:
                return f"{plural(len(due.schools), 'review')} due this term", True
            return "No standards reviews due now", False
        if key in ("qa", "qa_status"):
            return await self._qa(key)
        return None

    async def _my_coaching(self) -> tuple[str, bool]:
        actor, session, today = self.actor, self.session, self.turn.today
        if actor.has_any(COACHING_LOGGERS):
            settings = coaching_settings_of(actor)
            due = await coachees_due(
                session,
                trust_id=actor.trust_id,
                coach_id=actor.person_id,
                today=today,
                interval_days=settings.interval_days,
            )
            if due:
                return f"{plural(len(due), 'teacher')} you coach due again", True
        last = await last_coached_on(session, trust_id=actor.trust_id, person_id=actor.person_id)
        if last is None:
            return "Your sessions and your current action step", False
        days = (today - last).days
        when = "today" if days == 0 else f"{plural(days, 'day')} ago"
        return f"Your last session was {when}", False

    async def _qa(self, key: str) -> tuple[str, bool]:
        actor, session = self.actor, self.session
        period = await qa_period(
            session,
            trust_id=actor.trust_id,
            today=self.turn.today,
            settings=actor.settings.qa,
            calendar=actor.calendar,
        )
        if not isinstance(period, QaOpen):
            upcoming = period.next
            if upcoming is None:
                return "No QA summaries due now", False
            return f"Next due by {long_date(upcoming.closes)}", False
        schools = await compliance(
            session,
            trust_id=actor.trust_id,
            term=period.term,
            school_ids=self.reach(),
        )
        days = period.days_left
        if key == "qa":
            mine = [
                subject
                for school in schools
                for subject in school.missing
                if subject in actor.subjects
            ]
            if not mine:
                return f"Submitted for {period.term.title}", False
            when = "today" if days == 0 else f"in {plural(days, 'day')}"
            return f"QA summary due {when}", True
        expected = sum(len(s.expected) for s in schools)
        submitted = sum(s.submitted_count for s in schools)
        return f"{submitted} of {expected} submitted, {plural(days, 'day')} left", (
            submitted < expected
        )


async def jobs_for(turn: Turn, keys: list[str], *, counts: bool) -> list[Job]:
    """The rows for these commands; with `counts`, what needs doing now for each."""
    registry = turn.registry
    assert registry is not None
    titles = _titles(turn.actor)
    jobs: list[Job] = []
    keys = [key for key in keys if registry.get_command(key) is not None]
    async with turn.sessions() as session:
        reader = _Counts(session, turn)
        if counts:
            await reader.read_counts(keys)
        for key in keys:
            command = registry.get_command(key)
            assert command is not None
            found = await reader.status(key) if counts else None
            status, attention = found if found else (command.summary, False)
            jobs.append(Job(key, titles.get(key, command.title), status, attention))
    return jobs
