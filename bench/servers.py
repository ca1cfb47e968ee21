"""The benchmark's own servers, each run as a process of its own.

- `connector`: a loopback Bot Connector. It answers every activity posted into a
  conversation with {"id": ...} and counts them (GET /stats), so a benchmark can
  tell that each turn's reply really arrived.
- `relay` (baseline a): the floor of the HTTP work. It reads the activity and
  posts a fixed reply to the activity's serviceUrl with one pooled aiohttp client
  (or, for expectReplies, returns it in the body).
- `fake-teams`: tests/fake_teams.py's FakeTeams, which enforces a tenant rate and
  Teams' per-conversation limits, in a process of its own (as Teams is), with what
  it received on GET /stats.
- `recorder`: the connector the cluster test points every replica at. It answers
  as `connector` does and records every activity: replies by the activity they
  answer, proactive messages (the outbox's) by conversation and a hash of their card
  or text, so a test can tell a message delivered twice (GET /stats).
- `echo` (baseline b): botbuilder 4.17.1's echo bot as its samples ship it:
  CloudAdapter with ConfigurationBotFrameworkAuthentication and an empty app id.

    python -m bench.servers connector|recorder|relay|echo|fake-teams --port N [--tenant-rate R]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

HEALTH_PATH = "/healthz"
CLIENT_KEY = web.AppKey("client", aiohttp.ClientSession)


def connector_app() -> web.Application:
    stats = {"posted": 0}

    async def post_activity(request: web.Request) -> web.Response:
        await request.json()
        stats["posted"] += 1
        return web.json_response({"id": f"m{stats['posted']}"})

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities", post_activity)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", post_activity)
    app.router.add_get("/stats", get_stats)
    app.router.add_get(HEALTH_PATH, get_stats)
    return app


def message_key(conversation: str, activity: dict[str, Any]) -> str:
    """What identifies a proactive message: its conversation and its content."""
    content = activity.get("attachments") or activity.get("text") or ""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
    return f"{conversation} {digest}"


def recorder_app() -> web.Application:
    replies: Counter[str] = Counter()
    proactive: Counter[str] = Counter()

    async def post_reply(request: web.Request) -> web.Response:
        await request.json()
        replies[request.match_info["reply_to"]] += 1
        return web.json_response({"id": f"r{sum(replies.values())}"})

    async def post_proactive(request: web.Request) -> web.Response:
        activity = await request.json()
        proactive[message_key(request.match_info["conversation"], activity)] += 1
        return web.json_response({"id": f"p{sum(proactive.values())}"})

    async def get_stats(request: web.Request) -> web.Response:
        posted = sum(replies.values()) + sum(proactive.values())
        return web.json_response({"posted": posted, "replies": replies, "proactive": proactive})

    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities", post_proactive)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", post_reply)
    app.router.add_get("/stats", get_stats)
    app.router.add_get(HEALTH_PATH, get_stats)
    return app


def _reply_to(activity: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "text": "Echo",
        "channelId": activity.get("channelId"),
        "from": activity.get("recipient"),
        "recipient": activity.get("from"),
        "conversation": activity.get("conversation"),
        "replyToId": activity.get("id"),
    }


def relay_app() -> web.Application:
    async def messages(request: web.Request) -> web.Response:
        activity = await request.json()
        reply = _reply_to(activity)
        if activity.get("deliveryMode") == "expectReplies":
            return web.json_response({"activities": [reply]})
        conversation = quote(activity["conversation"]["id"], safe="")
        url = (
            f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation}"
            f"/activities/{quote(activity['id'], safe='')}"
        )
        async with request.app[CLIENT_KEY].post(url, json=reply) as response:
            await response.read()
            if response.status >= 400:
                return web.json_response({"error": "connector"}, status=502)
        return web.Response(status=201)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def client(app: web.Application) -> AsyncIterator[None]:
        app[CLIENT_KEY] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100, limit_per_host=50)
        )
        yield
        await app[CLIENT_KEY].close()

    app = web.Application()
    app.cleanup_ctx.append(client)
    app.router.add_post("/api/messages", messages)
    app.router.add_get(HEALTH_PATH, healthz)
    return app


def echo_app() -> web.Application:
    """The SDK's echo sample (02.echo-bot), as shipped: nothing of Waypoint's."""
    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )
    from botbuilder.schema import ChannelAccount

    config = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))

    async def on_error(context: TurnContext, error: Exception) -> None:
        logging.getLogger("bench.echo").error("turn failed: %r", error)
        await context.send_activity("The bot encountered an error or bug.")

    adapter.on_turn_error = on_error

    class EchoBot(ActivityHandler):  # type: ignore[misc]
        async def on_members_added_activity(
            self, members_added: list[ChannelAccount], turn_context: TurnContext
        ) -> None:
            return None

        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(
                MessageFactory.text(f"Echo: {turn_context.activity.text}")
            )

    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response: web.Response = await adapter.process(request, bot)
        return response

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get(HEALTH_PATH, healthz)
    return app


def fake_teams_app(tenant_rate: float) -> web.Application:
    """tests/fake_teams.py's FakeTeams (Teams' limits enforced), with what it saw on GET /stats."""
    from tests.fake_teams import FakeTeams

    # The sender's configured rate, with one over for clocks and scheduling jitter.
    teams = FakeTeams(tenant_limit=tenant_rate + 1)
    app = teams.app()

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "received": dict(teams.received),
                "requests": sum(teams.requests_to.values()),
                "violations": teams.violations,
            }
        )

    app.router.add_get("/stats", get_stats)
    app.router.add_get(HEALTH_PATH, get_stats)
    return app


APPS = {
    "connector": connector_app,
    "recorder": recorder_app,
    "relay": relay_app,
    "echo": echo_app,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("kind", choices=[*sorted(APPS), "fake-teams"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tenant-rate", type=float, default=30.0, help="fake-teams only")
    args = parser.parse_args(argv)
    # As the Waypoint servers run: nothing logged per request.
    logging.basicConfig(level=logging.WARNING)
    app = fake_teams_app(args.tenant_rate) if args.kind == "fake-teams" else APPS[args.kind]()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
