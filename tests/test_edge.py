"""The real aiohttp app over HTTP: what Teams would get back, and what was stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from storage.models import AuditEvent, ConversationRef
from tests.support import (
    BOT_ID,
    OTHER_TENANT,
    SERVICE_URL,
    STRANGER,
    TEACHER,
    card_text,
    cards_in,
    count_rows,
    execute,
    loopback_connector,
    message,
    seed_trust,
    serve_waypoint,
)

SETTINGS = Settings(_env_file=None)


async def test_expect_replies_help_from_a_head_returns_the_help_card_in_the_body(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post("/api/messages", json=message("help", expect_replies=True))
        assert response.status == 200
        body = await response.json()
    cards = cards_in(body["activities"])
    assert len(cards) == 1
    shown = card_text(cards[0])
    assert "What I can do for you, Hana" in shown
    # The head's home: their jobs, what needs doing now, and the way to the rest.
    assert "Our actions" in shown and "No actions overdue" in shown and "All commands" in shown


async def test_help_is_forgiving_about_case_extra_words_and_typos(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        for typed in ("HELP", "help please", "hlep", "<at>Waypoint</at> help"):
            response = await client.post("/api/messages", json=message(typed, expect_replies=True))
            body = await response.json()
            assert "What I can do for you" in card_text(cards_in(body["activities"])[0]), typed


async def test_an_unknown_person_gets_a_polite_refusal_naming_no_one(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post(
            "/api/messages", json=message("help", user=STRANGER, expect_replies=True)
        )
        body = await response.json()
    [reply] = body["activities"]
    assert "doesn't know you yet at Test Trust" in reply["text"]
    # Anyone in the tenant can ask: the trust's admins are not named to them.
    assert "Ada Admin" not in reply["text"]
    assert not reply.get("attachments")
    after = await count_rows(sessions)
    # Only the redelivery guard's row: nothing about the stranger is kept.
    assert {k: v for k, v in after.items() if v != before[k]} == {"processed_activity": 1}


async def test_an_unknown_tenant_is_told_waypoint_is_not_set_up(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post(
            "/api/messages", json=message("help", tenant=OTHER_TENANT, expect_replies=True)
        )
        body = await response.json()
    [reply] = body["activities"]
    assert "isn't set up for your organisation" in reply["text"]
    assert "Test Trust" not in reply["text"]


async def test_normal_delivery_posts_the_reply_to_the_connector_at_the_service_url(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with loopback_connector() as connector, serve_waypoint(engine, SETTINGS) as (client, _):
        activity = message("who am i", service_url=connector.url)
        response = await client.post("/api/messages", json=activity)
        assert response.status == 201
    [posted] = connector.posted
    assert posted["path"] == f"/v3/conversations/a:personal-chat-1/activities/{activity['id']}"
    reply = posted["activity"]
    assert reply["replyToId"] == activity["id"]
    assert reply["from"]["id"] == BOT_ID
    shown = card_text(cards_in([reply])[0])
    assert "Hana Head" in shown and "Oakfield Primary" in shown and "Headteacher" in shown


async def test_the_same_activity_delivered_twice_is_answered_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with loopback_connector() as connector, serve_waypoint(engine, SETTINGS) as (client, _):
        activity = message("help", service_url=connector.url, activity_id="dup-1")
        first = await client.post("/api/messages", json=activity)
        second = await client.post("/api/messages", json=activity)
        assert (first.status, second.status) == (201, 201)
    assert len(connector.posted) == 1


async def test_action_execute_invoke_returns_its_card_in_the_response_body(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post("/api/messages", json=execute("run", {"command": "help"}))
        assert response.status == 200
        body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "What I can do for you, Hana" in card_text(body["value"])


async def test_an_invoke_of_the_wrong_shape_gets_a_clear_error_not_a_500(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        bad = execute("run")
        bad["value"] = {"action": "not-an-object"}
        response = await client.post("/api/messages", json=bad)
        body = await response.json()
        unknown = execute("run")
        unknown["name"] = "composeExtension/query"
        other = await client.post("/api/messages", json=unknown)
    assert response.status == 200
    assert body["statusCode"] == 400
    assert "not understood" in body["value"]["message"]
    assert other.status == 400


async def test_a_card_submit_runs_the_buttons_command(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        submit = message("", value={"verb": "run", "command": "whoami"}, expect_replies=True)
        response = await client.post("/api/messages", json=submit)
        body = await response.json()
    assert "Hana Head" in card_text(cards_in(body["activities"])[0])


async def test_install_stores_the_conversation_reference_and_welcomes(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        install = message("", user=TEACHER, expect_replies=True)
        install.pop("text")
        install.update(type="installationUpdate", action="add")
        response = await client.post("/api/messages", json=install)
        body = await response.json()
    assert "Welcome to Waypoint, Tom" in card_text(cards_in(body["activities"])[0])
    async with sessions() as session:
        [ref] = (await session.scalars(select(ConversationRef))).all()
    assert ref.person_id == seeded.person_ids[TEACHER]
    assert ref.conversation_id == "a:personal-chat-1"
    assert ref.conversation_type == "personal"
    assert ref.reference["serviceUrl"] == SERVICE_URL


async def test_a_command_outside_the_persons_roles_is_refused_and_audited(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from dialogs.turn import Reply, Turn
    from storage.models import Role

    await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, waypoint):

        @waypoint.bot.registry.command(
            "trust report",
            title="Trust report",
            summary="for trust leads",
            phrases=("trust report",),
            private=False,
            roles=frozenset({Role.trust_lead}),
        )
        async def trust_report(turn: Turn) -> Reply:
            return Reply(text="the report")

        response = await client.post(
            "/api/messages", json=message("trust report", user=TEACHER, expect_replies=True)
        )
        body = await response.json()
        help_response = await client.post(
            "/api/messages", json=message("help", user=TEACHER, expect_replies=True)
        )
        help_card = cards_in((await help_response.json())["activities"])[0]
    [reply] = body["activities"]
    assert reply["text"] == "You don't have access to Trust report: it is for trust leads."
    assert "Trust report" not in card_text(help_card)
    async with sessions() as session:
        [event] = (await session.scalars(select(AuditEvent))).all()
    assert (event.action, event.outcome) == ("command:trust report", "refused")


@pytest.mark.parametrize(
    ("content_type", "payload", "status"),
    [
        ("application/json", b"{not json", 400),
        ("application/json", b"[1, 2, 3]", 400),
        ("text/plain", json.dumps(message("help")).encode(), 415),
        (None, json.dumps(message("help")).encode(), 415),
        ("application/json", json.dumps({"type": "message"}).encode(), 400),
        ("application/json", b"\xff\xfe\x00garbage", 400),
    ],
)
async def test_bad_requests_get_a_short_json_error_and_store_nothing(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    content_type: str | None,
    payload: bytes,
    status: int,
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        headers = {"Content-Type": content_type} if content_type else {}
        if content_type is None:
            # aiohttp would add a default type; send none at all.
            headers["Content-Type"] = ""
        response = await client.post("/api/messages", data=payload, headers=headers)
        body = await response.json()
    assert response.status == status
    assert set(body["error"]) == {"code", "message"}
    assert "Traceback" not in json.dumps(body)
    assert await count_rows(sessions) == before


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"type": 5}, "type"),
        ({"conversation": None}, "conversation"),
        ({"from": {"name": "no id"}}, "from.id"),
        ({"serviceUrl": "javascript:alert(1)"}, "serviceUrl"),
        ({"serviceUrl": None}, "serviceUrl"),
        ({"text": ["not", "text"]}, "text"),
        ({"channelData": "tenant"}, "channelData"),
        ({"timestamp": "yesterday-ish"}, "wrong type"),
    ],
)
async def test_an_activity_missing_what_a_turn_needs_is_refused_with_400(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    change: dict[str, object],
    complaint: str,
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    activity = message("help")
    activity.update(change)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post("/api/messages", json=activity)
        body = await response.json()
    assert response.status == 400
    assert complaint in body["error"]["message"]
    assert await count_rows(sessions) == before


async def test_a_body_over_the_limit_gets_413(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    huge = message("x" * (300 * 1024))
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post("/api/messages", json=huge)
        body = await response.json()
    assert response.status == 413
    assert body["error"]["code"] == "PayloadTooLarge"


async def test_healthz_reports_the_store(engine: AsyncEngine) -> None:
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.get("/healthz")
        assert (response.status, await response.json()) == (200, {"status": "ok", "store": "up"})


async def test_turns_build_no_msrest_connector_client(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """botbuilder builds an msrest ConnectorClient per turn, whose retry policy
    rebuilds ~500 status codes on every call; Waypoint's turns never make one."""
    from botframework.connector.aio import ConnectorClient

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a turn built an msrest ConnectorClient")

    monkeypatch.setattr(ConnectorClient, "__init__", refuse)
    await seed_trust(sessions)
    async with loopback_connector() as connector, serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post(
            "/api/messages", json=message("help", service_url=connector.url)
        )
        assert response.status == 201
    assert len(connector.posted) == 1


async def test_a_connector_that_is_down_gets_a_502_and_the_retry_is_answered(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    import socket

    await seed_trust(sessions)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        down = message(
            "help", service_url=f"http://127.0.0.1:{closed_port}/", activity_id="retry-1"
        )
        response = await client.post("/api/messages", json=down)
        assert response.status == 502
        assert (await response.json())["error"]["code"] == "BadGateway"
        async with loopback_connector() as connector:
            again = dict(down, serviceUrl=connector.url)
            retried = await client.post("/api/messages", json=again)
            assert retried.status == 201
    # The failed first delivery did not count as handled: the retry was answered.
    assert len(connector.posted) == 1


async def test_one_install_announced_twice_is_welcomed_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Teams sends installationUpdate and conversationUpdate for one install."""
    await seed_trust(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        added = message("", user=TEACHER, expect_replies=True)
        added.pop("text")
        added.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
        installed = dict(added, type="installationUpdate", action="add", id="install-2")
        installed.pop("membersAdded")
        first = await (await client.post("/api/messages", json=added)).json()
        second = await (await client.post("/api/messages", json=installed)).json()
    assert "Welcome to Waypoint, Tom" in card_text(cards_in(first["activities"])[0])
    assert second["activities"] == []
