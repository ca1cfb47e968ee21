"""The dashboard tab's single sign-on: a Teams SSO token for a signed dashboard link.

Tokens are signed here with an RSA key made by the test, whose public half a key
server of the test's own publishes (WAYPOINT_SSO_JWKS_URL), as Entra ID publishes
its keys.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dashboard import sso_keys
from bot.dashboard.links import verify_dashboard_link
from bot.dashboard.tab import TEAMS_JS
from bot.dashboard.web import CONTENT_SECURITY_POLICY
from bot.settings import Settings
from storage.engine import Sessions, create_engine
from tests.official import need
from tests.support import HEAD, STRANGER, TENANT, TRUST_LEAD, Client, seed_trust, serve_waypoint

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
APP_ID_URI = f"api://waypoint.example.org/{APP_ID}"
SECRET = "a-dashboard-secret-of-at-least-32-characters"
OTHER_TENANT = "bbbbbbbb-0000-4000-8000-0000000000bb"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@dataclass
class KeyServer:
    """Entra ID's key endpoint, played by the test: what it publishes, and how often
    and from which thread it was asked."""

    keys: list[dict[str, Any]]
    url: str = ""
    fetches: int = 0
    fetch_threads: list[int] = field(default_factory=list)
    # 200: the keys; anything else: that status and no keys (Entra ID in trouble).
    status: int = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.status != 200:
            return web.Response(status=self.status, text="unavailable")
        return web.json_response({"keys": self.keys})


@pytest.fixture
async def key_server(signing_key: rsa.RSAPrivateKey) -> AsyncIterator[KeyServer]:
    server = KeyServer(keys=[public_jwk(signing_key, "key-1")])
    app = web.Application()
    app.router.add_get("/common/discovery/v2.0/keys", server.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    server.url = str(test_server.make_url("/common/discovery/v2.0/keys"))
    try:
        yield server
    finally:
        await test_server.close()


@pytest.fixture
def fetch_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The threads the key set was read on."""
    threads: list[int] = []
    original = jwt.PyJWKClient.fetch_data

    def fetch_data(self: jwt.PyJWKClient) -> Any:
        threads.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)
    return threads


def sso_settings(jwks_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "app_id": APP_ID,
        "app_password": "bot-password",
        "dashboard_secret": SECRET,
        "public_url": "https://waypoint.example.org",
        "sso_jwks_url": jwks_url,
        "digest_scheduler": False,
        **extra,
    }
    return Settings(_env_file=None, **values)


def sso_token(
    key: rsa.RSAPrivateKey, *, kid: str = "key-1", algorithm: str = "RS256", **claims: Any
) -> str:
    """A token as Entra ID issues one to Teams for Waypoint (v2.0); a claim given as
    None is left out."""
    now = int(time.time())
    body: dict[str, Any] = {
        "aud": APP_ID,
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "tid": TENANT,
        "oid": HEAD,
        "iat": now - 30,
        "nbf": now - 30,
        "exp": now + 3600,
        "ver": "2.0",
        "scp": "access_as_user",
        "name": "Hana Head",
    }
    body.update(claims)
    body = {name: value for name, value in body.items() if value is not None}
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})


