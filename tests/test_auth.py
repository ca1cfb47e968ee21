"""Channel tokens at the edge: locally signed JWTs checked against a key server of our own.

The key server runs in its own thread: botbuilder fetches OpenID metadata with
blocking `requests`, which would deadlock against a server on the test's loop.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main as waypoint_cli
from bot.settings import Settings, StartupRefused
from tests.support import cards_in, count_rows, message, seed_trust, serve_waypoint

APP_ID = "3f2a7c1e-5b6d-4e8f-9a0b-1c2d3e4f5a6b"
ISSUER = "https://api.botframework.test"
SERVICE_URL = "https://smba.example.invalid/emea/"


@dataclass
class KeyServer:
    url: str
    key: rsa.RSAPrivateKey
    kid: str = "waypoint-test-key"
    # Set to hold the metadata answer back until the test releases it.
    gate: threading.Event = field(default_factory=threading.Event)


def _make_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    key = _make_key()
    server_ref: dict[str, KeyServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys = server_ref["server"]
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
    service_url: str = SERVICE_URL,
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + expires_in,
        "serviceurl": service_url,
    }
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
    would freeze every conversation until the key server answered."""
    import asyncio

    await seed_trust(sessions)
    settings = _settings(key_server)
    # A metadata URL no earlier test used, so the SDK's cache must fetch it.
    settings.openid_metadata_url = f"{key_server.url}/openid?fresh={time.time()}"
    async with serve_waypoint(engine, settings) as (client, _):
        key_server.gate.clear()
        try:
            pending = asyncio.ensure_future(
                client.post(
                    "/api/messages",
                    json=message("help", expect_replies=True, service_url=SERVICE_URL),
                    headers={"Authorization": f"Bearer {token(key_server)}"},
                )
            )
            await asyncio.sleep(0.2)
            assert not pending.done()
            async with asyncio.timeout(5):
                health = await client.get("/healthz")
            assert health.status == 200
            assert not pending.done()
        finally:
            key_server.gate.set()
        response = await pending
        assert response.status == 200


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
