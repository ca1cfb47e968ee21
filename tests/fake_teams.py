"""A fake Teams connector on loopback: enforces Teams' limits and injects faults."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

# Teams' published limits, written out here rather than taken from the sender, so
# that a sender which keeps to the wrong figures is caught
# (learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit).
# Per conversation (messages, seconds):
CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
# Per app per tenant: "about 30-50 requests a second"; the upper figure.
TENANT_LIMIT = 50


@dataclass
class FakeTeams:
    # Teams' own by default; the delivery benchmark measures senders set faster.
    tenant_limit: float = TENANT_LIMIT
    gone: set[str] = field(default_factory=set)
    # Share of requests answered 503 / 429 (injected, not the sender's fault).
    unavailable_share: float = 0.0
    throttle_share: float = 0.0
    seed: int = 7
    url: str = ""
    received: Counter[str] = field(default_factory=Counter)
    requests_to: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    injected: Counter[int] = field(default_factory=Counter)
    _times: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _tenant_times: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def _breaks_limits(self, conversation: str, now: float) -> str | None:
        times = self._times[conversation]
        for messages, seconds in CONVERSATION_LIMITS:
            recent = sum(1 for t in times if now - t < seconds)
            if recent >= messages:
                return f"{conversation}: more than {messages} in {seconds:g}s"
        tenant_recent = sum(1 for t in self._tenant_times if now - t < 1.0)
        if tenant_recent >= self.tenant_limit:
            return f"tenant: more than {self.tenant_limit:g} in 1s"
        return None

    def app(self) -> web.Application:
        async def post(request: web.Request) -> web.Response:
            conversation = request.match_info["conversation"]
            body = await request.json()
            now = time.monotonic()
            self.requests_to[conversation] += 1
            broken = self._breaks_limits(conversation, now)
            self._times[conversation].append(now)
            self._tenant_times.append(now)
            while self._tenant_times and now - self._tenant_times[0] > 2:
                self._tenant_times.popleft()
            if broken:
                self.violations.append(broken)
                return web.json_response({}, status=429, headers={"Retry-After": "1"})
            if conversation in self.gone:
                return web.json_response({"error": "bot blocked"}, status=403)
            roll = self._random.random()
            if roll < self.unavailable_share:
                self.injected[503] += 1
                return web.json_response({}, status=503)
            if roll < self.unavailable_share + self.throttle_share:
                self.injected[429] += 1
                return web.json_response({}, status=429, headers={"Retry-After": "0.3"})
            self.received[str(body.get("text"))] += 1
            return web.json_response({"id": f"m{sum(self.received.values())}"})

        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", post)
        return app


@asynccontextmanager
async def fake_teams(**options: object) -> AsyncIterator[FakeTeams]:
    teams = FakeTeams(**options)  # type: ignore[arg-type]
    server = TestServer(teams.app(), host="127.0.0.1")
    await server.start_server()
    teams.url = str(server.make_url("/"))
    try:
        yield teams
    finally:
        await server.close()
