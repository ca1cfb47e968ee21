"""What the attendance forms share: the length of free text and the choices' check."""

from __future__ import annotations

MAX_TEXT = 2000


def one_of(value: str, allowed: dict[str, str]) -> str:
    if value not in allowed:
        raise ValueError("not one of the choices")
    return value
