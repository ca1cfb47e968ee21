"""Prometheus metrics of one serving process, and the record each turn is counted by.

Each Waypoint holds a registry of its own (never prometheus_client's global one), so
tests and several apps in one process do not share counts. `waypoint serve` answers
`GET /metrics` on a port of its own (WAYPOINT_METRICS_HOST:WAYPOINT_METRICS_PORT,
127.0.0.1:9464 by default), never on the port Teams posts to: behind a load balancer
every request to that port comes from the balancer's address, so a check of the
client's address there could not tell a scraper on this host from the internet.

What is counted: turns by activity type and outcome, their latency, operations that
failed because the store was out of reach, outbox rows by state (one grouped count at
scrape time), deliveries by outcome, and how long this replica's sender is waiting
out a Teams throttle. Labels take only Waypoint's own values (an activity type
Waypoint does not know is "other"), so no caller can grow the series without bound.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.logs import TURN_ID, correlation_id
from storage.delivery_report import outbox_counts
from storage.engine import Sessions, store_unavailable
from storage.outbox import FAILED, GONE, PENDING, SENDING, SENT, UNCONFIRMED
from storage.waiting import EXPIRED, WAITING

if TYPE_CHECKING:
    from botbuilder.schema import Activity

log = logging.getLogger("waypoint.turn")
served_log = logging.getLogger("waypoint.metrics")

# The activity types Teams sends; anything else is counted as "other".
TURN_TYPES = (
    "message",
    "invoke",
    "installationUpdate",
    "conversationUpdate",
    "messageReaction",
    "messageUpdate",
    "messageDelete",
    "event",
    "typing",
)
OUTBOX_STATES = (PENDING, SENDING, SENT, GONE, FAILED, UNCONFIRMED, WAITING, EXPIRED)
# The sender's outcomes (bot/sender.py) as counted: a throttled delivery is retried.
DELIVERY_OUTCOMES = {
    "sent": "sent",
    "gone": "gone",
    "failed": "failed",
    "retry": "retried",
    "throttled": "retried",
}
STORE_ERROR_PLACES = ("turn", "sender", "healthz", "metrics")
# Seconds; a turn's budget is Teams' 15 s.
TURN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


class Outcome(StrEnum):
    answered = "answered"
    # Not for this person: a command or action their roles don't allow, or someone
    # Waypoint does not know.
    refused = "refused"
    # Teams sent an activity again that was handled already: nothing done twice.
    redelivered = "redelivered"
    # The turn failed, or the store was out of reach (the person got a Retry card).
    error = "error"


@dataclass
class TurnRecord:
    metrics: Metrics
    type: str
    outcome: Outcome = Outcome.answered


_TURN: ContextVar[TurnRecord | None] = ContextVar("waypoint_turn", default=None)


def mark_turn(outcome: Outcome, *, store_down: bool = False) -> None:
    """Say how the turn being handled ends (answered unless said otherwise)."""
    record = _TURN.get()
    if record is None:
        return
    record.outcome = outcome
    if store_down:
        record.metrics.store_errors.labels("turn").inc()


class Metrics:
    """The counters of one Waypoint, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.turns = Counter(
            "waypoint_turns",
            "Turns handled, by activity type and outcome",
            ["type", "outcome"],
            registry=registry,
        )
        self.turn_seconds = Histogram(
            "waypoint_turn_seconds",
            "Time to handle a turn, by activity type",
            ["type"],
            buckets=TURN_BUCKETS,
            registry=registry,
        )
        self.store_errors = Counter(
            "waypoint_store_errors",
            "Operations that failed because the store was out of reach, by where",
            ["where"],
            registry=registry,
        )
        self.deliveries = Counter(
            "waypoint_deliveries",
            "Outbox deliveries attempted by this process, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.outbox_rows = Gauge(
            "waypoint_outbox_rows",
            "Outbox rows by state, all trusts (counted at scrape time)",
            ["state"],
            registry=registry,
        )
        self.throttle_wait = Gauge(
            "waypoint_throttle_wait_seconds",
            "How long this process's sender is still waiting out a Teams throttle (429)",
            registry=registry,
        )
        self._throttled_until = 0.0
        self.throttle_wait.set_function(lambda: max(0.0, self._throttled_until - time.time()))
        # Every series from the start, at 0: a rate needs its first sample.
        for kind in ("message", "invoke", "installationUpdate", "conversationUpdate"):
            self.turn_seconds.labels(kind)
            for outcome in Outcome:
                self.turns.labels(kind, outcome.value)
        for place in STORE_ERROR_PLACES:
            self.store_errors.labels(place)
        for counted in set(DELIVERY_OUTCOMES.values()):
            self.deliveries.labels(counted)

    # -- turns -----------------------------------------------------------------------

    @contextmanager
    def turn(self, activity: Activity) -> Iterator[TurnRecord]:
        """Count and time one turn, and give the log lines written meanwhile its
        correlation id."""
        kind = activity.type if activity.type in TURN_TYPES else "other"
        record = TurnRecord(self, kind)
        turn_token = _TURN.set(record)
        id_token = TURN_ID.set(correlation_id(activity.id))
        started = time.perf_counter()
        try:
            yield record
        except Exception:
            record.outcome = Outcome.error
            raise
        finally:
            elapsed = time.perf_counter() - started
            self.turns.labels(kind, record.outcome.value).inc()
            self.turn_seconds.labels(kind).observe(elapsed)
            log.info(
                "turn type=%s outcome=%s ms=%.1f", activity.type, record.outcome, elapsed * 1000
            )
            TURN_ID.reset(id_token)
            _TURN.reset(turn_token)

    # -- the outbox sender -------------------------------------------------------------

    def delivered(self, outcome: str) -> None:
        self.deliveries.labels(DELIVERY_OUTCOMES.get(outcome, "retried")).inc()

    def throttled_for(self, seconds: float) -> None:
        """The sender waits `seconds` for a trust's throttle to end."""
        self._throttled_until = max(self._throttled_until, time.time() + seconds)

    def store_error(self, where: str, error: BaseException) -> None:
        """Count `error` if it means the store was out of reach."""
        if store_unavailable(error):
            self.store_errors.labels(where).inc()

    # -- scraping -----------------------------------------------------------------------

    async def scrape(self, sessions: Sessions) -> bytes:
        """The exposition text, with the outbox counted now (one grouped query)."""
        try:
            async with sessions() as session:
                counts = await outbox_counts(session)
        except Exception as error:
            if not store_unavailable(error):
                raise
            self.store_errors.labels("metrics").inc()
            # No figure is better than a stale one.
            self.outbox_rows.clear()
        else:
            for state in (*OUTBOX_STATES, *counts):
                self.outbox_rows.labels(state).set(counts.get(state, 0))
        return generate_latest(self.registry)


def metrics_app(metrics: Metrics, sessions: Sessions) -> web.Application:
    """The application on the metrics port: GET /metrics and nothing else."""

    async def serve_metrics(_request: web.Request) -> web.Response:
        body = await metrics.scrape(sessions)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", serve_metrics)
    return app


def serve_metrics_beside(
    app: web.Application, metrics: Metrics, sessions: Sessions, *, host: str, port: int
) -> None:
    """While `app` runs, serve /metrics at host:port (0: not at all). A port that cannot
    be had is logged, not fatal: the bot serves Teams with or without its metrics."""
    if not port:
        return
    runner = web.AppRunner(metrics_app(metrics, sessions), access_log=None)

    async def start(_app: web.Application) -> None:
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            served_log.error("metrics not served: cannot listen on %s:%d (%s)", host, port, error)
            return
        served_log.info("metrics on http://%s:%d/metrics", host, port)

    async def stop(_app: web.Application) -> None:
        await runner.cleanup()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
