"""Every card template, with realistic and with hostile text: JSON, the 1.5 schema, the renderer.

Each template gets a row in each of the three checks. Samples come from
tests/card_samples.py; a template without samples fails here.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.markdown import markdown_fields, shown
from cards.render import _environment, template_names
from tests.card_samples import SAMPLES, TYPED, with_text
from tests.cards_check import (
    MAX_CARD_BYTES,
    Rendered,
    RenderedCard,
    hostile,
    json_problems,
    realistic,
    render_in_browser,
    render_text,
    renderer_view,
    renderer_warnings,
    schema_check,
    schema_view,
    teams_extension_problems,
    words_too_wide,
)
from tests.official import (
    TOOLS,
    adaptive_card_validator,
    missing_browser_tools,
    need,
    schema_problems,
)

TEMPLATES = template_names()


def _cards(template: str) -> list[RenderedCard]:
    if not SAMPLES.get(template):
        pytest.fail(
            f"card template {template!r} has no samples: add realistic values for it to "
            "SAMPLES in tests/card_samples.py (and where typed text lands to TYPED)"
        )
    if template not in TYPED:
        pytest.fail(
            f"card template {template!r}: say in TYPED (tests/card_samples.py) "
            "where a person's text lands in its values; () if nowhere"
        )
    return [*realistic(template), *hostile(template)]


def test_samples_name_only_existing_templates() -> None:
    assert sorted(set(SAMPLES) - set(TEMPLATES)) == []
    assert sorted(set(TYPED) - set(TEMPLATES)) == []


@pytest.mark.parametrize("template", TEMPLATES)
def test_card_is_valid_json(template: str) -> None:
    problems = [p for card in _cards(template) for p in json_problems(card)]
    assert problems == []
    for card in realistic(template):
        size = len(card.text.encode())
        assert size < MAX_CARD_BYTES, f"{card.id}: {size} bytes"


@pytest.mark.parametrize("template", TEMPLATES)
def test_card_is_valid_against_the_adaptive_card_1_5_schema(template: str) -> None:
    problems = [p for card in _cards(template) for p in schema_check(card)]
    assert problems == []


# -- the official JavaScript renderer, Teams host configs --------------------------

BROKEN: dict[str, tuple[dict[str, Any], str]] = {
    "misspelt element": (
        {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlok", "text": "x"}]},
        "UnknownElementType",
    ),
    "unknown size": (
        {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [{"type": "TextBlock", "text": "x", "size": "Huge"}],
        },
        "InvalidPropertyValue",
    ),
    "required input without label": (
        {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [{"type": "Input.Text", "id": "notes", "isRequired": True}],
        },
        "RequiredInputsShouldHaveLabel",
    ),
    "two inputs with one id": (
        {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [
                {"type": "Input.Text", "id": "notes", "label": "Notes"},
                {"type": "Input.Date", "id": "notes", "label": "Date"},
            ],
        },
        "DuplicateId",
    ),
    "unknown action": (
        {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [],
            "actions": [{"type": "Action.Sumbit", "title": "Save"}],
        },
        "UnknownActionType",
    ),
}


# Markdown a person could type to make a link, an image or formatting in someone
# else's card. Each must be drawn as the very characters typed.
MARKUP = (
    "[x](https://evil.example)",
    'Please [Sign in](https://evil.example/login "Waypoint") again',
    "<https://evil.example>",
    "![x](https://evil.example/pixel.png)",
    "[x][1]\n\n[1]: https://evil.example",
    "**x** __x__ *x* _x_ `x` ~~x~~ &amp; <b>x</b>",
    "# x\n1. x\n2) x\n+ x\n> x\n===",
)


def marked_up(template: str) -> list[RenderedCard]:
    return [
        RenderedCard(
            template,
            f"sample {index + 1}, markup {number + 1}",
            render_text(template, with_text(values, TYPED.get(template, ()), text)),
            typed=text,
        )
        for index, values in enumerate(SAMPLES.get(template, []))
        for number, text in enumerate(MARKUP)
    ]


@cache
def _rendered() -> dict[str, list[Rendered]]:
    """One browser session for every card of every template, and the broken ones."""
    cards: dict[str, dict[str, Any]] = {}
    for template in TEMPLATES:
        for rendered in [*realistic(template), *hostile(template), *marked_up(template)]:
            try:
                cards[rendered.id] = json.loads(rendered.text)
            except json.JSONDecodeError:
                continue  # test_card_is_valid_json reports it
    for name, (broken, _) in BROKEN.items():
        cards[f"broken: {name}"] = broken
    return render_in_browser(cards)


def _assert_renders_cleanly(results: dict[str, list[str]], card_ids: list[str]) -> None:
    """Fails with each distinct warning once, and the cards that raised it."""
    seen: dict[str, list[str]] = {}
    for card_id in card_ids:
        for warning in results[card_id]:
            seen.setdefault(warning, []).append(card_id)
    report = [
        f"{warning} — in {len(ids)} card(s), first {ids[0]!r}" for warning, ids in seen.items()
    ]
    assert report == [], "the Teams renderer warns:\n" + "\n".join(report)


@pytest.fixture(scope="module")
def renderer() -> dict[str, list[str]]:
    need(missing_browser_tools())
    return renderer_warnings(_rendered())


@pytest.mark.parametrize("template", TEMPLATES)
def test_card_parses_without_warnings_in_the_teams_renderer(
    template: str, renderer: dict[str, list[str]]
) -> None:
    card_ids = [card.id for card in _cards(template)]
    assert all(card_id in renderer for card_id in card_ids), "not valid JSON: see its JSON test"
    _assert_renders_cleanly(renderer, card_ids)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_card_fails_the_renderer_check(name: str, renderer: dict[str, list[str]]) -> None:
    card_id = f"broken: {name}"
    with pytest.raises(AssertionError):
        _assert_renders_cleanly(renderer, [card_id])
    expected = BROKEN[name][1]
    for theme in ("light", "dark"):
        assert any(w.startswith(f"{theme}: ") and expected in w for w in renderer[card_id])


@pytest.mark.parametrize("template", TEMPLATES)
def test_markdown_typed_anywhere_is_drawn_as_the_text_typed(template: str) -> None:
    need(missing_browser_tools())
    results = _rendered()
    problems: list[str] = []
    for card in marked_up(template):
        assert card.typed is not None
        parsed = json.loads(card.text)
        shown_as_text = any(card.typed in shown(h[k]) for h, k in markdown_fields(parsed))
        for drawn in results[card.id]:
            where = f"{card.id} ({drawn.theme})"
            if drawn.links:
                problems.append(f"{where}: Markdown made {drawn.links[0]}")
            if shown_as_text and _words(card.typed) not in _words(drawn.text):
                problems.append(f"{where}: {card.typed!r} is not drawn as typed")
            if "\\" in drawn.text:
                problems.append(f"{where}: a backslash is drawn")
    assert problems == []


def _words(text: str) -> str:
    """Text with every run of white space as one space: Markdown joins a paragraph's lines."""
    return " ".join(text.split())


