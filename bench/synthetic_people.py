"""A synthetic trust's schools and people: the schools, the trust-wide people (trust
leads, the admin, the advisers) and each school's staff, with their roles and subjects.

Each school's staff (TrustShape.staff of them): a head, two coaches who also teach,
a subject lead for each subject, an attendance lead, and teachers to make up the
number. bench/synthetic_history.py gives them their records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.synthetic_rows import Rows
from bench.synthetic_shape import SUBJECTS, TrustShape
from storage.directory import every_role_at_every_school
from storage.models import Person, PersonRole, PersonSubject, Role, School


@dataclass(frozen=True)
class Staff:
    """One school's staff, by person id."""

    school_id: int
    head: int
    coaches: list[int]
    subject_leads: dict[str, int]
    attendance_lead: int
    teachers: list[int]

    @property
    def coachees(self) -> list[int]:
        """Everyone a coach may coach: the coaches, the subject leads and the teachers."""
        return [*self.coaches, *self.subject_leads.values(), *self.teachers]


def add_person(
    rows: Rows,
    trust_id: int,
    name: str,
    roles: Sequence[str],
    schools: Sequence[int],
    subject: str | None,
) -> int:
    """A person with `roles` at each of `schools` (trust-wide without schools)."""
    person_id = rows.take_id(Person)
    rows.add(
        Person,
        {
            "id": person_id,
            "trust_id": trust_id,
            "aad_object_id": f"{trust_id:04x}{person_id:028x}",
            "email": f"person{person_id}@synthetic.example",
            "display_name": name,
        },
    )
    for grant in every_role_at_every_school([Role(role) for role in roles], schools):
        rows.add(
            PersonRole,
            {"person_id": person_id, "role": grant.role.value, "school_id": grant.school_id},
        )
    if subject:
        rows.add(PersonSubject, {"person_id": person_id, "subject": subject})
    return person_id


def add_schools(rows: Rows, trust_id: int, shape: TrustShape) -> list[int]:
    """The trust's schools, one in three a secondary academy, in eight hubs."""
    school_ids: list[int] = []
    for n in range(shape.schools):
        school_id = rows.take_id(School)
        school_ids.append(school_id)
        rows.add(
            School,
            {
                "id": school_id,
                "trust_id": trust_id,
                "urn": f"{200000 + n}",
                "name": f"School {n + 1:03d} {'Primary' if n % 3 else 'Academy'}",
                "phase": "primary" if n % 3 else "secondary",
                "hub": f"Hub {n % 8 + 1}",
            },
        )
    return school_ids


def add_trust_people(
    rows: Rows, trust_id: int, shape: TrustShape, school_ids: Sequence[int]
) -> list[int]:
    """The trust leads, the admin and the advisers (the schools shared out between
    them); the trust leads' ids."""
    leads = [
        add_person(rows, trust_id, f"Trust Lead {k}", ["trust_lead"], [], None)
        for k in range(shape.trust_leads)
    ]
    add_person(rows, trust_id, "Trust Admin", ["admin"], [], None)
    per_adviser = max(1, -(-shape.schools // shape.advisers))
    for k in range(shape.advisers):
        advised = school_ids[k * per_adviser : (k + 1) * per_adviser]
        if advised:
            add_person(rows, trust_id, f"Adviser {k}", ["sia"], advised, None)
    return leads


def add_staff(rows: Rows, trust_id: int, shape: TrustShape, school_id: int) -> Staff:
    """One school's staff."""
    at = [school_id]
    head = add_person(rows, trust_id, f"Head {school_id}", ["head"], at, None)
    coaches = [
        add_person(rows, trust_id, f"Coach {school_id}-{k}", ["teacher", "coach"], at, None)
        for k in range(2)
    ]
    subject_leads = {
        subject: add_person(
            rows, trust_id, f"Lead {school_id} {subject}", ["teacher", "subject_lead"], at, subject
        )
        for subject in SUBJECTS[: shape.subjects]
    }
    attendance_lead = add_person(
        rows, trust_id, f"Attendance {school_id}", ["attendance_lead"], at, None
    )
    others = shape.staff - 4 - len(subject_leads)
    teachers = [
        add_person(rows, trust_id, f"Teacher {school_id}-{k}", ["teacher"], at, None)
        for k in range(others)
    ]
    return Staff(school_id, head, coaches, subject_leads, attendance_lead, teachers)
