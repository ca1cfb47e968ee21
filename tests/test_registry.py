"""Waypoint's command registry: what a typed message means."""

from __future__ import annotations

import pytest

from dialogs.catalogue import build_registry
from dialogs.registry import Ambiguous, Matched, NotUnderstood, Registry, Reply, Turn


async def _nothing(turn: Turn) -> Reply:
    return Reply(text="")


def _registry() -> Registry:
    registry = Registry()
    registry.command("my_actions", title="My actions", summary="", phrases=("my actions",))(
        _nothing
    )
    registry.command("category", title="Category", summary="", phrases=("category",))(_nothing)
    registry.command("my_coaching", title="My coaching", summary="", phrases=("my coaching",))(
        _nothing
    )
    registry.command("coaching", title="Log coaching", summary="", phrases=("log coaching",))(
        _nothing
    )
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
    registry.command("my_teaching", title="Teaching", summary="", phrases=("my teaching",))(
        _nothing
    )
    # One letter from "my coaching" and one from "my teaching".
    match = registry.match("my ceaching")
    assert isinstance(match, Ambiguous)
    assert {c.key for c in match.commands} == {"my_coaching", "my_teaching"}


def test_nonsense_is_not_understood_and_near_misses_get_a_suggestion() -> None:
    registry = build_registry()
    assert registry.match("xyzzy") == NotUnderstood(None)
    assert registry.match("") == NotUnderstood(None)
    near = registry.match("hello")
    assert isinstance(near, NotUnderstood) and near.suggestion is not None
    assert near.suggestion.key == "help"


def test_a_command_cannot_be_registered_twice() -> None:
    registry = _registry()
    with pytest.raises(ValueError, match="registered twice"):
        registry.command("category", title="x", summary="", phrases=("x",))(_nothing)
