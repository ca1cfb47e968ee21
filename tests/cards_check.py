"""Rendering every card template, and the checks each rendered card must pass.

Used by tests/test_cards.py and by `make screenshots` (tests/card_screenshots.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cards.markdown import as_text, markdown_fields, shown
from cards.render import _environment
from tests.card_samples import SAMPLES, TYPED, with_text
from tests.official import TOOLS, adaptive_card_validator, schema_problems

RENDERER = TOOLS / "browser" / "cards.mjs"
# Text a person could type, at its most awkward: JSON and template syntax, markup,
# mentions, emoji, right-to-left scripts, control characters, a 2,000-character note.
HOSTILE = (
    'She said "no" \\ then \\"yes\\" \\u0022 \'single\'',
    "line one\nline two\r\n\ttabbed\u2028separated\u2029",
    "{{ title }} {% if true %}x{% endif %} {# note #} {{",
    "${title} ${{APP_ID}} ${$root.body[0]} $when",
    "<at>Marcus Bell</at> <script>alert(1)</script> &amp; </p> ]]>",
    "👩🏽‍🏫 📚✅ 🇬🇧 café Zoë Ní Bhriain",
    "المعلمة قالت: ممتاز — המורה אמרה: מצוין",
    "nul\x00 bell\x07 escape\x1b delete\x7f",
    "   ",
    (
        "Long note: retrieval practice at the start of each lesson, cold calling, "
        "mini whiteboards. " * 25
    )[:2000],
)
# Teams refuses a card bigger than this in a message.
MAX_CARD_BYTES = 28 * 1024


@dataclass(frozen=True)
class RenderedCard:
    template: str
    label: str
    text: str
    typed: str | None = None

    @property
    def id(self) -> str:
        return f"{self.template}: {self.label}"


def render_text(template: str, values: dict[str, Any]) -> str:
    """The card as render_card sends it (Markdown escaped), or the template's raw
    output when that is not JSON, for json_problems to report."""
    raw = _environment().get_template(f"{template}.json.j2").render(**values)
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    if not isinstance(parsed, dict):
        return raw
    return json.dumps(as_text(parsed), ensure_ascii=False)


def realistic(template: str) -> Iterator[RenderedCard]:
    for index, values in enumerate(SAMPLES.get(template, [])):
        yield RenderedCard(template, f"sample {index + 1}", render_text(template, values))


def hostile(template: str) -> Iterator[RenderedCard]:
    paths = TYPED.get(template, ())
    for index, values in enumerate(SAMPLES.get(template, [])):
        for number, text in enumerate(HOSTILE):
            yield RenderedCard(
                template,
                f"sample {index + 1}, hostile text {number + 1}",
                render_text(template, with_text(values, paths, text)),
                typed=text,
            )


def json_problems(card: RenderedCard) -> list[str]:
    try:
        parsed = json.loads(card.text)
    except json.JSONDecodeError as error:
        line = card.text.splitlines()[error.lineno - 1] if card.text else ""
        return [f"{card.id}: not JSON: {error.msg} at line {error.lineno}: {line.strip()[:160]}"]
    if not isinstance(parsed, dict) or parsed.get("type") != "AdaptiveCard":
        return [f"{card.id}: not an AdaptiveCard object"]
    problems = []
    if parsed.get("version") != "1.5":
        problems.append(f"{card.id}: version is {parsed.get('version')!r}, not '1.5'")
    if card.typed is not None and card.typed not in "\n".join(shown_strings(parsed)):
        problems.append(f"{card.id}: the typed text does not appear intact on the card")
    return problems


def shown_strings(card: dict[str, Any]) -> Iterator[str]:
    """Every string of a card as a reader sees it: Markdown text unescaped."""
    markdown = {(id(holder), key) for holder, key in markdown_fields(card)}

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and (id(node), key) in markdown:
                    yield shown(value)
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, str):
            yield node

    yield from walk(card)


def schema_check(card: RenderedCard) -> list[str]:
    parsed = json.loads(card.text)
    problems = [f"{card.id}: Teams: {p}" for p in teams_extension_problems(parsed)]
    standard = schema_view(parsed)
    problems += [f"{card.id}: {p}" for p in schema_problems(adaptive_card_validator(), standard)]
    return problems


# -- Teams' own extensions ---------------------------------------------------------
#
# Neither the Adaptive Card schema nor the renderer knows the card's `msteams`
# property or Teams' charts (`Chart.*`); they are checked here, and the schema and
# renderer checks see each chart as its fallback element (or nothing). The
# type-ahead choice set (`"style": "filtered"`, Adaptive Cards 1.5 in Teams) is known
# to the renderer but missing from the official schema-1.5.json: it is checked here
# and shown to the schema as "compact".

CHART_TYPES = frozenset(
    {
        "Chart.Donut",
        "Chart.Pie",
        "Chart.Gauge",
        "Chart.Line",
        "Chart.HorizontalBar",
        "Chart.HorizontalBar.Stacked",
        "Chart.VerticalBar",
        "Chart.VerticalBar.Grouped",
    }
)


def teams_extension_problems(card: dict[str, Any]) -> list[str]:
    problems = []
    msteams = card.get("msteams")
    if msteams is not None:
        if not isinstance(msteams, dict):
            return ["msteams must be an object"]
        unknown = set(msteams) - {"width", "entities"}
        if unknown:
            problems.append(f"msteams has unknown properties: {sorted(unknown)}")
        if "width" in msteams and msteams["width"] != "Full":
            problems.append(f"msteams.width must be 'Full', not {msteams['width']!r}")
        texts = "\n".join(
            element.get("text", "")
            for element in _elements(card)
            if element.get("type") == "TextBlock" and isinstance(element.get("text"), str)
        )
        for index, entity in enumerate(msteams.get("entities") or []):
            where = f"msteams.entities[{index}]"
            if entity.get("type") != "mention":
                problems.append(f"{where}: type must be 'mention'")
            mentioned = entity.get("mentioned") or {}
            if not (
                isinstance(mentioned.get("id"), str) and isinstance(mentioned.get("name"), str)
            ):
                problems.append(f"{where}: mentioned needs an id and a name")
            text = entity.get("text")
            if not (isinstance(text, str) and text.startswith("<at>") and text.endswith("</at>")):
                problems.append(f"{where}: text must be <at>…</at>")
            elif text not in texts:
                problems.append(f"{where}: {text} appears in no TextBlock")
    for element in _elements(card):
        kind = element.get("type")
        filtered = kind == "Input.ChoiceSet" and element.get("style") == "filtered"
        if filtered and element.get("isMultiSelect"):
            # The renderer draws a multi-select as checkboxes whatever its style.
            problems.append(f"{element.get('id')}: a filtered choice set picks one choice")
        if isinstance(kind, str) and kind.startswith("Chart."):
            if kind not in CHART_TYPES:
                problems.append(f"{kind}: not a Teams chart type")
            if not isinstance(element.get("data"), list) or not element["data"]:
                problems.append(f"{kind}: needs a non-empty data list")
    return problems


def schema_view(card: dict[str, Any]) -> dict[str, Any]:
    """The card as the schema knows it: no msteams, charts as their fallbacks, filtered
    shown as compact."""
    return _standard(card, filtered_as_compact=True)


def renderer_view(card: dict[str, Any]) -> dict[str, Any]:
    """The card as the JavaScript renderer knows it: no msteams, charts as their fallbacks."""
    return _standard(card, filtered_as_compact=False)


def _standard(card: dict[str, Any], *, filtered_as_compact: bool) -> dict[str, Any]:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            filtered = node.get("type") == "Input.ChoiceSet" and node.get("style") == "filtered"
            if filtered and filtered_as_compact:
                node = {**node, "style": "compact"}
            return {key: strip(value) for key, value in node.items()}
        if isinstance(node, list):
            # A chart is shown as its fallback element, as a client without charts
            # shows it (dropped if it has none), so that the fallback is checked too.
            kept = []
            for item in node:
                if isinstance(item, dict) and str(item.get("type", "")).startswith("Chart."):
                    item = item.get("fallback")
                    if not isinstance(item, dict):
                        continue
                kept.append(strip(item))
            return kept
        return node

    stripped: dict[str, Any] = strip({k: v for k, v in card.items() if k != "msteams"})
    return stripped


def _elements(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from _elements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _elements(item)


# -- the JavaScript renderer -------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """What the official renderer made of one card in one theme."""

    theme: str
    warnings: list[str]
    # The outer HTML of every link and image: Markdown that became markup.
    links: list[str]
    # The card's text as drawn (Markdown applied).
    text: str


def render_in_browser(cards: dict[str, dict[str, Any]]) -> dict[str, list[Rendered]]:
    """Every card through the official renderer, light and dark, in one browser session,
    with Markdown processed as the renderer does when markdown-it is loaded."""
    payload = [{"id": card_id, "card": renderer_view(card)} for card_id, card in cards.items()]
    with tempfile.TemporaryDirectory(prefix="waypoint-cards-") as directory:
        path = Path(directory) / "cards.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        done = subprocess.run(
            ["node", str(RENDERER), "check", str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=TOOLS,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the renderer check did not run: {done.stderr.strip()[-2000:]}")
    answer = json.loads(done.stdout)
    if answer["pageErrors"]:
        raise RuntimeError(f"the renderer's page failed: {answer['pageErrors']}")
    rendered: dict[str, list[Rendered]] = {card_id: [] for card_id in cards}
    for result in answer["results"]:
        rendered[result["id"]].append(
            Rendered(result["theme"], result["warnings"], result["links"], result["text"])
        )
    return rendered


def renderer_warnings(rendered: dict[str, list[Rendered]]) -> dict[str, list[str]]:
    """Each card's warnings, each prefixed with the host config's theme."""
    return {
        card_id: [f"{r.theme}: {w}" for r in results for w in r.warnings]
        for card_id, results in rendered.items()
    }


def words_too_wide(cards: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Every card drawn by the official renderer in Teams' frame at desktop width and at
    its narrowest (about 320 px): for each card and width, each word of a table's cell (a
    Table's cell or a ColumnSet's column, headers included) that is wider than its cell,
    so broken over lines ("Teach/ers") or running out of it."""
    payload = [{"id": card_id, "card": renderer_view(card)} for card_id, card in cards.items()]
    with tempfile.TemporaryDirectory(prefix="waypoint-words-") as directory:
        path = Path(directory) / "cards.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        done = subprocess.run(
            ["node", str(RENDERER), "words", str(path)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=TOOLS,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the word check did not run: {done.stderr.strip()[-2000:]}")
    answer = json.loads(done.stdout)
    if answer["pageErrors"]:
        raise RuntimeError(f"the renderer's page failed: {answer['pageErrors']}")
    found: dict[str, dict[str, list[str]]] = {card_id: {} for card_id in cards}
    for result in answer["results"]:
        found[result["id"]][result["width"]] = result["problems"]
    return found
