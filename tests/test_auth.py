"""Channel tokens at the edge: locally signed JWTs checked against a key server of our own.

The key server runs in its own thread: botbuilder fetches OpenID metadata with
blocking `requests`, which would deadlock against a server on the test's loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main as waypoint_cli
from bot.settings import Settings, StartupRefused
from storage.models import ConversationRef
from tests.support import TEACHER, cards_in, count_rows, message, seed_trust, serve_waypoint

APP_ID = "3f2a7c1e-5b6d-4e8f-9a0b-1c2d3e4f5a6b"
ISSUER = "https://api.botframework.test"
# A Teams host on the default allow-list; replies come back in the HTTP body
# (expectReplies), so nothing is ever posted there.
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
# The Bot Framework's own tenant, as the Emulator's and the bot's outbound tokens name it.
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"


@dataclass
class KeyServer:
    url: str
    key: rsa.RSAPrivateKey
    kid: str = "waypoint-test-key"
    # Set to hold the metadata answer back until the test releases it.
    gate: threading.Event = field(default_factory=threading.Event)
    # Set when a request has reached the key server (and waits at the gate).
    asked: threading.Event = field(default_factory=threading.Event)


def _make_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    key = _make_key()
    server_ref: dict[str, KeyServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys = server_ref["server"]
            keys.asked.set()
            keys.gate.wait(timeout=30)
            path = urlsplit(self.path).path
            if path == "/openid":
                body: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": f"{keys.url}/keys"}
            elif path == "/keys":
                jwk = json.loads(RSAAlgorithm.to_jwk(keys.key.public_key()))
                jwk.update(kid=keys.kid, use="sig", endorsements=["msteams"])
                body = {"keys": [jwk]}
            else:
                self.send_error(404)
                return
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = KeyServer(url=f"http://127.0.0.1:{httpd.server_address[1]}", key=key)
    server.gate.set()
    server_ref["server"] = server
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()


def _settings(keys: KeyServer) -> Settings:
    return Settings(
        _env_file=None,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="not-a-real-secret",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=f"{keys.url}/openid",
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=ISSUER,
    )


def token(
    keys: KeyServer,
    *,
    audience: str = APP_ID,
    issuer: str = ISSUER,
    expires_in: int = 3600,
    signing_key: rsa.RSAPrivateKey | None = None,
    service_url: str | None = SERVICE_URL,
    **more: str,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + expires_in,
        **more,
    }
    if service_url is not None:
        claims["serviceurl"] = service_url
    return jwt.encode(claims, signing_key or keys.key, algorithm="RS256", headers={"kid": keys.kid})


def _bad_tokens(keys: KeyServer) -> dict[str, str | None]:
    return {
        "missing": None,
        "garbage": "Bearer this-is-not-a-jwt",
        "wrong scheme": f"Basic {token(keys)}",
        # Past the SDK's five minutes of clock tolerance.
        "expired": f"Bearer {token(keys, expires_in=-600)}",
        "wrong audience": f"Bearer {token(keys, audience='some-other-bot')}",
        "wrongly signed": f"Bearer {token(keys, signing_key=_make_key())}",
        "wrong issuer": f"Bearer {token(keys, issuer='https://evil.example')}",
        "other service url": f"Bearer {token(keys, service_url='https://evil.example/')}",
    }


async def test_bad_tokens_get_401_and_change_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], key_server: KeyServer
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, _settings(key_server)) as (client, _):
        for name, header in _bad_tokens(key_server).items():
            headers = {"Authorization": header} if header else {}
            response = await client.post(
                "/api/messages",
                json=message("help", expect_replies=True, service_url=SERVICE_URL),
                headers=headers,
            )
            body = await response.json()
            assert response.status == 401, name
            assert body["error"]["code"] == "Unauthorized", name
    assert await count_rows(sessions) == before


async def test_a_refused_tokens_claims_cannot_forge_a_log_line(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    key_server: KeyServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The SDK's refusal quotes the token's audience, which its sender chose."""
    import logging

    caplog.set_level(logging.INFO, logger="waypoint")
    await seed_trust(sessions)
    forged = token(key_server, audience="other-bot\nWARNING waypoint.turns forged\r\x1b[2J")
    async with serve_waypoint(engine, _settings(key_server)) as (client, _):
        response = await client.post(
            "/api/messages",
            json=message("help", expect_replies=True, service_url=SERVICE_URL),
            headers={"Authorization": f"Bearer {forged}"},
        )
        assert response.status == 401
    refusals = [r.getMessage() for r in caplog.records if r.name == "waypoint.edge"]
    assert any("other-bot" in line for line in refusals), refusals
    assert not any(c in line for line in refusals for c in "\n\r\x1b"), refusals


