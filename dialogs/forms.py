"""What every card form needs: a form id, field errors in words, the school's today."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

# Schools keep UK dates: a session logged at 00:30 on Tuesday happened on Tuesday.
SCHOOL_TIME = ZoneInfo("Europe/London")
_FORM_ID = re.compile(r"^[0-9a-f]{32}$")


# Record ids are 32-bit in the schema (PostgreSQL INTEGER): a bigger number names
# nothing, and must not reach the store, which would fail on it.
MAX_RECORD_ID = 2**31 - 1


def new_form_id() -> str:
    return uuid.uuid4().hex


def record_id(value: object) -> int | None:
    """A record id from card data: an int, or ASCII digits (choice sets send strings).

    Anything else ("+5", "5.0", "²", a huge number, a bool) names no record.
    """
    if isinstance(value, str):
        digits = value.strip()
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
            return None
        value = int(digits)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_RECORD_ID:
        return value
    return None


def valid_form_id(value: object) -> str | None:
    return value if isinstance(value, str) and _FORM_ID.match(value) else None


def school_today(now: datetime) -> date:
    return now.astimezone(SCHOOL_TIME).date()


def field_errors(error: ValidationError, messages: Mapping[str, str]) -> dict[str, str]:
    """One message per field, in the form's words.

    `messages` maps "field" (any problem) or "field:error_type" (one kind of
    problem, e.g. "notes:string_too_long") to what the person should read.
    """
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        if field in errors:
            continue
        kind = str(item["type"])
        text = messages.get(f"{field}:{kind}") or messages.get(field)
        if text is None:
            text = str(item["msg"]).removeprefix("Value error, ")
        errors[field] = text.format(**_context(item))
    return errors


def _context(item: Mapping[str, Any]) -> dict[str, Any]:
    context = dict(item.get("ctx") or {})
    given = item.get("input")
    context.setdefault("length", len(given) if isinstance(given, str) else 0)
    return context


def submitted_text(data: Mapping[str, Any], key: str) -> str:
    """A submitted value as the card will show it again (never None, never huge)."""
    value = data.get(key)
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # Keep what was typed, up to a bound that still fits a card comfortably.
    return text[:20_000]
