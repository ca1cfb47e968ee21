"""The form kit: every card form is drawn, read, checked and answered the same way.

A job declares its form once (`CardForm`: its pydantic model, its messages in the
form's own words, and what to type to start again). Drawing a new card gives a
`FormView` with a fresh form id; reading a submit gives a `Submission`: the form
id, the values as typed, the parsed form or the errors by field. When anything is
wrong, the job draws the same card again from `submission.view()`: values kept,
each error by its field, the same form id (so a corrected resubmit still stores
once, storage/forms.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from dialogs.turn import Reply, Turn

# Form ids are Waypoint's own uuid4 hex: anything else comes from a tampered or
# broken card and names no form.
_FORM_ID = re.compile(r"^[0-9a-f]{32}$")
# Record ids are 32-bit in the schema (PostgreSQL INTEGER): a bigger number names
# nothing, and must not reach the store, which would fail on it.
MAX_RECORD_ID = 2**31 - 1
# What a card shows again of one typed value: all of it, up to a bound that still
# fits a card comfortably.
MAX_SHOWN_AGAIN = 20_000

M = TypeVar("M", bound=BaseModel)


def new_form_id() -> str:
    return uuid.uuid4().hex


def valid_form_id(value: object) -> str | None:
    return value if isinstance(value, str) and _FORM_ID.match(value) else None


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


def submitted_text(data: Mapping[str, Any], key: str) -> str:
    """A submitted value as the card will show it again (never None, never huge)."""
    value = data.get(key)
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text[:MAX_SHOWN_AGAIN]


def iso_date(value: object) -> object:
    """A card's date input, for a `mode="before"` validator: empty is none, and only
    YYYY-MM-DD is a date (pydantic would also take a Unix timestamp)."""
    if value == "":
        return None
    if isinstance(value, str) and not (len(value) == 10 and value[4] == "-"):
        raise ValueError("not a date")
    return value


def field_errors(error: ValidationError, messages: Mapping[str, str]) -> dict[str, str]:
    """One message per field, in the form's words.

    `messages` maps "field" (any problem) or "field:error_type" (one kind of
    problem, e.g. "notes:string_too_long") to what the person should read; it may
    use the error's context, e.g. "{length}" for the length typed.
    """
    errors: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "form"
        if name in errors:
            continue
        kind = str(item["type"])
        text = messages.get(f"{name}:{kind}") or messages.get(name)
        if text is None:
            text = str(item["msg"]).removeprefix("Value error, ")
        errors[name] = text.format(**_context(item))
    return errors


def _context(item: Mapping[str, Any]) -> dict[str, Any]:
    context = dict(item.get("ctx") or {})
    given = item.get("input")
    context.setdefault("length", len(given) if isinstance(given, str) else 0)
    return context


def validate(
    model: type[M],
    values: Mapping[str, str],
    messages: Mapping[str, str],
    *,
    context: Mapping[str, Any],
) -> tuple[M | None, dict[str, str]]:
    """The values parsed by the model, or the errors by field in the form's words."""
    try:
        return model.model_validate(dict(values), context=dict(context)), {}
    except ValidationError as error:
        return None, field_errors(error, messages)


@dataclass(frozen=True)
class FormView:
    """What a form card shows: the values (typed, or the defaults), the errors by
    field, and the card's form id."""

    values: Mapping[str, str]
    errors: Mapping[str, str] = field(default_factory=dict)
    form_id: str = field(default_factory=new_form_id)


@dataclass
class Submission(Generic[M]):
    """A form as submitted: its id, the values as typed, the form parsed or the
    errors by field."""

    form_id: str
    values: dict[str, str]
    form: M | None
    errors: dict[str, str]

    @property
    def valid(self) -> bool:
        return self.form is not None and not self.errors

    def error(self, name: str, message: str) -> None:
        """A problem the model cannot see (it needs the store, or who is asking);
        the first one found for a field is the one shown."""
        self.errors.setdefault(name, message)

    def view(self) -> FormView:
        """The same card again: the values as typed, the errors, the same form id."""
        return FormView(values=self.values, errors=dict(self.errors), form_id=self.form_id)


class CardForm(Generic[M]):
    """One card form: its model, its messages, and how to start it again."""

    def __init__(
        self,
        model: type[M],
        *,
        messages: Mapping[str, str],
        start_again: str,
        fields: tuple[str, ...] | None = None,
        drawn: re.Pattern[str] | None = None,
    ) -> None:
        self.model = model
        self.messages = messages
        # Which inputs the card has: the model's fields unless the card has more
        # (a choice the job reads itself) or fewer.
        self.fields = fields if fields is not None else tuple(model.model_fields)
        # Inputs the card draws from the store, one per record (a rating per earlier
        # action): kept as typed when the card comes back, read by the job itself.
        self.drawn = drawn
        self.out_of_date = Reply(text=f"That form is out of date. {start_again}")

    def blank(self, **defaults: str) -> FormView:
        """A new card: its defaults, no errors, a new form id."""
        return FormView(values=defaults)

    def read(
        self, turn: Turn, *, context: Mapping[str, Any] | None = None
    ) -> Submission[M] | Reply:
        """The submit in `turn.data`, parsed; a card without a valid form id gets the
        out-of-date answer. Validators see `today` (the school's day) and `context`."""
        form_id = valid_form_id(turn.data.get("form_id"))
        if form_id is None:
            return self.out_of_date
        values = {name: submitted_text(turn.data, name) for name in self.fields}
        if self.drawn is not None:
            values |= {
                name: submitted_text(turn.data, name)
                for name in turn.data
                if isinstance(name, str) and self.drawn.match(name)
            }
        form, errors = validate(
            self.model, values, self.messages, context={"today": turn.today, **(context or {})}
        )
        return Submission(form_id, values, form, errors)
