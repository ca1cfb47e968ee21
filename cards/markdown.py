"""What a card shows as text stays text: Markdown typed by a person makes no link.

Teams and the Adaptive Cards renderers read a TextBlock's text, a fact's title and
value, and the label of a radio button or checkbox as Markdown. A note typed as
`[Sign in](https://…)` would be a live link in the head's card, `![x](…)` an image
fetched from anywhere, `<https://…>` an autolink. `as_text` rewrites every such
string of a rendered card with CommonMark backslash escapes, which the renderers
drop when they draw the text: the reader sees exactly what was typed. It works on
the whole card after rendering, so a new template is covered without marking
anything; Input values, card data and button titles are left as they are (they are
not Markdown, and a form sent back must keep the raw text).

"- " at a line's start is left alone: a bullet is harmless, and the templates'
own lists are written that way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Emphasis, code spans, links and images, autolinks and raw HTML, strikethrough,
# tables, and the backslash itself: escaped wherever they stand.
_INLINE = re.compile(r"([\\`*_\[\]<>~|])")
# An entity reference would be shown decoded: "&amp;" as "&".
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# At a line's start, as CommonMark reads them (a marker, then a space or the line's
# end): headings and "+" lists; and setext underlines (a line of "=").
_LINE_START = re.compile(r"^([ \t]*)(#{1,6}|\+)(?=[ \t]|$)|^([ \t]*)(=)(?=[= \t]*$)", re.MULTILINE)
# "2026. A year…" at a line's start would be an ordered list starting at 2026
# ("0.5" is not: a list marker is followed by a space).
_ORDERED = re.compile(r"^([ \t]*[0-9]{1,9})([.)])(?=[ \t]|$)", re.MULTILINE)
# A line of dashes is a rule, or turns the line above into a heading.
_DASHES = re.compile(r"^([ \t]*)(-)(?=[- \t]*$)", re.MULTILINE)
# CommonMark: a backslash before any ASCII punctuation shows that character.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def escape(text: str) -> str:
    """`text` as Markdown that renders as exactly `text`."""
    text = _INLINE.sub(r"\\\1", text)
    text = _ENTITY.sub(r"\\&", text)
    text = _LINE_START.sub(_escape_marker, text)
    text = _ORDERED.sub(r"\1\\\2", text)
    return _DASHES.sub(r"\1\\\2", text)


def _escape_marker(match: re.Match[str]) -> str:
    indent, marker = (match[1], match[2]) if match[2] is not None else (match[3], match[4])
    return f"{indent}\\{marker}"


def shown(markdown: str) -> str:
    """What a reader sees of escaped text: the inverse of `escape`."""
    return _ESCAPED.sub(r"\1", markdown)


def as_text(card: dict[str, Any]) -> dict[str, Any]:
    """`card` with every Markdown string escaped (in place; returned for chaining).

    A mention (`<at>Name</at>` named in `msteams.entities`) must reach Teams as it
    is, so those spans are kept.
    """
    mentions = _mentions(card)
    for holder, key in markdown_fields(card):
        holder[key] = _escape_around(holder[key], mentions)
    return card


def markdown_fields(node: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """Every (object, key) of a card whose string value renderers read as Markdown."""
    if isinstance(node, list):
        for item in node:
            yield from markdown_fields(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "TextBlock" and isinstance(node.get("text"), str):
        yield node, "text"
    elif kind == "FactSet":
        for fact in node.get("facts") or []:
            for key in ("title", "value"):
                if isinstance(fact, dict) and isinstance(fact.get(key), str):
                    yield fact, key
    elif kind == "Input.ChoiceSet" and (
        node.get("style") == "expanded" or node.get("isMultiSelect")
    ):
        # Radio buttons and checkboxes draw their labels as TextBlocks; a drop-down
        # shows plain option text and is left alone.
        for choice in node.get("choices") or []:
            if isinstance(choice, dict) and isinstance(choice.get("title"), str):
                yield choice, "title"
    for key, value in node.items():
        if key != "msteams" and isinstance(value, dict | list):
            yield from markdown_fields(value)


def _mentions(card: dict[str, Any]) -> list[str]:
    msteams = card.get("msteams")
    entities = msteams.get("entities") if isinstance(msteams, dict) else None
    return [
        entity["text"]
        for entity in entities or []
        if isinstance(entity, dict)
        and entity.get("type") == "mention"
        and isinstance(entity.get("text"), str)
        and entity["text"]
    ]


def _escape_around(text: str, mentions: list[str]) -> str:
    if not mentions:
        return escape(text)
    pattern = re.compile("|".join(re.escape(m) for m in sorted(mentions, key=len, reverse=True)))
    parts: list[str] = []
    start = 0
    for match in pattern.finditer(text):
        parts += [escape(text[start : match.start()]), match.group()]
        start = match.end()
    parts.append(escape(text[start:]))
    return "".join(parts)
