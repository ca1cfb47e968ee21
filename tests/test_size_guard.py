"""Issue 19, item 5: every outgoing activity is measured as Teams measures it (its JSON
in UTF-16) before it is sent; one over 80 KB is replaced by a short card saying so,
with the smaller view its card offered, and logged by size and kind, never content.

Paths: an invoke's answer and `expectReplies` replies (the HTTP body), a reply posted
through the connector, and a proactive message from the outbox."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.size_guard as guard
import dialogs.digest_cards as digest_cards
from bot.size_guard import MAX_MESSAGE_BYTES, fit_activity, teams_size
from cards.render import ADAPTIVE_CARD, attachment
from dialogs.digest_cards import DigestVerb
from dialogs.visits.verbs import VisitVerb
from storage.engine import Sessions
from storage.models import School
from tests.improvement import SIA, seed_improvement
from tests.support import (
    HEAD,
    TRUST_LEAD,
    Served,
    card_actions,
    card_text,
    cards_in,
    filled,
    loopback_connector,
    message,
    only_card,
    seed_trust,
    serve,
)

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TOO_LARGE = "This answer is too large for Teams to show"
SCHOOLS = 200


def _activity(card: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "conversation": {"id": "a:1"}, "attachments": [attachment(card)]}


def _card(text: str, *actions: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
        "actions": list(actions),
    }


def _titles(card: dict[str, Any]) -> list[str]:
    return [action["title"] for action in card.get("actions", [])]


def _size_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "waypoint.size"]


# -- the measure --------------------------------------------------------------------


def test_the_measure_counts_utf16_as_teams_does() -> None:
    # '"a"', '"é"', '"😀"': three UTF-16 code units each, bar the emoji, which is a
    # surrogate pair (two units); two bytes a unit.
    assert teams_size("a") == 6
    assert teams_size("é") == 6
    assert teams_size("😀") == 8
    assert teams_size("Ysgol Brontë 📚") == 2 * (2 + 14 + 1)
    payload = {"text": "Brontë 📚 ✓"}
    text = json.dumps(payload, ensure_ascii=False)
    assert teams_size(payload) == len(text.encode("utf-16-le")) == 2 * (len(text) + 1)
    # Not UTF-8's bytes, nor the characters Python counts.
    assert teams_size(payload) not in (len(text.encode("utf-8")), 2 * len(text))


def test_emoji_count_twice_against_the_limit(caplog: pytest.LogCaptureFixture) -> None:
    # 30,000 emoji are 30,000 characters (60 KB at two bytes a character), but 60,000
    # UTF-16 code units: 120 KB, over the limit.
    secret = "📚" * 30_000
    activity = _activity(_card(secret))
    assert 2 * len(json.dumps(activity, ensure_ascii=False)) < MAX_MESSAGE_BYTES
    assert teams_size(activity) > MAX_MESSAGE_BYTES
    with caplog.at_level(logging.WARNING, logger="waypoint.size"):
        fitted = fit_activity(activity, where="test")
    [card] = cards_in([fitted])
    assert TOO_LARGE in card_text(card) and "📚" not in json.dumps(fitted)
    assert teams_size(fitted) < 4 * 1024


def test_an_activity_within_the_limit_goes_as_it_is() -> None:
    activity = _activity(_card("x" * 1000))
    assert fit_activity(activity, where="test") is activity


def test_the_replacement_offers_the_cards_smaller_view_and_logs_no_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    smaller = {
        "type": "Action.Execute",
        "title": "Back to the digest",
        "verb": DigestVerb.digest,
        "data": {"verb": DigestVerb.digest},
        "id": "smaller",
    }
    other = {"type": "Action.Execute", "title": "Next", "verb": DigestVerb.page, "data": {}}
    activity = _activity(_card("Private words " * 10_000, other, smaller))
    activity["text"] = "Private words too"
    with caplog.at_level(logging.WARNING, logger="waypoint.size"):
        fitted = fit_activity(activity, where="POST activity")
    assert "text" not in fitted and fitted["conversation"] == {"id": "a:1"}
    [card] = cards_in([fitted])
    assert _titles(card) == ["Back to the digest", "Home"]
    assert card["actions"][0] == smaller
    [line] = _size_lines(caplog)
    assert f"{teams_size(activity)} bytes" in line and "digest.page,digest.show" in line
    assert "Private" not in line


# -- a 200-school trust's "Show all schools" -----------------------------------------


async def _big_trust(sessions: Sessions) -> int:
    seeded = await seed_trust(sessions)
    async with sessions.begin() as session:
        session.add_all(
            School(
                trust_id=seeded.trust_id,
                urn=f"7{n:05d}",
                name=f"Ysgol Gynradd Gymraeg Llanfihangel-yng-Ngwynfa Brontë {n:03d}",
                phase="primary",
            )
            for n in range(SCHOOLS - len(seeded.school_ids))
        )
    return seeded.trust_id


async def test_show_all_schools_for_200_schools_stays_under_the_limit_or_is_replaced(
    engine: AsyncEngine, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    await _big_trust(sessions)
    caplog.set_level(logging.WARNING, logger="waypoint.size")
    async with loopback_connector() as connector, serve(engine, sessions, now=NOW) as world:
        # Paged: the first page of 200 schools is far under the limit.
        body = await world.execute(DigestVerb.page, {"page": 1}, TRUST_LEAD)
        page = body["value"]
        assert teams_size(body) <= MAX_MESSAGE_BYTES
        assert "Page 1 of 20 · 200 schools" in card_text(page)
        assert not _size_lines(caplog)

        # One page of all 200: over the limit, on every path it could leave by.
        digest_cards.PAGE_SIZE, was = SCHOOLS, digest_cards.PAGE_SIZE
        try:
            invoked = await world.execute(DigestVerb.page, {"page": 1}, TRUST_LEAD)
            replied = await world.submit({"verb": DigestVerb.page, "page": 1}, TRUST_LEAD)
            posted = await world.post(
                message(
                    "",
                    user=TRUST_LEAD,
                    service_url=connector.url,
                    value={"verb": DigestVerb.page, "page": 1},
                )
            )
            assert posted.status == 201, await posted.text()
        finally:
            digest_cards.PAGE_SIZE = was
        [sent] = [p["activity"] for p in connector.posted]
        shown = [invoked["value"], only_card(replied), only_card([sent])]
        for card in shown:
            assert TOO_LARGE in card_text(card)
            assert "Brontë" not in card_text(card)
            assert _titles(card) == ["Back to the digest", "Home"]
            assert card_actions(card)[0] == (DigestVerb.digest, {"verb": DigestVerb.digest})
        assert teams_size(invoked) <= MAX_MESSAGE_BYTES
        assert teams_size(replied[0]) <= MAX_MESSAGE_BYTES
        assert teams_size(sent) <= MAX_MESSAGE_BYTES

        # Logged once per path, by size and the card's verbs, never what it showed.
        lines = _size_lines(caplog)
        assert [line.split(" too large")[0] for line in lines] == [
            "invoke answer",
            "expectReplies reply",
            "POST activity",
        ]
        for line in lines:
            assert line.endswith("(card buttons: digest.show)")
            assert "Brontë" not in line and "Ysgol" not in line
            size = int(line.split(": ")[1].split(" bytes")[0])
            assert size > MAX_MESSAGE_BYTES

        # The smaller view it offers is the digest itself, which fits.
        back = await world.execute(DigestVerb.digest, {}, TRUST_LEAD)
        assert teams_size(back) <= MAX_MESSAGE_BYTES
        assert "Weekly digest" in card_text(back["value"])


# -- a note of visit with 20 long next steps, shared through the outbox ---------------

# As long as the form allows (20 steps, 4000 characters in all), in the characters
# UTF-16 counts twice wherever they fit: the largest note of next steps a head gets.
STEPS = [f"Step {n:02d}: " + "📚 Llyfrau darllen i Flwyddyn 4 — " * 5 for n in range(20)]
STEPS = [step[:199].strip() for step in STEPS]


async def _save_note(world: Served, number: int) -> dict[str, Any]:
    form = only_card(await world.say("visit oakfield", SIA))
    verb, data = filled(
        form,
        number=str(number),
        focus="Early reading 📚 " * 30,
        strengths="Phonics is consistent in KS1 📚. " * 90,
        risks="Year 4 reading fluency lags 📚. " * 90,
        next_steps="\n".join(STEPS),
        owner_id="nobody",
    )
    assert verb == VisitVerb.save
    return await world.execute(verb, data, SIA)


async def test_a_note_of_visit_with_20_long_next_steps_reaches_the_head_whole_or_replaced(
    engine: AsyncEngine,
    sessions: Sessions,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    caplog.set_level(logging.WARNING, logger="waypoint.size")
    async with loopback_connector() as connector, serve(engine, sessions, seeded, now=NOW) as world:
        await world.install_chat(HEAD, connector.url)
        saved = await _save_note(world, 1)
        assert "Note of visit saved" in card_text(saved["value"])
        await world.waypoint.notifier.drain()
        [note] = [p["activity"] for p in connector.posted]
        # The largest note the form allows fits: the head gets it whole.
        size = teams_size(note)
        assert size <= MAX_MESSAGE_BYTES
        card = only_card([note])
        for step in STEPS:
            assert step in card_text(card)
        assert not _size_lines(caplog)

        # Were the limit lower than this note, the head would get the too-large card,
        # with the school's notes of visit to open instead.
        monkeypatch.setattr(guard, "MAX_MESSAGE_BYTES", size - 1)
        saved = await _save_note(world, 2)
        assert "Note of visit saved" in card_text(saved["value"])
        await world.waypoint.notifier.drain()
    [_, replaced] = [p["activity"] for p in connector.posted]
    card = only_card([replaced])
    assert TOO_LARGE in card_text(card) and "Llyfrau" not in json.dumps(replaced)
    assert _titles(card) == ["All notes of visit", "Home"]
    notes = {"verb": VisitVerb.notes, "school_id": seeded.school_ids["100001"]}
    assert card_actions(card)[0] == (VisitVerb.notes, notes)
    [line] = _size_lines(caplog)
    assert line.startswith("POST activity too large") and "visit.notes" in line
    assert "Llyfrau" not in line and "Oakfield" not in line and "📚" not in line
    assert teams_size(replaced) < 4 * 1024
    assert replaced["attachments"][0]["contentType"] == ADAPTIVE_CARD
