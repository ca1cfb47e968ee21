"""Only Teams, only to Teams: channels, service URLs, callers, and references saved unchecked.

Development mode (no credentials) trusts whoever calls, so it answers only local
callers and sends only to loopback; with credentials Waypoint's token goes only to
Teams' https hosts, and never to a reference saved while nobody's token was checked.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_waypoint, create_app
from bot.channel_policy import ChannelPolicy
from bot.connector import Connector, ServiceUrlRefused, TokenProvider
from bot.offloop import BlockingWorker
from bot.sender import OutboxSender
from bot.settings import Settings, StartupRefused
from storage.conversations import save_reference
from storage.engine import create_engine
from storage.migrate import upgrade_sync
from storage.models import ConversationRef, Delivery
from storage.outbox import GONE, SENT, enqueue
from tests.conftest import POSTGRES_URL
from tests.support import (
    HEAD,
    TEACHER,
    card_text,
    cards_in,
    count_rows,
    loopback_connector,
    message,
    seed_trust,
    serve_waypoint,
)

DEVELOPMENT = Settings(_env_file=None)
CREDENTIALS = Settings(
    _env_file=None, MicrosoftAppId="3f2a7c1e-5b6d-4e8f-9a0b-1c2d3e4f5a6b", MicrosoftAppPassword="x"
)


def _install(service_url: str, *, user: str = TEACHER, **changes: Any) -> dict[str, Any]:
    install = message("", user=user, expect_replies=True, service_url=service_url)
    install.update(type="installationUpdate", action="add", **changes)
    return install


async def _references(sessions: async_sessionmaker[AsyncSession]) -> list[ConversationRef]:
    async with sessions() as session:
        return list((await session.scalars(select(ConversationRef))).all())


# -- development mode: the caller must be on this machine --------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "waypoint.example.org"},
        {"Host": "10.0.0.5:3978"},
        {"Host": "abc123.devtunnels.ms"},
        {"Host": "localhost.evil.example"},
        {"X-Forwarded-For": "203.0.113.9"},
        {"X-Forwarded-Host": "waypoint.example.org"},
        {"Forwarded": "for=203.0.113.9;host=waypoint.example.org"},
        {"X-Real-IP": "203.0.113.9"},
        {"Via": "1.1 tunnel"},
    ],
)
async def test_development_mode_refuses_what_a_tunnel_or_proxy_relays(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], headers: dict[str, str]
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, DEVELOPMENT) as (client, _):
        response = await client.post(
            "/api/messages", json=_install(message("")["serviceUrl"]), headers=headers
        )
        body = await response.json()
    assert response.status == 403
    assert body["error"]["code"] == "Forbidden"
    assert "development mode" in body["error"]["message"]
    assert await count_rows(sessions) == before


async def test_development_mode_answers_local_callers(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, DEVELOPMENT) as (client, _):
        port = client.port
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost"):
            response = await client.post(
                "/api/messages", json=message("help", expect_replies=True), headers={"Host": host}
            )
            assert response.status == 200, host
            body = await response.json()
            assert "What I can do for you" in card_text(cards_in(body["activities"])[0]), host


@pytest.mark.parametrize(
    "service_url",
    [
        "https://smba.trafficmanager.net/emea/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5:8080/",
        "http://127.0.0.1.evil.example/",
        "http://user@127.0.0.1:9/",
    ],
)
async def test_development_mode_answers_only_at_loopback_and_stores_nothing_else(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], service_url: str
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, DEVELOPMENT) as (client, _):
        response = await client.post("/api/messages", json=_install(service_url))
        body = await response.json()
    assert response.status == 403
    assert body["error"]["code"] == "ServiceUrlNotAllowed"
    assert await count_rows(sessions) == before


async def test_a_reference_saved_in_development_mode_is_marked_unauthenticated(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, DEVELOPMENT) as (client, _):
        response = await client.post("/api/messages", json=_install("http://localhost:9/teams/"))
        assert response.status == 200
    [ref] = await _references(sessions)
    assert (ref.service_url, ref.authenticated) == ("http://localhost:9/teams/", False)


def test_create_app_itself_refuses_development_mode_beyond_loopback() -> None:
    """Not only `waypoint serve`: whoever builds the app gets the startup check."""
    settings = Settings(_env_file=None, WAYPOINT_HOST="0.0.0.0")
    engine = create_engine("sqlite:///:memory:")
    waypoint = build_waypoint(settings, engine=engine)
    try:
        with pytest.raises(StartupRefused, match="without Bot Framework credentials"):
            create_app(waypoint)
    finally:
        waypoint.worker.stop()
        asyncio.run(engine.dispose())


# -- channels ------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["webchat", "directline", "emulator", "MSTEAMS"])
async def test_only_teams_is_served(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], channel: str
) -> None:
    """Web Chat and Direct Line let their client write channelData (the tenant) itself."""
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, DEVELOPMENT) as (client, _):
        response = await client.post(
            "/api/messages", json=_install(message("")["serviceUrl"], channelId=channel)
        )
        body = await response.json()
    assert response.status == 403
    assert body["error"]["code"] == "ChannelNotServed"
    assert await count_rows(sessions) == before


async def test_the_served_channels_are_a_setting(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    settings = Settings(_env_file=None, WAYPOINT_ALLOWED_CHANNELS="msteams, webchat")
    async with serve_waypoint(engine, settings) as (client, _):
        chat = message("help", user=HEAD, expect_replies=True)
        chat["channelId"] = "webchat"
        response = await client.post("/api/messages", json=chat)
        assert response.status == 200
        assert cards_in((await response.json())["activities"])


# -- where Waypoint sends ------------------------------------------------------------


def test_the_service_url_allow_list() -> None:
    with_credentials = ChannelPolicy(CREDENTIALS)
    allowed = [
        "https://smba.trafficmanager.net/emea/",
        "https://SMBA.trafficmanager.net/amer/",
        "https://smba.infra.gcc.teams.microsoft.com/teams",
        "https://smba.infra.gov.teams.microsoft.us/teams",
        "https://smba.infra.dod.teams.microsoft.us/teams",
        "https://europe.webchat.botframework.com/",
        "https://smba.trafficmanager.net:443/emea/",
    ]
    refused = [
        "http://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net.evil.example/",
        "https://evil.example/smba.trafficmanager.net/",
        "https://user:pw@smba.trafficmanager.net/emea/",
        "https://botframework.com.evil.example/",
        "https://evilbotframework.com/",
        "https://127.0.0.1:3978/",
        "https://smba.trafficmanager.net:notaport/",
        "ftp://smba.trafficmanager.net/",
    ]
    assert [u for u in allowed if not with_credentials.allows_service_url(u)] == []
    assert [u for u in refused if with_credentials.allows_service_url(u)] == []
    development = ChannelPolicy(DEVELOPMENT)
    assert development.allows_service_url("http://127.0.0.1:56150/")
    assert development.allows_service_url("http://[::1]:3978/")
    assert development.allows_service_url("http://localhost:3978/")
    assert not development.allows_service_url("https://smba.trafficmanager.net/emea/")
    configured = ChannelPolicy(
        Settings(
            _env_file=None,
            MicrosoftAppId="x",
            MicrosoftAppPassword="y",
            WAYPOINT_SERVICE_URL_HOSTS="teams.internal.example, *.bots.example",
        )
    )
    assert configured.allows_service_url("https://teams.internal.example/")
    assert configured.allows_service_url("https://eu.bots.example/")
    assert not configured.allows_service_url("https://bots.example/")
    assert not configured.allows_service_url("https://smba.trafficmanager.net/emea/")


class _NoTokens(TokenProvider):
    """Fails the test if a token is asked for."""

    async def token(self, audience: str | None) -> str | None:
        raise AssertionError(f"a token was fetched for a send to a refused URL ({audience})")


async def test_every_send_and_update_obeys_the_allow_list() -> None:
    worker = BlockingWorker("test-tokens")
    try:
        for settings, url in (
            (CREDENTIALS, "https://evil.example/"),
            (CREDENTIALS, "http://smba.trafficmanager.net/emea/"),
            (DEVELOPMENT, "https://smba.trafficmanager.net/emea/"),
            (DEVELOPMENT, "http://169.254.169.254/"),
        ):
            connector = Connector(_NoTokens(settings, worker))
            with pytest.raises(ServiceUrlRefused):
                await connector.send(
                    service_url=url, conversation_id="a:1", activity={"type": "message"}
                )
            with pytest.raises(ServiceUrlRefused):
                await connector.update(
                    service_url=url,
                    conversation_id="a:1",
                    activity_id="1",
                    activity={"type": "message"},
                )
            await connector.close()
        # The same connector does post to a loopback service URL in development mode.
        async with loopback_connector() as teams:
            connector = Connector(TokenProvider(DEVELOPMENT, worker))
            try:
                await connector.send(
                    service_url=teams.url, conversation_id="a:1", activity={"type": "message"}
                )
            finally:
                await connector.close()
        assert len(teams.posted) == 1
    finally:
        worker.stop()


async def test_the_outbox_sends_no_token_to_a_reference_saved_unauthenticated(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that once ran in development mode, now serving with credentials: the
    reference saved then names a service URL nobody vouched for."""
    seeded = await seed_trust(sessions)
    now = datetime.now(UTC)
    teacher, head = seeded.person_ids[TEACHER], seeded.person_ids[HEAD]
    async with sessions.begin() as session:
        for person, authenticated in ((teacher, False), (head, True)):
            await save_reference(
                session,
                trust_id=seeded.trust_id,
                person_id=person,
                conversation_id=f"a:{person}",
                conversation_type="personal",
                channel_id="msteams",
                service_url="https://smba.trafficmanager.net/emea/",
                bot_id="28:waypoint",
                reference={},
                authenticated=authenticated,
            )
            await enqueue(
                session,
                trust_id=seeded.trust_id,
                kind="notice",
                period="p1",
                recipient_id=person,
                payload={"text": "hello"},
                now=now,
            )
    worker = BlockingWorker("test-tokens")
    connector = Connector(TokenProvider(CREDENTIALS, worker))
    sent_to: list[str] = []

    async def send(*, conversation_id: str, **_: Any) -> str:
        # Stands in for the network: a real send would carry the bot's token.
        sent_to.append(conversation_id)
        return "sent-1"

    monkeypatch.setattr(connector, "send", send)
    try:
        await OutboxSender(sessions, connector).run_once()
    finally:
        await connector.close()
        worker.stop()
    assert sent_to == [f"a:{head}"]
    async with sessions() as session:
        outcomes = {
            d.recipient_id: (d.status, d.last_error)
            for d in (await session.scalars(select(Delivery))).all()
        }
        refs = {r.person_id: r.gone_at for r in (await session.scalars(select(ConversationRef)))}
    assert outcomes == {teacher: (GONE, "saved unauthenticated"), head: (SENT, None)}
    assert refs[teacher] is not None and refs[head] is None


