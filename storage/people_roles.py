"""The people CSV's roles: each role at its school, or for the whole trust.

A roles cell lists roles separated by `;`. Each is either

- `role@URN`: the role at that school (`head@100001;teacher@100002`), or
- `role`: the role at every school in the row's schools column, today's format,
  so that an existing file keeps meaning what it meant.

Trust-wide roles (trust_lead, admin) are held for the whole trust and never take
`@URN`. A trust-wide attendance lead, who follows every school's concerns, is
written `attendance_lead@trust`: never inferred from an empty schools cell, so an
admin who clears someone's schools takes their access away instead of widening it.
Every other role needs a school.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from storage.models import EITHER_SCOPE_ROLES, TRUST_WIDE_ROLES, Role

AT = "@"
# `attendance_lead@trust`: the role held for the whole trust.
FOR_THE_TRUST = "trust"


class RoleItem(NamedTuple):
    """One item of a roles cell: a role, and the URN after its `@` if it has one."""

    role: Role
    urn: str | None


class RoleAt(NamedTuple):
    """A role at a school (by URN), or for the whole trust (`urn` None)."""

    role: Role
    urn: str | None


def role_named(name: str) -> Role | None:
    # Admins type roles as they say them: "Subject lead", "trust-lead".
    try:
        return Role(re.sub(r"[\s-]+", "_", name.strip().casefold()))
    except ValueError:
        return None


def split_item(item: str) -> tuple[str, str | None]:
    """`head@100001` → ("head", "100001"); `head` → ("head", None);
    `attendance_lead@trust` → ("attendance_lead", "trust")."""
    name, at, urn = item.partition(AT)
    return name.strip(), (urn.strip().casefold() if at else None)


def placement_problems(items: Iterable[RoleItem], schools: Sequence[str]) -> list[str]:
    """Roles written where they cannot be held: a trust-wide role at a school, or a
    school role with no school."""
    problems = []
    for item in items:
        if item.role in TRUST_WIDE_ROLES and item.urn is not None:
            problems.append(
                f"{item.role} is held for the whole trust: write it without @{item.urn}"
            )
        elif item.urn == FOR_THE_TRUST and item.role not in EITHER_SCOPE_ROLES:
            problems.append(
                f"{item.role} cannot be held for the whole trust: write {item.role}@URN"
            )
        elif item.urn is None and not schools and item.role not in TRUST_WIDE_ROLES:
            trust_wide = (
                f", or {item.role}@{FOR_THE_TRUST} for the whole trust"
                if item.role in EITHER_SCOPE_ROLES
                else ""
            )
            problems.append(
                f"{item.role} needs a school: write {item.role}@URN{trust_wide}, "
                "or list the person's schools in schools"
            )
    return problems


def roles_at(items: Iterable[RoleItem], schools: Sequence[str]) -> frozenset[RoleAt]:
    """Where each role of a checked row is held (`placement_problems` found nothing)."""
    held: set[RoleAt] = set()
    for item in items:
        if item.role in TRUST_WIDE_ROLES or item.urn == FOR_THE_TRUST:
            held.add(RoleAt(item.role, None))
        elif item.urn is not None:
            held.add(RoleAt(item.role, item.urn))
        else:
            held.update(RoleAt(item.role, urn) for urn in schools)
    return frozenset(held)


def with_school_ids(
    held: Iterable[RoleAt], school_ids: Mapping[str, int]
) -> frozenset[tuple[str, int | None]]:
    """(role, school id) pairs as stored in person_role; every URN is the trust's."""
    return frozenset(
        (role.value, school_ids[urn] if urn is not None else None) for role, urn in held
    )