async def exchange(
    client: Client, token: str | None, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = await client.post("/dashboard/sso", json=body or {}, headers=headers)
    answer: dict[str, Any] = await response.json()
    return response.status, answer


def link_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["link"][0]


async def test_a_good_token_gets_the_persons_signed_dashboard_link(
    engine: AsyncEngine, sessions: Sessions, key_server: KeyServer, signing_key: rsa.RSAPrivateKey
) -> None:
    seeded = await seed_trust(sessions)
    async with serve_waypoint(engine, sso_settings(key_server.url)) as (client, _):
        status, answer = await exchange(client, sso_token(signing_key))
        assert status == 200, answer
        assert answer["url"].startswith("https://waypoint.example.org/dashboard?")
        claims = verify_dashboard_link(
            SECRET.encode(), link_of(answer["url"]), now=datetime.now(UTC)
        )
        assert (claims.person_id, claims.trust_id) == (seeded.person_ids[HEAD], seeded.trust_id)
        # The URL opens the head's dashboard, as the chat's button does.
        address = urlsplit(answer["url"])
        page = await client.get(f"{address.path}?{address.query}")
        assert page.status == 200
        assert "Oakfield Primary" in await page.text()

        # A v1 token (the app registration's default): the api:// URI, sts.windows.net.
        v1 = sso_token(
            signing_key,
            oid=TRUST_LEAD,
            aud=APP_ID_URI,
            iss=f"https://sts.windows.net/{TENANT}/",
            ver="1.0",
        )
        status, answer = await exchange(client, v1)
        assert status == 200, answer
        claims = verify_dashboard_link(
            SECRET.encode(), link_of(answer["url"]), now=datetime.now(UTC)
        )
        assert claims.person_id == seeded.person_ids[TRUST_LEAD]

        # A team tab configured for one school opens that school's view.
        school = seeded.school_ids["100001"]
        status, answer = await exchange(client, sso_token(signing_key), {"school": school})
        assert status == 200
        assert parse_qs(urlsplit(answer["url"]).query)["school"] == [str(school)]


async def test_tokens_waypoint_must_not_accept_are_401(
    engine: AsyncEngine,
    sessions: Sessions,
    key_server: KeyServer,
    signing_key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
) -> None:
    await seed_trust(sessions)
    now = int(time.time())
    bad: dict[str, str | None] = {
        "expired": sso_token(signing_key, iat=now - 7200, nbf=now - 7200, exp=now - 600),
        "not yet valid": sso_token(signing_key, nbf=now + 600),
        "wrong audience": sso_token(signing_key, aud="00000003-0000-0000-c000-000000000000"),
        "another app's URI": sso_token(signing_key, aud="api://evil.example/" + APP_ID),
        "wrong issuer": sso_token(signing_key, iss="https://issuer.example/"),
        "issuer of another tenant": sso_token(
            signing_key, iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"
        ),
        "signed by another key": sso_token(other_key),
        "a key id Entra does not publish": sso_token(other_key, kid="key-2"),
        "no object id": sso_token(signing_key, oid=None),
        "no expiry": sso_token(signing_key, exp=None),
        "app-only (no scp)": sso_token(signing_key, scp=None, roles=["Dashboard.Read"]),
        "another scope": sso_token(signing_key, scp="User.Read"),
        "HS256 with a shared secret": jwt.encode(
            {"aud": APP_ID, "tid": TENANT, "oid": HEAD}, "x" * 32, headers={"kid": "key-1"}
        ),
        "garbage": "this-is-not-a-jwt",
        "empty bearer": "",
        "missing header": None,
    }
    async with serve_waypoint(engine, sso_settings(key_server.url)) as (client, _):
        for case, token in bad.items():
            status, answer = await exchange(client, token)
            assert status == 401, case
            assert "url" not in answer, case
            assert answer["message"].startswith("Waypoint"), case


async def test_a_valid_token_for_someone_waypoint_does_not_know_is_a_clear_403(
    engine: AsyncEngine, sessions: Sessions, key_server: KeyServer, signing_key: rsa.RSAPrivateKey
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, sso_settings(key_server.url)) as (client, _):
        status, answer = await exchange(client, sso_token(signing_key, oid=STRANGER))
        assert status == 403
        assert "url" not in answer
        assert "Waypoint doesn't know you yet at Test Trust" in answer["message"]
        assert "added to Waypoint" in answer["message"]

        other = sso_token(
            signing_key,
            tid=OTHER_TENANT,
            iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0",
        )
        status, answer = await exchange(client, other)
        assert status == 403
        assert "isn't set up for your organisation" in answer["message"]


async def test_the_keys_are_read_once_off_the_event_loop_and_again_for_a_new_key(
    engine: AsyncEngine,
    sessions: Sessions,
    key_server: KeyServer,
    signing_key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
    fetch_threads: list[int],
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, sso_settings(key_server.url)) as (client, _):
        for _ in range(4):
            status, _answer = await exchange(client, sso_token(signing_key))
            assert status == 200
        assert key_server.fetches == 1
        assert fetch_threads and threading.get_ident() not in fetch_threads

        # Entra rotates its keys: a token signed with a new key reads the set again.
        key_server.keys.append(public_jwk(other_key, "key-2"))
        status, _answer = await exchange(client, sso_token(other_key, kid="key-2"))
        assert status == 200
        assert key_server.fetches == 2
        # Made-up key ids do not send Waypoint back to Entra on every request.
        for kid in ("made-up-1", "made-up-2", "made-up-3"):
            status, _answer = await exchange(client, sso_token(other_key, kid=kid))
            assert status == 401
        assert key_server.fetches == 2


async def test_when_entras_keys_cannot_be_read_the_tab_says_try_again_later(
    engine: AsyncEngine, sessions: Sessions, signing_key: rsa.RSAPrivateKey
) -> None:
    await seed_trust(sessions)
    # A key server that has gone: nothing listens at its address any more.
    gone = TestServer(web.Application(), host="127.0.0.1")
    await gone.start_server()
    url = str(gone.make_url("/keys"))
    await gone.close()
    async with serve_waypoint(engine, sso_settings(url)) as (client, _):
        status, answer = await exchange(client, sso_token(signing_key))
        assert status == 503
        assert answer["message"] == (
            "Waypoint cannot check Teams sign-ins just now. Try again in a few minutes."
        )


async def test_after_a_failed_key_read_requests_answer_503_without_asking_again(
    engine: AsyncEngine, sessions: Sessions, key_server: KeyServer, signing_key: rsa.RSAPrivateKey
) -> None:
    """Entra ID answering 500 is asked once, not once per request nor once per request
    that waited for the failed read."""
    await seed_trust(sessions)
    key_server.status = 500
    async with serve_waypoint(engine, sso_settings(key_server.url)) as (client, _):
        token = sso_token(signing_key)
        answers = await asyncio.gather(*(exchange(client, token) for _ in range(3)))
        assert [status for status, _answer in answers] == [503, 503, 503]
        for _ in range(3):
            assert (await exchange(client, token))[0] == 503
        assert key_server.fetches == 1


async def test_the_keys_are_read_again_once_the_failure_cooldown_has_passed(
    key_server: KeyServer,
) -> None:
    clock = [1000.0]
    keys = sso_keys.SigningKeys(key_server.url, failure_cooldown=30.0, clock=lambda: clock[0])
    key_server.status = 500
    for _ in range(2):
        with pytest.raises(sso_keys.KeysUnavailable):
            await keys.key_for("key-1")
    assert key_server.fetches == 1
    key_server.status = 200
    clock[0] += 29.0
    with pytest.raises(sso_keys.KeysUnavailable):
        await keys.key_for("key-1")
    assert key_server.fetches == 1
    clock[0] += 1.0
    assert (await keys.key_for("key-1")).key_id == "key-1"
    assert key_server.fetches == 2


async def test_without_a_dashboard_secret_in_production_no_link_is_handed_out(
    engine: AsyncEngine, sessions: Sessions, key_server: KeyServer, signing_key: rsa.RSAPrivateKey
) -> None:
    await seed_trust(sessions)
    settings = sso_settings(key_server.url, dashboard_secret="")
    async with serve_waypoint(engine, settings) as (client, _):
        status, answer = await exchange(client, sso_token(signing_key))
        assert status == 503
        assert "url" not in answer
        assert "not switched on" in answer["message"]


async def test_the_configuration_page_lists_the_schools_the_person_reaches(
    engine: AsyncEngine, sessions: Sessions, key_server: KeyServer, signing_key: rsa.RSAPrivateKey
) -> None:
    await seed_trust(sessions)
    async with serve_waypoint(engine, sso_settings(key_server.url)) as (client, _):

        async def schools(oid: str) -> list[str]:
            response = await client.get(
                "/dashboard/sso/schools",
                headers={"Authorization": f"Bearer {sso_token(signing_key, oid=oid)}"},
            )
            assert response.status == 200
            return [school["name"] for school in (await response.json())["schools"]]

        assert await schools(HEAD) == ["Oakfield Primary"]
        assert await schools(TRUST_LEAD) == ["Oakfield Primary", "St Mary's C of E"]
        response = await client.get("/dashboard/sso/schools")
        assert response.status == 401


# -- the pages Teams frames ------------------------------------------------------

_SCRIPT = re.compile(r"<script([^>]*)>(.*?)</script>", re.S)


@pytest.fixture
async def page_engine(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[AsyncEngine]:
    # The pages read no store: one store (an empty SQLite) will do.
    path = tmp_path / "pages.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.mark.parametrize("page", ["/dashboard/tab", "/dashboard/configure"])
async def test_the_tab_pages_load_only_waypoints_own_scripts_and_only_teams_may_frame_them(
    page_engine: AsyncEngine, page: str
) -> None:
    async with serve_waypoint(page_engine, Settings(_env_file=None)) as (client, _):
        response = await client.get(page)
        assert response.status == 200
        assert response.content_type == "text/html"
        policy = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["default-src"] == "'none'"
        # Beyond Waypoint, only the list of Teams origins teams-js reads (data).
        assert directives["connect-src"] == (
            "'self' https://res.cdn.office.net/teams-js/validDomains/json/validDomains.json"
        )
        # Teams' hosts (Microsoft's list for tabs), and the same as the dashboard page's.
        ancestors = directives["frame-ancestors"].split()
        assert ancestors == [
            "'self'",
            "https://teams.microsoft.com",
            "https://*.teams.microsoft.com",
            "https://*.microsoft365.com",
            "https://*.office.com",
            "https://*.cloud.microsoft",
        ]
        dashboard_policy = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
        assert ancestors == dashboard_policy["frame-ancestors"].split()
        html = await response.text()
        scripts = _SCRIPT.findall(html)
        assert scripts, "the page loads teams-js and its own script"
        sources = []
        for attributes, body in scripts:
            assert body.strip() == "", "no inline script"
            (source,) = re.findall(r'src="([^"]+)"', attributes)
            sources.append(source)
        assert sources[0] == "/dashboard/teams/teams-js.min.js"
        assert all(source.startswith("/dashboard/teams/") for source in sources)
        assert "type <strong>dashboard</strong> in the chat with Waypoint" in html or (
            page == "/dashboard/configure"
        )
        need(None if TEAMS_JS.is_file() else "teams-js is not installed: run make install")
        for source in sources:
            script = await client.get(source)
            assert script.status == 200, source
            assert script.content_type == "application/javascript"
            assert "frame-ancestors" in script.headers["Content-Security-Policy"]
        teams_js = await (await client.get(sources[0])).text()
        assert "getAuthToken" in teams_js


async def test_only_the_pages_own_files_are_served(page_engine: AsyncEngine) -> None:
    async with serve_waypoint(page_engine, Settings(_env_file=None)) as (client, _):
        for path in (
            "/dashboard/teams/package.json",
            "/dashboard/teams/node_modules",
            "/dashboard/teams/..%2Fsso.py",
        ):
            assert (await client.get(path)).status == 404, path