# -- migration 0007 ------------------------------------------------------------------


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_migration_0007_keeps_https_references_reachable_and_marks_http_ones(
    store: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    """Teams only ever sends https service URLs; development mode answers loopback
    http ones. Existing rows are judged by that, so a production store keeps
    delivering after the upgrade."""
    schema: str | None = None
    if store == "sqlite":
        url = f"sqlite:///{tmp_path / 'upgrade.db'}"
    else:
        request.getfixturevalue("postgres_schema")  # skips without a PostgreSQL
        url, schema = POSTGRES_URL, f"wp_mig_{uuid.uuid4().hex[:10]}"
        asyncio.run(_execute(url, None, f'create schema "{schema}"'))
    try:
        upgrade_sync(url, schema=schema, revision="0006")
        asyncio.run(_execute(url, schema, *_rows_before_0007()))
        upgrade_sync(url, schema=schema, revision="0007")
        got = asyncio.run(
            _fetch(url, schema, "select conversation_id, authenticated from conversation_ref")
        )
    finally:
        if schema is not None:
            asyncio.run(_execute(url, None, f'drop schema "{schema}" cascade'))
    assert dict(got) == {"a:teams": True, "a:upper": True, "a:dev": False}


def _rows_before_0007() -> list[str]:
    rows = [
        ("a:teams", "https://smba.trafficmanager.net/emea/"),
        ("a:upper", "HTTPS://smba.trafficmanager.net/emea/"),
        ("a:dev", "http://127.0.0.1:56150/"),
    ]
    return [
        "insert into trust (id, tenant_id, name, created_at, coaching_interval_days,"
        " coaching_target_percent, qa_window_weeks_before, qa_window_weeks_after,"
        " qa_reminder_days, attendance_retention_years)"
        " values (1, 't', 'T', '2026-01-01', 14, 80, 2, 2, 7, 7)",
        *(
            "insert into conversation_ref (trust_id, conversation_id, conversation_type,"
            " channel_id, service_url, bot_id, reference, installed_at, updated_at)"
            f" values (1, '{cid}', 'personal', 'msteams', '{url}', 'b', '{{}}',"
            " '2026-01-01', '2026-01-01')"
            for cid, url in rows
        ),
    ]


async def _execute(url: str, schema: str | None, *statements: str) -> None:
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _fetch(url: str, schema: str | None, query: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(query))]
    finally:
        await engine.dispose()
