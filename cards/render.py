"""Render Adaptive Cards from Jinja2 templates, one template per card.

Every `{{ value }}` in a template is emitted as a complete JSON literal
(`json.dumps`), so a user's quotes, backslashes, newlines or template syntax
can never change a card's structure: templates write `"text": {{ name }}`,
never `"text": "{{ name }}"`. The parsed card then goes through `as_text`
(cards/markdown.py): whatever a person typed is shown as text, never as a link.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from cards.markdown import as_text

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"


def _json_literal(value: Any) -> Markup:
    # Markup is what a template's own macros produce: card JSON, emitted as it is.
    # Everything else (all data, never Markup) becomes one JSON literal.
    if isinstance(value, Markup):
        return value
    return Markup(json.dumps(value, ensure_ascii=False, default=str))


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("cards", "templates"),
        finalize=_json_literal,
        undefined=StrictUndefined,
        # On so that macros return Markup; finalize has already made every value JSON.
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_card(template: str, /, **values: Any) -> dict[str, Any]:
    """Render `templates/<template>.json.j2` into an Adaptive Card dict."""
    text = _environment().get_template(f"{template}.json.j2").render(**values)
    card: dict[str, Any] = json.loads(text)
    return as_text(card)


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": ADAPTIVE_CARD, "content": card}


def template_names() -> list[str]:
    return sorted(
        name.removesuffix(".json.j2")
        for name in _environment().list_templates()
        if name.endswith(".json.j2")
    )