def test_the_link_check_sees_a_link_made_by_markdown() -> None:
    need(missing_browser_tools())
    head = {"type": "AdaptiveCard", "version": "1.5"}
    link = "[x](https://evil.example)"
    drawn = render_in_browser(
        {
            "raw": {**head, "body": [{"type": "TextBlock", "text": link}]},
            "facts": {
                **head,
                "body": [{"type": "FactSet", "facts": [{"title": "a", "value": link}]}],
            },
        }
    )
    for card_id in ("raw", "facts"):
        for result in drawn[card_id]:
            [made] = result.links
            assert made.startswith("<a ") and 'href="https://evil.example"' in made
            assert link not in result.text


def test_the_checks_catch_a_template_that_lets_typed_text_in() -> None:
    environment = _environment()
    head = '{"type": "AdaptiveCard", "version": "1.5", "body": '
    quoted = environment.from_string(head + '[{"type": "TextBlock", "text": "{{ note }}"}]}')
    card = RenderedCard("quoted", "x", quoted.render(note='He said "no"'), typed='He said "no"')
    assert json_problems(card)[0].startswith("quoted: x: not JSON")
    misplaced = environment.from_string(
        head + '[{"type": "TextBlock", "text": "Hi", "size": {{ note }}}]}'
    )
    card = RenderedCard("misplaced", "x", misplaced.render(note="huge"), typed="huge")
    assert json_problems(card) == []
    assert schema_check(card) == [
        "misplaced: x: body[0].size: 'huge' is not one of "
        "['default', 'small', 'medium', 'large', 'extraLarge']"
    ]


# -- words that fit their column, at Teams' narrowest width and on the desktop ------


def _word_check_cards() -> dict[str, dict[str, Any]]:
    cards: dict[str, dict[str, Any]] = {}
    for template in TEMPLATES:
        for rendered in realistic(template):
            try:
                cards[rendered.id] = json.loads(rendered.text)
            except json.JSONDecodeError:
                continue  # test_card_is_valid_json reports it
    for name, card in NARROW.items():
        cards[f"narrow: {name}"] = card
    return cards


