"""What a line of a schools or people file may say: the columns, and a model per row.

A row is checked on its own here; checks against the rest of the file and against
the trust are the imports' own (storage.imports.schools, storage.imports.people).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from storage.csv_rows import quoted
from storage.models import Role
from storage.people_roles import (
    FOR_THE_TRUST,
    RoleAt,
    RoleItem,
    placement_problems,
    role_named,
    roles_at,
    split_item,
)

SCHOOL_COLUMNS = ("urn", "name", "phase", "hub")
PERSON_COLUMNS = ("aad_object_id", "email", "display_name", "roles", "schools", "subjects")

# The stored spelling of each phase. Special schools and alternative provision are not
# phases in the DfE's sense, but trusts group their schools this way.
SCHOOL_PHASES = (
    "nursery",
    "primary",
    "secondary",
    "all-through",
    "special",
    "alternative provision",
    "16 plus",
)

# Lengths of the columns in storage.models, so that a long value is a row error here
# rather than a database error half-way through the flush.
SCHOOL_NAME_MAX = 200
HUB_MAX = 100
EMAIL_MAX = 254
DISPLAY_NAME_MAX = 200
SUBJECT_MAX = 80

LIST_SEPARATOR = ";"

_URN = re.compile(r"[0-9]{5,8}")
_ENTRA_OBJECT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _single_line(value: str) -> str:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must be one line of text, without line breaks or control characters")
    return value


def _urn(value: str) -> str:
    if not _URN.fullmatch(value):
        raise ValueError(f"{value!r} is not a URN (a URN is 5 to 8 digits)")
    return value


def _phase_key(value: str) -> str:
    return re.sub(r"[\s_-]+", "", value.casefold())


_PHASE_BY_KEY = {_phase_key(phase): phase for phase in SCHOOL_PHASES}


def _phase(value: str) -> str:
    phase = _PHASE_BY_KEY.get(_phase_key(value))
    if phase is None:
        raise ValueError(f"{value!r} is not a phase (phases are: {', '.join(SCHOOL_PHASES)})")
    return phase


def _entra_object_id(value: str) -> str:
    # Teams sends object ids in lower case; storing them so makes the match exact.
    lowered = value.lower()
    if not _ENTRA_OBJECT_ID.fullmatch(lowered):
        raise ValueError(
            f"{value!r} is not an Entra object id "
            "(a GUID such as 4f0c9e2a-7b1d-4c3e-9f6a-2d8b5e1a0c7f)"
        )
    return lowered


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _items(value: str) -> list[str]:
    """The items of a `;`-separated cell, each once, in the order given."""
    items: dict[str, str] = {}
    for raw in value.split(LIST_SEPARATOR):
        item = raw.strip()
        # Case-blind, so that "Maths;maths" is one subject and not two.
        if item and item.casefold() not in items:
            items[item.casefold()] = item
    return list(items.values())


Urn = Annotated[str, Field(min_length=1), AfterValidator(_urn)]
Phase = Annotated[str, Field(min_length=1), AfterValidator(_phase)]
SchoolName = Annotated[
    str, Field(min_length=1, max_length=SCHOOL_NAME_MAX), AfterValidator(_single_line)
]
Hub = Annotated[str, Field(max_length=HUB_MAX), AfterValidator(_single_line)]
EntraObjectId = Annotated[str, Field(min_length=1), AfterValidator(_entra_object_id)]
Email = Annotated[str, Field(min_length=1, max_length=EMAIL_MAX), AfterValidator(_email)]
DisplayName = Annotated[
    str, Field(min_length=1, max_length=DISPLAY_NAME_MAX), AfterValidator(_single_line)
]
Subject = Annotated[str, Field(min_length=1, max_length=SUBJECT_MAX), AfterValidator(_single_line)]


class SchoolRow(BaseModel):
    """One line of a schools file."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    urn: Urn
    name: SchoolName
    phase: Phase
    hub: Hub | None = None

    @field_validator("hub", mode="before")
    @classmethod
    def _no_hub_when_blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class PersonRow(BaseModel):
    """One line of a people file: who someone is, their roles (each at a school, or
    for the trust: storage.people_roles), schools and subjects."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    aad_object_id: EntraObjectId
    email: Email
    display_name: DisplayName
    roles: tuple[RoleItem, ...]
    schools: tuple[Urn, ...] = ()
    subjects: tuple[Subject, ...] = ()

    @field_validator("roles", mode="before")
    @classmethod
    def _parse_roles(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        items = _items(value)
        if not items:
            raise ValueError(f"at least one role is required (roles are: {', '.join(Role)})")
        parsed: dict[RoleItem, None] = {}
        unknown: list[str] = []
        problems: list[str] = []
        for item in items:
            name, urn = split_item(item)
            role = role_named(name)
            if role is None:
                unknown.append(name)
            elif urn is not None and urn != FOR_THE_TRUST and not _URN.fullmatch(urn):
                problems.append(f"{item!r}: {urn!r} is not a URN (a URN is 5 to 8 digits)")
            else:
                parsed[RoleItem(role, urn)] = None
        if unknown:
            noun = "role" if len(unknown) == 1 else "roles"
            problems.insert(0, f"unknown {noun} {quoted(unknown)} (roles are: {', '.join(Role)})")
        if problems:
            raise ValueError("; ".join(problems))
        return tuple(parsed)

    @property
    def role_names(self) -> frozenset[Role]:
        return frozenset(item.role for item in self.roles)

    @property
    def urns(self) -> list[str]:
        """Every URN the row names, in its schools and after its roles' @."""
        named = list(self.schools) + [
            item.urn for item in self.roles if item.urn not in (None, FOR_THE_TRUST)
        ]
        return list(dict.fromkeys(named))

    @property
    def held(self) -> frozenset[RoleAt]:
        return roles_at(self.roles, self.schools)

    @field_validator("schools", "subjects", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        return _items(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _reach_fits_roles(self) -> PersonRow:
        problems = []
        leads_a_subject = Role.subject_lead in self.role_names
        if leads_a_subject and not self.subjects:
            problems.append("a subject_lead needs at least one subject in subjects")
        if self.subjects and not leads_a_subject:
            problems.append(
                "subjects are only for subject leads: add the subject_lead role "
                "or leave subjects empty"
            )
        problems += placement_problems(self.roles, self.schools)
        if problems:
            raise ValueError("; ".join(problems))
        return self
