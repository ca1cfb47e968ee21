"""Waypoint's command registry: what a typed message means."""

from __future__ import annotations

from typing import Any

import pytest

import dialogs.matcher as matcher_module
from dialogs.catalogue import build_registry
from dialogs.matcher import (
    MATCHED_CHARACTERS,
    MATCHED_WORDS,
    Ambiguous,
    Matched,
    NotUnderstood,
    matched_words,
)
from dialogs.registry import Registry
from dialogs.turn import Reply, Turn


async def _nothing(turn: Turn) -> Reply:
    return Reply(text="")


def _registry() -> Registry:
    registry = Registry()
    for key, phrase in (
        ("my_actions", "my actions"),
        ("category", "category"),
        ("my_coaching", "my coaching"),
        ("coaching", "log coaching"),
    ):
        registry.command(key, title=key, summary="", phrases=(phrase,), private=False)(_nothing)
    return registry


@pytest.mark.parametrize(
    ("typed", "key", "args"),
    [
        ("my actions", "my_actions", ""),
        ("My Actions please", "my_actions", "please"),
        ("show me my actions", "my_actions", ""),
        ("my actoins", "my_actions", ""),
        ("category Oakfield Primary", "category", "oakfield primary"),
        ("Category st mary's", "category", "st mary's"),
        ("catgeory oakfeld", "category", "oakfeld"),
        ("<at>Waypoint</at> my coaching", "my_coaching", ""),
        ("log coaching", "coaching", ""),
    ],
)
def test_commands_are_found_despite_case_extra_words_and_typos(
    typed: str, key: str, args: str
) -> None:
    match = _registry().match(typed)
    assert isinstance(match, Matched), match
    assert (match.command.key, match.args) == (key, args)


def test_two_equally_good_commands_ask_which_was_meant() -> None:
    registry = _registry()
    registry.command(
        "my_teaching", title="Teaching", summary="", phrases=("my teaching",), private=False
    )(_nothing)
    # One letter from "my coaching" and one from "my teaching".
    match = registry.match("my ceaching")
    assert isinstance(match, Ambiguous)
    assert {c.key for c in match.commands} == {"my_coaching", "my_teaching"}


def test_nonsense_is_not_understood_and_near_misses_get_a_suggestion() -> None:
    registry = build_registry()
    assert registry.match("xyzzy") == NotUnderstood(None)
    assert registry.match("") == NotUnderstood(None)
    near = registry.match("what do you do")
    assert isinstance(near, NotUnderstood) and near.suggestion is not None
    assert near.suggestion.key == "help"
    # A guess no better than others is no suggestion (the home card answers instead).
    assert registry.match("the weather is lovely today") == NotUnderstood(None)
    assert registry.match("hello") == NotUnderstood(None)


def test_a_command_cannot_be_registered_twice() -> None:
    registry = _registry()
    with pytest.raises(ValueError, match="registered twice"):
        registry.command("category", title="x", summary="", phrases=("x",), private=False)(_nothing)


# -- privacy declarations --------------------------------------------------------


def test_a_command_or_verb_without_a_privacy_declaration_is_refused() -> None:
    registry = Registry()
    undeclared: dict[str, Any] = {"title": "Pupils", "summary": "", "phrases": ("pupils",)}
    with pytest.raises(TypeError, match="private"):
        registry.command("pupils", **undeclared)(_nothing)
    with pytest.raises(TypeError, match="private"):
        registry.command("pupils", **undeclared, private=None)(_nothing)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="private"):
        registry.verb("pupils.show")(_nothing)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="private"):
        registry.verb("pupils.show", private="no")(_nothing)  # type: ignore[arg-type]
    assert registry.commands() == [] and registry.verbs() == []


def test_only_answers_without_private_data_are_declared_shareable() -> None:
    """Pinned: making an answer shareable is a decision to review, never a default."""
    registry = build_registry()
    shareable = {c.key for c in registry.commands() if not c.private}
    assert shareable == {"help", "commands", "category", "coaching_coverage"}
    # The category's decisions are "shared with all governors and staff" (seed 002): its
    # history is no more private than the card that shows the decision in force.
    assert {v.name for v in registry.verbs() if not v.private} == {
        "category.show",
        "category.history",
    }
    assert {c.key for c in registry.commands() if c.private} >= {
        "whoami",
        "log_coaching",
        "my_coaching",
        "actions",
        "qa",
        "qa_status",
        "raise_concern",
        "attendance_concerns",
        "visit",
        "visits",
        "categorise",
        "digest",
        "digest_report",
    }


# -- hostile text ----------------------------------------------------------------


class _Seen:
    """What the matcher read: the characters given to `normalise`, the words scored."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.characters: list[int] = []
        self.words: list[int] = []
        real_normalise, real_score = matcher_module.normalise, matcher_module._score_phrase

        def normalise(text: str) -> str:
            self.characters.append(len(text))
            return real_normalise(text)

        def score(phrase: list[str], words: list[str]) -> tuple[float, str]:
            self.words.append(len(words))
            return real_score(phrase, words)

        monkeypatch.setattr(matcher_module, "normalise", normalise)
        monkeypatch.setattr(matcher_module, "_score_phrase", score)


def test_a_flood_of_mentions_is_read_only_as_far_as_the_matcher_looks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = build_registry()
    seen = _Seen(monkeypatch)
    flood = "<at>" * (256 * 1024 // 4)
    assert registry.match(flood) == NotUnderstood(None)
    assert isinstance(registry.match("<at>Waypoint</at> " + flood), NotUnderstood)
    assert seen.characters and max(seen.characters) <= MATCHED_CHARACTERS


def test_a_hundred_kilobytes_of_words_are_scored_only_as_far_as_the_matcher_looks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = build_registry()
    seen = _Seen(monkeypatch)
    words = "lorem ipsum dolor " * (100 * 1024 // 18)
    match = registry.match("<at>Waypoint</at> my actions " + words)
    assert isinstance(match, Matched) and match.command.key == "actions"
    assert len(match.args.split()) < MATCHED_WORDS
    assert isinstance(registry.match(words), NotUnderstood)
    assert max(seen.characters) <= MATCHED_CHARACTERS
    assert seen.words and max(seen.words) <= MATCHED_WORDS


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("<at>Waypoint</at> my actions", ["my", "actions"]),
        ("<at>Way\npoint</at>my actions", ["my", "actions"]),
        ("<AT>Waypoint</AT> category <b>Oakfield</b>", ["category", "oakfield"]),
        ("<at>Waypoint category", ["waypoint", "category"]),
        ("<<<at>>> help", ["help"]),
        ("</at><at>help", ["help"]),
    ],
)
def test_mentions_and_markup_are_stripped_from_what_is_matched(
    typed: str, words: list[str]
) -> None:
    assert matched_words(typed) == words


def test_the_matcher_reads_a_commands_words_from_the_first_characters_only() -> None:
    padding = "please " * (MATCHED_CHARACTERS // 7 + 1)
    assert isinstance(build_registry().match(padding + "my actions"), NotUnderstood)
    assert matched_words("my actions " + padding)[:2] == ["my", "actions"]