def _table(header: list[str], widths: list[str], rows: list[list[str]]) -> dict[str, Any]:
    """A synthetic card: a ColumnSet of bold headers over ColumnSet rows, as Waypoint's tables."""

    def row(texts: list[str], bold: bool) -> dict[str, Any]:
        return {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "width": width,
                    "items": [
                        {"type": "TextBlock", "text": text, "wrap": True}
                        | ({"weight": "Bolder"} if bold else {})
                    ],
                }
                for text, width in zip(texts, widths, strict=True)
            ],
        }

    body = [row(header, True), *(row(r, False) for r in rows)]
    return {"type": "AdaptiveCard", "version": "1.5", "body": body}


# Tables whose headers cannot fit: each must fail the word check at both widths.
NARROW: dict[str, dict[str, Any]] = {
    "six weighted columns": _table(
        ["School", "Teachers", "2 wks", "6 wks", "Per teacher", "Cancelled"],
        ["3", "1", "1", "1", "1", "1"],
        [["Oakfield Primary", "4", "50%", "75%", "1.5", "10%"]],
    ),
    "a 24 px column": _table(["School", "Cancelled"], ["stretch", "24px"], [["Oakfield", "1"]]),
    "a word that will not wrap": {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {
                "type": "ColumnSet",
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [{"type": "TextBlock", "text": "School"}],
                    },
                    {
                        "type": "Column",
                        "width": "30px",
                        "items": [{"type": "TextBlock", "text": "Cancellations", "wrap": False}],
                    },
                ],
            }
        ],
    },
    "a Table": {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {
                "type": "Table",
                "firstRowAsHeaders": True,
                "columns": [{"width": 6}, {"width": 1}],
                "rows": [
                    {
                        "type": "TableRow",
                        "cells": [
                            {
                                "type": "TableCell",
                                "items": [{"type": "TextBlock", "text": t, "wrap": True}],
                            }
                            for t in ("School", "Teachers")
                        ],
                    }
                ],
            }
        ],
    },
}


@cache
def _word_check() -> dict[str, dict[str, list[str]]]:
    return words_too_wide(_word_check_cards())


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_word_of_a_table_fits_its_column_at_320_px_and_on_the_desktop(
    template: str,
) -> None:
    """A header such as "Teachers" drawn as "Teach/ers" fails, at either width."""
    need(missing_browser_tools())
    found = _word_check()
    problems = [
        f"{card.id} at {width}: {problem}"
        for card in realistic(template)
        for width, listed in found.get(card.id, {}).items()
        for problem in listed
    ]
    assert problems == []
    assert all(set(found[card.id]) == {"desktop", "narrow"} for card in realistic(template))


@pytest.mark.parametrize("name", sorted(NARROW))
def test_a_column_too_narrow_for_its_header_fails_the_word_check(name: str) -> None:
    need(missing_browser_tools())
    found = _word_check()[f"narrow: {name}"]
    assert found["narrow"], "the check passed a column too narrow for its words"
    assert found["desktop"]


def test_the_word_check_names_a_word_broken_over_lines() -> None:
    need(missing_browser_tools())
    found = _word_check()["narrow: six weighted columns"]["narrow"]
    assert any(p.startswith('"Teachers" in a ') and "broken over" in p for p in found), found


# -- any text a person can type ----------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
def test_any_typed_text_keeps_the_card_valid(template: str, text: str) -> None:
    for index, values in enumerate(SAMPLES.get(template) or []):
        card = RenderedCard(
            template,
            f"sample {index + 1} with {text!r}",
            render_text(template, with_text(values, TYPED.get(template, ()), text)),
            typed=text,
        )
        assert json_problems(card) == []
        assert schema_check(card) == []


# -- Teams' own extensions ---------------------------------------------------------


def test_no_card_uses_teams_extensions_the_checks_do_not_cover() -> None:
    for template in TEMPLATES:
        for card in realistic(template):
            parsed = json.loads(card.text)
            assert teams_extension_problems(parsed) == [], card.id


def test_teams_extensions_are_checked_by_waypoints_own_rules() -> None:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "Well done <at>Marcus Bell</at>"},
            {"type": "Chart.Donut", "data": [{"legend": "Held", "value": 9}]},
        ],
        "msteams": {
            "width": "Full",
            "entities": [
                {
                    "type": "mention",
                    "text": "<at>Marcus Bell</at>",
                    "mentioned": {"id": "29:abc", "name": "Marcus Bell"},
                }
            ],
        },
    }
    assert teams_extension_problems(card) == []
    standard = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "Well done <at>Marcus Bell</at>"}],
    }
    assert schema_view(card) == renderer_view(card) == standard
    assert adaptive_card_validator().is_valid(schema_view(card))
    broken = json.loads(json.dumps(card))
    broken["msteams"]["width"] = "Wide"
    broken["msteams"]["entities"][0]["text"] = "<at>Someone Else</at>"
    broken["body"][1] = {"type": "Chart.Doughnut", "data": []}
    assert teams_extension_problems(broken) == [
        "msteams.width must be 'Full', not 'Wide'",
        "msteams.entities[0]: <at>Someone Else</at> appears in no TextBlock",
        "Chart.Doughnut: not a Teams chart type",
        "Chart.Doughnut: needs a non-empty data list",
    ]


