"""The SQL-backed Bot Framework state store, on SQLite and on PostgreSQL.

Follows the intent of botbuilder-testing's storage_base_tests, plus what a
stateless multi-replica bot needs: a stale eTag loses, even when the two
writers race on separate connections.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.core import ConversationState, MessageFactory, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogInstance,
    DialogSet,
    DialogState,
    DialogTurnStatus,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.state import SqlStorage, StateConflict
from storage.engine import create_engine, session_factory
from storage.state import MAX_KEY_BYTES, MAX_KEY_LENGTH

TEAMS_KEY = "msteams/conversations/a:1Xyz-AbC_dEf+GhI/jKl==;messageid=1712345678901/"


@pytest.fixture
def storage(sessions: async_sessionmaker[AsyncSession]) -> SqlStorage:
    return SqlStorage(sessions)


@pytest.fixture
async def other_storage(database_url: tuple[str, str | None]) -> AsyncIterator[SqlStorage]:
    """The same store through an engine of its own, as another replica would reach it."""
    url, schema = database_url
    engine = create_engine(url, schema=schema)
    try:
        yield SqlStorage(session_factory(engine))
    finally:
        await engine.dispose()


# --- reading and creating ---------------------------------------------------------------


async def test_reading_unknown_keys_returns_nothing(storage: SqlStorage) -> None:
    assert await storage.read(["unknown"]) == {}
    assert await storage.read([]) == {}


async def test_read_returns_only_the_keys_that_exist(storage: SqlStorage) -> None:
    await storage.write({"here": {"n": 1}})

    found = await storage.read(["here", "missing", "here"])

    assert list(found) == ["here"]


async def test_created_dicts_read_back_with_an_e_tag(storage: SqlStorage) -> None:
    await storage.write({"plain": {"id": 1}, "wildcard": {"id": 2, "e_tag": "*"}})

    found = await storage.read(["plain", "wildcard"])

    assert found["plain"] == {"id": 1, "e_tag": found["plain"]["e_tag"]}
    assert found["wildcard"]["id"] == 2
    for item in found.values():
        assert isinstance(item["e_tag"], str) and item["e_tag"] not in ("", "*")


async def test_store_items_read_back_as_store_items_with_an_e_tag(storage: SqlStorage) -> None:
    await storage.write({"item": StoreItem(count=3, names=["a", "b"], when=datetime(2024, 9, 2))})

    item = (await storage.read(["item"]))["item"]

    assert isinstance(item, StoreItem)
    assert (item.count, item.names, item.when) == (3, ["a", "b"], datetime(2024, 9, 2))
    assert item.e_tag


async def test_values_keep_their_types_through_the_store(storage: SqlStorage) -> None:
    value = {
        "text": "naïve café — 学校 🏫 \x00 \ud800",
        "numbers": [0, -1, 2**63, 1.5, None, True],
        "nested": {"a": {"b": [{"c": "d"}]}},
        "when": datetime(2024, 9, 2, 8, 30, tzinfo=UTC),
        "pair": (1, "x"),
        "tags": {"x"},
    }

    await storage.write({"types": dict(value)})
    found = (await storage.read(["types"]))["types"]

    found.pop("e_tag")
    assert found == value


async def test_a_crazy_key_round_trips(storage: SqlStorage) -> None:
    key = '!@#$%^&*()_+??><":QASD~`'
    await storage.write({key: {"id": 1}})

    assert (await storage.read([key]))[key]["id"] == 1


async def test_teams_unicode_and_longest_keys_are_kept_apart(storage: SqlStorage) -> None:
    keys = [
        TEAMS_KEY,
        TEAMS_KEY.upper(),
        TEAMS_KEY + " ",
        "msteams/users/29:1AbC/🙂",
        "学校/conversations/é",  # precomposed é
        "学校/conversations/é",  # e + combining acute: another key
        "مدرسة/'; drop table bot_state; --",
        "%_\\ wildcards are not patterns",
        "",
        "k" * MAX_KEY_LENGTH,
        "é" * MAX_KEY_LENGTH,
    ]
    await storage.write({key: {"key": key} for key in keys})

    found = await storage.read(keys)

    assert {key: item["key"] for key, item in found.items()} == {key: key for key in keys}
    await storage.delete([TEAMS_KEY])
    assert set(await storage.read(keys)) == set(keys) - {TEAMS_KEY}


def random_cjk(count: int) -> str:
    # Random, so PostgreSQL cannot compress the key under its index entry limit.
    pick = random.Random(count)
    return "".join(chr(pick.randint(0x4E00, 0x9FFF)) for _ in range(count))


async def test_the_longest_uncompressible_unicode_key_is_stored(storage: SqlStorage) -> None:
    key = random_cjk(MAX_KEY_BYTES // 3)
    await storage.write({key: {"n": 1}})

    assert (await storage.read([key]))[key]["n"] == 1


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("k" * (MAX_KEY_LENGTH + 1), "longer than 1024 characters"),
        (random_cjk(MAX_KEY_LENGTH), "UTF-8 bytes"),
        ("nul\x00inside", "NUL"),
        ("lone \ud800 surrogate", "surrogate"),
    ],
)
async def test_keys_no_store_can_hold_are_refused_alike(
    storage: SqlStorage, key: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        await storage.write({key: {"n": 1}})
    with pytest.raises(ValueError, match=problem):
        await storage.read([key])
    assert await storage.read(["ok"]) == {}


async def test_writing_nothing_is_fine_and_none_is_refused(storage: SqlStorage) -> None:
    await storage.write({})
    with pytest.raises(ValueError, match="Changes are required when writing"):
        await storage.write(None)  # type: ignore[arg-type]


# --- eTags ------------------------------------------------------------------------------


async def test_every_write_stores_a_new_e_tag_and_hands_it_back(storage: SqlStorage) -> None:
    item: dict[str, Any] = {"count": 0}
    seen = []
    for count in range(3):
        item["count"] = count
        await storage.write({"counter": item})
        stored = (await storage.read(["counter"]))["counter"]
        assert stored["count"] == count
        assert item["e_tag"] == stored["e_tag"]
        seen.append(stored["e_tag"])

    assert len(set(seen)) == 3


async def test_a_store_item_gets_its_new_e_tag_written_back(storage: SqlStorage) -> None:
    item = StoreItem(count=1)
    await storage.write({"item": item})
    first = item.e_tag

    item.count = 2
    await storage.write({"item": item})

    stored = (await storage.read(["item"]))["item"]
    assert (stored.count, stored.e_tag) == (2, item.e_tag)
    assert item.e_tag != first


async def test_update_with_the_current_e_tag_is_stored(storage: SqlStorage) -> None:
    await storage.write({"dict": {"count": 1}, "object": StoreItem(count=1)})
    loaded = await storage.read(["dict", "object"])

    loaded["dict"]["count"] += 1
    loaded["object"].count += 1
    await storage.write(loaded)

    reloaded = await storage.read(["dict", "object"])
    assert reloaded["dict"]["count"] == 2
    assert reloaded["object"].count == 2


async def test_two_writers_with_the_same_e_tag_second_gets_a_conflict(
    storage: SqlStorage,
) -> None:
    await storage.write({"shared": {"by": "nobody"}})
    first = (await storage.read(["shared"]))["shared"]
    second = (await storage.read(["shared"]))["shared"]
    assert first["e_tag"] == second["e_tag"]

    first["by"] = "first"
    await storage.write({"shared": first})
    second["by"] = "second"
    with pytest.raises(StateConflict, match="state for shared was changed by another turn"):
        await storage.write({"shared": second})

    stored = (await storage.read(["shared"]))["shared"]
    assert stored == first


async def test_a_stale_store_item_gets_a_conflict(storage: SqlStorage) -> None:
    await storage.write({"item": StoreItem(by="nobody")})
    first = (await storage.read(["item"]))["item"]
    second = (await storage.read(["item"]))["item"]
    stale_e_tag = second.e_tag

    first.by = "first"
    await storage.write({"item": first})
    second.by = "second"
    with pytest.raises(StateConflict) as raised:
        await storage.write({"item": second})

    assert raised.value.key == "item"
    assert second.e_tag == stale_e_tag
    assert (await storage.read(["item"]))["item"].by == "first"


async def test_the_conflict_names_a_unicode_key(storage: SqlStorage) -> None:
    key = "msteams/conversations/学校 🏫/"
    await storage.write({key: {"n": 0}})
    first = (await storage.read([key]))[key]
    second = (await storage.read([key]))[key]
    await storage.write({key: first})

    with pytest.raises(StateConflict, match=f"state for {key} was changed by another turn"):
        await storage.write({key: second})


async def test_two_replicas_racing_with_the_same_e_tag_one_wins(
    storage: SqlStorage, other_storage: SqlStorage
) -> None:
    await storage.write({TEAMS_KEY: {"by": "nobody", "round": -1}})
    for round_ in range(10):
        mine = (await storage.read([TEAMS_KEY]))[TEAMS_KEY]
        theirs = (await other_storage.read([TEAMS_KEY]))[TEAMS_KEY]
        assert mine["e_tag"] == theirs["e_tag"]
        mine.update(by="mine", round=round_)
        theirs.update(by="theirs", round=round_)

        outcomes = await asyncio.gather(
            storage.write({TEAMS_KEY: mine}),
            other_storage.write({TEAMS_KEY: theirs}),
            return_exceptions=True,
        )

        conflicts = [o for o in outcomes if isinstance(o, StateConflict)]
        assert len(conflicts) == 1, outcomes
        assert TEAMS_KEY in str(conflicts[0])
        winner = mine if outcomes[0] is None else theirs
        assert outcomes[1 if winner is mine else 0] is conflicts[0]
        stored = (await storage.read([TEAMS_KEY]))[TEAMS_KEY]
        assert stored == winner


async def test_replicas_counting_with_retries_lose_no_update(
    database_url: tuple[str, str | None],
) -> None:
    url, schema = database_url
    engines = [create_engine(url, schema=schema) for _ in range(4)]
    replicas = [SqlStorage(session_factory(engine)) for engine in engines]
    per_replica = 8
    conflicts = 0
    # The first time round, every replica reads before any writes: all but one of them
    # then write on a stale eTag, so the retry path is surely taken.
    all_read = asyncio.Barrier(len(replicas))

    async def count(replica: SqlStorage) -> None:
        nonlocal conflicts
        first = True
        for _ in range(per_replica):
            while True:
                found = await replica.read(["counter"])
                item = found.get("counter") or {"n": 0, "e_tag": "never-stored"}
                item["n"] += 1
                if first:
                    first = False
                    await all_read.wait()
                try:
                    await replica.write({"counter": item})
                    break
                except StateConflict:
                    conflicts += 1

    try:
        await replicas[0].write({"counter": {"n": 0}})
        await asyncio.gather(*(count(replica) for replica in replicas))
        stored = (await replicas[0].read(["counter"]))["counter"]
    finally:
        for engine in engines:
            await engine.dispose()

    assert stored["n"] == len(replicas) * per_replica
    # Three of the four lost the first race and counted again, losing nothing.
    assert conflicts >= len(replicas) - 1


async def test_racing_first_writes_without_an_e_tag_both_succeed(
    storage: SqlStorage, other_storage: SqlStorage
) -> None:
    for round_ in range(5):
        key = f"new/{round_}"
        mine: dict[str, Any] = {"by": "mine"}
        theirs: dict[str, Any] = {"by": "theirs"}

        await asyncio.gather(storage.write({key: mine}), other_storage.write({key: theirs}))

        stored = (await storage.read([key]))[key]
        assert stored in (mine, theirs)


async def test_racing_first_writes_with_an_e_tag_one_wins(
    storage: SqlStorage, other_storage: SqlStorage
) -> None:
    for round_ in range(5):
        key = f"new/{round_}"
        mine: dict[str, Any] = {"by": "mine", "e_tag": "read-before-a-delete"}
        theirs: dict[str, Any] = {"by": "theirs", "e_tag": "read-before-a-delete"}

        outcomes = await asyncio.gather(
            storage.write({key: mine}), other_storage.write({key: theirs}), return_exceptions=True
        )

        assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "StateConflict"]
        winner = mine if outcomes[0] is None else theirs
        assert (await storage.read([key]))[key] == winner


async def test_racing_batches_over_the_same_keys_both_finish(
    storage: SqlStorage, other_storage: SqlStorage
) -> None:
    keys = [f"k{i}" for i in range(20)]
    for round_ in range(5):
        mine = {key: {"by": "mine", "round": round_} for key in keys}
        theirs = {key: {"by": "theirs", "round": round_} for key in reversed(keys)}

        await asyncio.gather(storage.write(mine), other_storage.write(theirs))

        stored = await storage.read(keys)
        assert all(stored[key]["round"] == round_ for key in keys)


async def test_wildcard_and_missing_e_tags_overwrite_whatever_is_stored(
    storage: SqlStorage,
) -> None:
    await storage.write({"dict": {"count": 1}, "object": StoreItem(count=1)})
    stale = await storage.read(["dict", "object"])
    await storage.write({"dict": {"count": 2}, "object": StoreItem(count=2)})

    stale["dict"].update(count=100, e_tag="*")
    stale["object"].count = 100
    stale["object"].e_tag = "*"
    await storage.write(stale)
    await storage.write({"no-e-tag": {"count": 1}})
    await storage.write({"no-e-tag": {"count": 100, "e_tag": None}})

    reloaded = await storage.read(["dict", "object", "no-e-tag"])
    assert reloaded["dict"]["count"] == 100
    assert reloaded["object"].count == 100
    assert reloaded["no-e-tag"]["count"] == 100


async def test_an_empty_e_tag_is_refused(storage: SqlStorage) -> None:
    await storage.write({"item": {"count": 1}})
    item = (await storage.read(["item"]))["item"]
    item.update(count=2, e_tag="")

    with pytest.raises(ValueError, match="empty e_tag"):
        await storage.write({"item": item})

    assert (await storage.read(["item"]))["item"]["count"] == 1


async def test_an_e_tag_for_a_key_not_stored_creates_it(storage: SqlStorage) -> None:
    # As MemoryStorage does: no row means nobody changed it since it was read.
    item = {"count": 1, "e_tag": "from-a-row-since-deleted"}

    await storage.write({"gone": item})

    stored = (await storage.read(["gone"]))["gone"]
    assert stored["count"] == 1
    assert stored["e_tag"] == item["e_tag"] != "from-a-row-since-deleted"


async def test_a_batch_with_one_conflict_stores_nothing(storage: SqlStorage) -> None:
    await storage.write({"a": {"v": "a0"}, "b": {"v": "b0"}})
    loaded = await storage.read(["a", "b"])
    await storage.write({"b": {"v": "b-by-another-turn"}})
    untouched = await storage.read(["a", "b"])

    loaded["a"]["v"] = "a1"
    loaded["b"]["v"] = "b1"
    batch = {
        "a": loaded["a"],
        "a-new": {"v": "created"},
        "b": loaded["b"],
        "z": {"v": "z1", "e_tag": "*"},
    }
    with pytest.raises(StateConflict, match="state for b "):
        await storage.write(batch)

    assert await storage.read(["a", "a-new", "b", "z"]) == untouched
    assert "e_tag" not in batch["a-new"]
    assert loaded["a"]["e_tag"] == untouched["a"]["e_tag"]


# --- deleting ---------------------------------------------------------------------------


async def test_delete_removes_the_items(storage: SqlStorage) -> None:
    await storage.write({"delete1": {"count": 1, "e_tag": "*"}, "keep": {"count": 2}})

    await storage.delete(["delete1"])

    found = await storage.read(["delete1", "keep"])
    assert list(found) == ["keep"]
    assert found["keep"]["count"] == 2


async def test_deleting_unknown_keys_is_fine(storage: SqlStorage) -> None:
    await storage.write({"keep": {"count": 1}})
    await storage.delete(["unknown_key"])
    await storage.delete([])
    await storage.delete({"unknown", "also unknown"})
    # Nothing was raised, and nothing else was touched.
    found = await storage.read(["keep", "unknown_key", "unknown"])
    assert list(found) == ["keep"] and found["keep"]["count"] == 1


async def test_batches_are_written_read_and_deleted(storage: SqlStorage) -> None:
    keys = [f"batch{i}" for i in range(1200)]
    await storage.write({key: {"count": i} for i, key in enumerate(keys)})

    found = await storage.read(keys)

    assert {key: item["count"] for key, item in found.items()} == {
        key: i for i, key in enumerate(keys)
    }
    await storage.delete(keys)
    assert await storage.read(keys) == {}


# --- real bot state ---------------------------------------------------------------------


def message_context(text: str, conversation_id: str = "a:1Xyz-AbC_dEf+GhI/jKl==") -> TurnContext:
    activity = Activity(
        type=ActivityTypes.message,
        channel_id="msteams",
        conversation=ConversationAccount(id=conversation_id),
        from_property=ChannelAccount(id="29:user"),
        recipient=ChannelAccount(id="28:bot"),
        text=text,
    )
    return TurnContext(TestAdapter(), activity)


def coaching_stack() -> DialogState:
    waterfall = DialogInstance(
        id="coaching",
        state={
            "stepIndex": 2,
            "options": {"school_id": 7},
            "values": {"instanceId": "c0ffee", "answers": ["strong start", "学校 🏫"]},
        },
    )
    prompt = DialogInstance(id="TextPrompt", state={"state": {}, "options": {"attempts": 1}})
    return DialogState([prompt, waterfall])


async def test_conversation_state_round_trips_a_dialog_stack(storage: SqlStorage) -> None:
    writer = ConversationState(storage)
    turn = message_context("hello")
    await writer.create_property("DialogState").set(turn, coaching_stack())
    await writer.create_property("draft").set(turn, {"school": "Oak", "ratings": [1, 2]})
    await writer.save_changes(turn)

    reader = ConversationState(SqlStorage(storage._sessions))
    next_turn = message_context("next")
    dialog_state = await reader.create_property("DialogState").get(next_turn)
    draft = await reader.create_property("draft").get(next_turn)

    assert isinstance(dialog_state, DialogState)
    assert [(i.id, i.state) for i in dialog_state.dialog_stack] == [
        (i.id, i.state) for i in coaching_stack().dialog_stack
    ]
    assert all(isinstance(i, DialogInstance) for i in dialog_state.dialog_stack)
    assert draft == {"school": "Oak", "ratings": [1, 2]}


async def test_saving_twice_in_one_turn_does_not_conflict_with_itself(
    storage: SqlStorage,
) -> None:
    state = ConversationState(storage)
    draft = state.create_property("draft")
    await draft.set(first_turn := message_context("first"), {"step": 0})
    await state.save_changes(first_turn)

    turn = message_context("second")
    await draft.set(turn, {"step": 1})
    await state.save_changes(turn)
    await draft.set(turn, {"step": 2})
    await state.save_changes(turn)

    assert await ConversationState(storage).create_property("draft").get(
        message_context("third")
    ) == {"step": 2}


async def test_a_turn_on_stale_conversation_state_gets_a_conflict(
    storage: SqlStorage, other_storage: SqlStorage
) -> None:
    state = ConversationState(storage)
    await state.create_property("draft").set(first_turn := message_context("0"), {"n": 0})
    await state.save_changes(first_turn)

    here, there = ConversationState(storage), ConversationState(other_storage)
    turn_here, turn_there = message_context("here"), message_context("there")
    await here.create_property("draft").set(turn_here, {"n": "here"})
    await there.create_property("draft").set(turn_there, {"n": "there"})
    await there.save_changes(turn_there)

    with pytest.raises(StateConflict, match="msteams/conversations/a:1Xyz-AbC_dEf"):
        await here.save_changes(turn_here)
    assert await ConversationState(storage).create_property("draft").get(
        message_context("after")
    ) == {"n": "there"}


async def test_a_waterfall_proceeds_across_turns_through_the_store(
    storage: SqlStorage, other_storage: SqlStorage
) -> None:
    replicas = [storage, other_storage]
    turns = 0

    async def step_1(step: WaterfallStepContext) -> DialogTurnStatus:
        await step.context.send_activity("step1")
        return DialogTurnStatus.Waiting

    async def step_2(step: WaterfallStepContext) -> DialogTurnStatus:
        options = PromptOptions(prompt=MessageFactory.text("Please type your name"))
        return await step.prompt(TextPrompt.__name__, options)

    async def step_3(step: WaterfallStepContext) -> DialogTurnStatus:
        await step.context.send_activity(f"hello {step.result}")
        return await step.end_dialog()

    async def on_turn(turn_context: TurnContext) -> None:
        # A fresh state object each turn, alternating replicas: nothing carries over in memory.
        nonlocal turns
        state = ConversationState(replicas[turns % 2])
        turns += 1
        dialogs = DialogSet(state.create_property("DialogState"))
        dialogs.add(WaterfallDialog("waterfall", [step_1, step_2, step_3]))
        dialogs.add(TextPrompt(TextPrompt.__name__))
        dialog_context = await dialogs.create_context(turn_context)
        await dialog_context.continue_dialog()
        if not turn_context.responded:
            await dialog_context.begin_dialog("waterfall")
        await state.save_changes(turn_context)

    adapter = TestAdapter(on_turn)
    flow = await adapter.send("hi")
    flow = await flow.assert_reply("step1")
    flow = await flow.send("next")
    flow = await flow.assert_reply("Please type your name")
    flow = await flow.send("Ayesha")
    await flow.assert_reply("hello Ayesha")
    assert turns == 3
