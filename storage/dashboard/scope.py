"""Who sees which schools on the dashboard, and which panels.

Trust leads and admins reach every school of the trust; everyone else the schools
where they hold a role (an adviser's, a head's, a governor's, any staff member's).
Each panel is shown to the roles that read the same numbers in chat (`PANEL_ROLES`,
kept equal to the commands' roles by tests/test_dashboard_panel_roles.py): a
teacher reads no coaching coverage, a governor nothing about pupils, coaching or QA.
A panel shows when the person holds one of its roles at every school of the scope,
or for the whole trust. An attendance lead for the whole trust (and no role at a
school) follows every school's concerns and nothing else of theirs, as in chat:
every school, the attendance panel alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import InstrumentedAttribute

from storage.dashboard.model import DashboardScope, OutOfScope, Panel, SchoolRef
from storage.directory import Actor
from storage.models import STAFF_ROLES, Role

# Who reads each panel: the roles of the chat command with the same numbers
# (storage/ may not import dialogs/, so this mirrors them; a test compares).
PANEL_ROLES: dict[Panel, frozenset[Role]] = {
    # `category`: anyone of the trust.
    Panel.categories: frozenset(Role),
    # `coaching_coverage`: counts for heads, advisers and trust leads.
    Panel.coaching: frozenset({Role.head, Role.sia, Role.trust_lead}),
    # `qa_status`: heads, advisers, trust leads and subject leads.
    Panel.qa: frozenset({Role.head, Role.sia, Role.trust_lead, Role.subject_lead}),
    # `actions`: those who keep them moving, and governors.
    Panel.actions: frozenset({Role.head, Role.sia, Role.trust_lead, Role.governor}),
    # `attendance_concerns`: counts for any staff member.
    Panel.attendance: STAFF_ROLES,
    # `visits`: heads, governors, advisers and trust leads.
    Panel.visits: frozenset({Role.head, Role.governor, Role.sia, Role.trust_lead}),
}
TRUST_ATTENDANCE_PANELS = frozenset({Panel.attendance})


def dashboard_scope(
    actor: Actor, *, school_id: int | None = None, hub: str | None = None, phase: str | None = None
) -> DashboardScope:
    """The schools and panels this person's dashboard shows.

    `school_id` narrows it to one school, which the person must reach (else
    `OutOfScope`); `hub` and `phase` are filters applied to the schools reached.
    """
    follows_trust_attendance = (
        Role.attendance_lead in actor.trust_roles and not actor.trust_wide and not actor.school_ids
    )
    if school_id is not None:
        # A school of another trust is refused when the data is read (`reached`).
        if not (actor.reaches_school(school_id) or follows_trust_attendance):
            raise OutOfScope(school_id)
        school_ids: frozenset[int] | None = frozenset({school_id})
    elif actor.trust_wide or follows_trust_attendance:
        school_ids = None
    else:
        school_ids = actor.school_ids
    if follows_trust_attendance:
        panels = TRUST_ATTENDANCE_PANELS
    else:
        panels = frozenset(
            panel
            for panel, roles in PANEL_ROLES.items()
            if _reads_throughout(actor, school_ids, roles)
        )
    return DashboardScope(
        trust_id=actor.trust_id,
        school_ids=school_ids,
        panels=panels,
        hub=hub,
        phase=phase,
    )


def _reads_throughout(
    actor: Actor, school_ids: frozenset[int] | None, roles: frozenset[Role]
) -> bool:
    """Whether the person holds one of `roles` for the whole trust, or at every school
    of the scope. A role at one school gives nothing at another, and a trust role that
    is not one of `roles` (a trust-wide attendance lead's) opens no other panel."""
    if not actor.trust_roles.isdisjoint(roles):
        return True
    if school_ids is None:
        return False
    return all(
        not actor.school_roles.get(school, frozenset()).isdisjoint(roles) for school in school_ids
    )


def reached(schools: Sequence[SchoolRef], scope: DashboardScope) -> list[SchoolRef]:
    """The trust's schools the scope reaches, before the hub and phase filters."""
    if scope.school_ids is None:
        return list(schools)
    known = {school.id for school in schools}
    foreign = scope.school_ids - known
    if foreign:
        # A school of another trust (or none): the person does not reach it here.
        raise OutOfScope(min(foreign))
    return [school for school in schools if school.id in scope.school_ids]


def filtered(schools: Sequence[SchoolRef], scope: DashboardScope) -> list[SchoolRef]:
    """The reached schools that pass the hub and phase filters, by name."""
    return sorted(
        (
            school
            for school in schools
            if (scope.hub is None or school.hub == scope.hub)
            and (scope.phase is None or school.phase == scope.phase)
        ),
        key=lambda school: (school.name, school.id),
    )


def of_schools(column: InstrumentedAttribute[int], ids: list[int] | None) -> ColumnElement[bool]:
    """Rows of the schools in scope; `ids` None: every school of the trust (each query
    also names the trust). A list of 200 ids costs SQLite an index probe per id and
    row, so a trust-wide scope names none (bench/README.md)."""
    return true() if ids is None else column.in_(ids)