async def test_a_good_token_is_answered(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], key_server: KeyServer
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, _settings(key_server)) as (client, _):
        response = await client.post(
            "/api/messages",
            json=message("help", expect_replies=True, service_url=SERVICE_URL),
            headers={"Authorization": f"Bearer {token(key_server)}"},
        )
        assert response.status == 200
        body = await response.json()
    assert cards_in(body["activities"])


async def test_a_slow_key_server_does_not_stall_other_requests(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], key_server: KeyServer
) -> None:
    """botbuilder fetches keys with blocking `requests`; on the serving loop that
    would freeze every conversation until the key server answered.

    The probe runs on a thread of its own over a real socket: a stalled serving
    loop (which is also this test's loop) cannot hold it back, only fail to answer it.
    """
    await seed_trust(sessions)
    settings = _settings(key_server)
    # A metadata URL no earlier test used, so the SDK's cache must fetch it.
    settings.openid_metadata_url = f"{key_server.url}/openid?fresh={time.time()}"
    async with serve_waypoint(engine, settings) as (client, _):
        healthz = str(client.make_url("/healthz"))
        probed: dict[str, Any] = {}

        def probe_while_the_key_server_holds_back() -> None:
            try:
                # The token check has reached the key server and waits at its gate.
                probed["asked"] = key_server.asked.wait(timeout=10)
                started = time.monotonic()
                with urllib.request.urlopen(healthz, timeout=3) as answer:
                    probed["status"] = answer.status
                probed["seconds"] = time.monotonic() - started
                # Still held back while /healthz was answered.
                probed["still_waiting"] = not key_server.gate.is_set()
            except OSError as error:
                probed["error"] = repr(error)
            finally:
                key_server.gate.set()

        key_server.asked.clear()
        key_server.gate.clear()
        prober = threading.Thread(target=probe_while_the_key_server_holds_back)
        prober.start()
        try:
            response = await client.post(
                "/api/messages",
                json=message("help", expect_replies=True, service_url=SERVICE_URL),
                headers={"Authorization": f"Bearer {token(key_server)}"},
            )
        finally:
            key_server.gate.set()
            await asyncio.to_thread(prober.join, 15)
        assert response.status == 200
    assert probed.get("asked") is True, probed
    assert probed.get("status") == 200, probed
    assert probed["still_waiting"] is True
    # The wall-clock bound: answered while the key server was still silent.
    assert probed["seconds"] < 3


async def test_an_emulator_token_with_the_bots_own_app_id_is_refused(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    key_server: KeyServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SDK's Emulator path takes any Entra token whose `appid` is the bot's own,
    without audience or serviceurl checks: the bot's own outbound token is one."""
    await seed_trust(sessions)
    settings = _settings(key_server)
    sdk_configuration = Settings.sdk_configuration

    def with_emulator_keys(self: Settings) -> Any:
        # The Emulator's keys are served by our key server, so the SDK would accept
        # the token below if Waypoint let it through.
        config = sdk_configuration(self)
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = f"{key_server.url}/openid"
        return config

    monkeypatch.setattr(Settings, "sdk_configuration", with_emulator_keys)
    outbound = token(
        key_server,
        issuer=EMULATOR_ISSUER,
        audience="https://api.botframework.com",
        service_url=None,
        appid=APP_ID,
        ver="1.0",
    )
    before = await count_rows(sessions)
    async with serve_waypoint(engine, settings) as (client, _):
        install = message("", user=TEACHER, expect_replies=True, service_url=SERVICE_URL)
        install.update(type="installationUpdate", action="add")
        response = await client.post(
            "/api/messages", json=install, headers={"Authorization": f"Bearer {outbound}"}
        )
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "Unauthorized"
    assert await count_rows(sessions) == before


async def test_a_good_token_for_a_service_url_off_the_allow_list_is_refused(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], key_server: KeyServer
) -> None:
    """The token vouches that the channel sent the activity; the allow-list is what
    keeps Waypoint's own token from going anywhere but Teams."""
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, _settings(key_server)) as (client, _):
        for url in ("https://teams.evil.example/emea/", "http://smba.trafficmanager.net/emea/"):
            install = message("", user=TEACHER, expect_replies=True, service_url=url)
            install.update(type="installationUpdate", action="add")
            response = await client.post(
                "/api/messages",
                json=install,
                headers={"Authorization": f"Bearer {token(key_server, service_url=url)}"},
            )
            assert response.status == 403, url
            assert (await response.json())["error"]["code"] == "ServiceUrlNotAllowed", url
    assert await count_rows(sessions) == before