def test_a_type_ahead_choice_set_is_checked_here_and_compact_to_the_schema() -> None:
    choice: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": "coachee",
        "label": "Teacher",
        "style": "filtered",
        "choices": [{"title": "Liam Doherty", "value": "15"}],
    }
    card: dict[str, Any] = {"type": "AdaptiveCard", "version": "1.5", "body": [choice]}
    assert teams_extension_problems(card) == []
    assert not adaptive_card_validator().is_valid(card)
    assert adaptive_card_validator().is_valid(schema_view(card))
    assert renderer_view(card)["body"][0]["style"] == "filtered"
    card["body"][0] = {**choice, "isMultiSelect": True}
    assert teams_extension_problems(card) == ["coachee: a filtered choice set picks one choice"]


def test_schema_problems_name_the_place_and_the_reason() -> None:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlok", "text": "x"},
            {"type": "TextBlock", "text": "x", "color": "Red"},
            {"type": "TextBlock"},
        ],
        "actions": [{"type": "Action.Submit", "title": 1}],
    }
    assert schema_problems(adaptive_card_validator(), card) == [
        "body[0]: no definition in the schema accepts type 'TextBlok'",
        "body[2]: 'text' is a required property",
        "actions[0].title: 1 is not of type 'string'",
        "body[1].color: 'Red' is not one of "
        "['default', 'dark', 'light', 'accent', 'good', 'warning', 'attention']",
    ]


# -- colours that read on Teams' light and dark backgrounds -------------------------

# WCAG's floor for large or bold text (its AA level for body text is 4.5:1). Teams'
# "good" green (#92c353) is 2.1:1 on white and its "warning" yellow 1.5:1: a card says
# "saved" in the default colour with a tick instead.
MIN_CONTRAST = 3.0


def _rgb(colour: str, under: tuple[float, ...] = (1.0, 1.0, 1.0)) -> tuple[float, ...]:
    digits = colour.lstrip("#")
    alpha = int(digits[:2], 16) / 255 if len(digits) == 8 else 1.0
    channels = [int(digits[-6:][i : i + 2], 16) / 255 for i in (0, 2, 4)]
    return tuple(alpha * c + (1 - alpha) * u for c, u in zip(channels, under, strict=True))


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    def luminance(rgb: tuple[float, ...]) -> float:
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _teams_colours() -> dict[str, dict[tuple[str, bool], float]]:
    """Per theme, each (colour, subtle) TextBlock pair's contrast on the card."""
    folder = TOOLS / "node_modules" / "adaptivecards-designer" / "lib" / "hostConfigs"
    found: dict[str, dict[tuple[str, bool], float]] = {}
    for theme in ("light", "dark"):
        host = json.loads((folder / f"microsoft-teams-{theme}.json").read_text())
        style = host["containerStyles"]["default"]
        background = _rgb(style["backgroundColor"])
        found[theme] = {
            (name.lower(), subtle): _contrast(
                _rgb(shades["subtle" if subtle else "default"], background), background
            )
            for name, shades in style["foregroundColors"].items()
            for subtle in (False, True)
        }
    return found


def test_every_coloured_text_reads_on_light_and_dark() -> None:
    need(missing_browser_tools())
    contrast = _teams_colours()
    assert contrast["light"][("good", False)] < MIN_CONTRAST  # the check sees a pale colour
    problems = []
    for template in TEMPLATES:
        for card in realistic(template):
            for element in _all_elements(json.loads(card.text)):
                if element.get("type") != "TextBlock" or "color" not in element:
                    continue
                key = (str(element["color"]).lower(), bool(element.get("isSubtle")))
                for theme, ratios in contrast.items():
                    if ratios[key] < MIN_CONTRAST:
                        problems.append(
                            f"{card.id}: {key[0]} text {element['text']!r} is "
                            f"{ratios[key]:.1f}:1 on {theme}"
                        )
    assert problems == []


def _all_elements(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *(e for value in node.values() for e in _all_elements(value))]
    if isinstance(node, list):
        return [e for item in node for e in _all_elements(item)]
    return []