async def test_an_install_with_a_good_token_saves_an_authenticated_reference(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], key_server: KeyServer
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, _settings(key_server)) as (client, _):
        install = message("", user=TEACHER, expect_replies=True, service_url=SERVICE_URL)
        install.update(type="installationUpdate", action="add")
        response = await client.post(
            "/api/messages", json=install, headers={"Authorization": f"Bearer {token(key_server)}"}
        )
        assert response.status == 200
    async with sessions() as session:
        [ref] = (await session.scalars(select(ConversationRef))).all()
    assert (ref.service_url, ref.authenticated) == (SERVICE_URL, True)


async def test_an_unauthenticated_request_gets_no_activity_checks(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    key_server: KeyServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Anyone can send a big body: without a good token it costs a read and a parse,
    never pydantic's checks or msrest's deserialiser."""
    from botbuilder.schema import Activity

    from bot.inbound import InboundActivity

    work: Counter[str] = Counter()
    validate = InboundActivity.model_validate.__func__  # type: ignore[attr-defined]
    deserialize = Activity.deserialize.__func__

    def counted_validate(cls: Any, *args: Any, **kwargs: Any) -> Any:
        work["pydantic"] += 1
        return validate(cls, *args, **kwargs)

    def counted_deserialize(cls: Any, *args: Any, **kwargs: Any) -> Any:
        work["msrest"] += 1
        return deserialize(cls, *args, **kwargs)

    monkeypatch.setattr(InboundActivity, "model_validate", classmethod(counted_validate))
    monkeypatch.setattr(Activity, "deserialize", classmethod(counted_deserialize))
    await seed_trust(sessions)
    big = message("help", expect_replies=True, service_url=SERVICE_URL)
    # Within every bound the activity's checks apply, so only the token stops it.
    big["channelData"]["notes"] = [{"text": "x" * 200} for _ in range(1000)]
    assert 200_000 < len(json.dumps(big)) < 256 * 1024
    async with serve_waypoint(engine, _settings(key_server)) as (client, _):
        for name, header in _bad_tokens(key_server).items():
            headers = {"Authorization": header} if header else {}
            response = await client.post("/api/messages", json=big, headers=headers)
            assert response.status == 401, name
        assert work == Counter(), work
        good = await client.post(
            "/api/messages",
            json=message("help", expect_replies=True, service_url=SERVICE_URL),
            headers={"Authorization": f"Bearer {token(key_server)}"},
        )
        assert good.status == 200
    # The same counters do see the checks of an authenticated request.
    assert work["pydantic"] >= 1 and work["msrest"] >= 1


def test_without_credentials_waypoint_refuses_to_listen_beyond_loopback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    with pytest.raises(StartupRefused, match="without Bot Framework credentials"):
        Settings(_env_file=None, WAYPOINT_HOST="0.0.0.0").check_startup()
    Settings(_env_file=None, WAYPOINT_HOST="127.0.0.1").check_startup()
    Settings(_env_file=None, WAYPOINT_HOST="::1").check_startup()

    assert waypoint_cli(["serve", "--host", "0.0.0.0"]) == 2
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err


def test_half_configured_credentials_are_refused() -> None:
    with pytest.raises(StartupRefused, match="MicrosoftAppPassword is empty"):
        Settings(_env_file=None, MicrosoftAppId=APP_ID, WAYPOINT_HOST="0.0.0.0").check_startup()
    with pytest.raises(StartupRefused, match="needs MicrosoftAppTenantId"):
        Settings(
            _env_file=None,
            MicrosoftAppId=APP_ID,
            MicrosoftAppPassword="x",
            MicrosoftAppType="SingleTenant",
        ).check_startup()
