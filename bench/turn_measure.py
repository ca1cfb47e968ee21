"""Measuring a turn server under wrk: its maximum throughput and its latency when paced.

measure_max runs wrk at each of the sizes' connection counts and keeps the best, and
checks every run: no HTTP error, one reply at the loopback connector per answered
turn and, where a count of writes is given, one write per turn (counted once the
turns still in flight when wrk stopped have landed: `settled`). Each run also reads
the server's CPU time (user + system, /proc/PID/stat) just before wrk starts and
just after it exits: CPU per turn is that divided by the turns wrk completed in the
run (every one a 2xx, or the run is refused), the same window on both sides. measure_paced runs
wrk at a constant rate (bench/lua/paced.lua) for the latency at that rate.
bench/turns.py runs them against each server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import wrk
from bench.procs import Server
from bench.turn_servers import MESSAGES, posted_count


@dataclass(frozen=True)
class TurnSizes:
    warmup_s: float
    max_s: float
    paced_s: float
    # Maximum throughput is the best over these connection counts.
    connections: tuple[int, ...]
    paced_connections: int


@dataclass
class Measured:
    """What one server did: its best run, the runs, and how many replies the connector got."""

    best: wrk.WrkResult | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    replies: int = 0
    writes: int | None = None
    failure: str | None = None
    # The server's user + system CPU seconds over the best run (wrk's run, no more).
    cpu_s: float | None = None

    @property
    def rate(self) -> float | None:
        return self.best.rate if self.best else None

    @property
    def half_rate(self) -> float:
        """Half the maximum: the constant rate latency is measured at."""
        if self.best is None:
            raise RuntimeError("no maximum was measured")
        return self.best.rate / 2

    @property
    def cpu_per_turn_ms(self) -> float | None:
        """The server's CPU milliseconds per turn answered in the best run."""
        if self.best is None or self.cpu_s is None or not self.best.requests:
            return None
        return 1000 * self.cpu_s / self.best.requests


def settled(count: Callable[[], int], *, quiet_s: float = 1.0, within_s: float = 30.0) -> int:
    """A count (replies at the connector, sessions stored) once the turns still in
    flight when wrk stopped have finished. Quiet for a second, not less: at 16
    connections on SQLite a turn can wait longer than that for the write lock, and
    its write then landed in the next run's count."""
    deadline = time.monotonic() + within_s
    last = count()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = count()
        if now == last:
            return last
        last = now
    return last


def _check(result: wrk.WrkResult, what: str) -> None:
    if result.requests == 0:
        raise RuntimeError(f"{what}: no request was answered")
    if result.error_count:
        raise RuntimeError(f"{what}: wrk saw errors {result.errors}")


def measure_max(
    server: Server,
    template: Path,
    sizes: TurnSizes,
    *,
    connector: Server,
    what: str,
    count_writes: Callable[[], int] | None = None,
    expect_replies: bool = False,
) -> Measured:
    url = server.url + MESSAGES
    if sizes.warmup_s:
        _check(wrk.run(url, [template], seconds=sizes.warmup_s, connections=2), f"{what} warm-up")
    measured = Measured()
    for connections in sizes.connections:
        posted_before = settled(lambda: posted_count(connector))
        writes_before = settled(count_writes) if count_writes else 0
        cpu_before = server.cpu_seconds()
        result = wrk.run(url, [template], seconds=sizes.max_s, connections=connections)
        cpu = server.cpu_seconds() - cpu_before
        _check(result, what)
        replies = settled(lambda: posted_count(connector)) - posted_before
        # wrk counts the answers that came within its run; the connector also sees
        # the replies of the turns still in flight when it stopped.
        if not expect_replies and not result.requests <= replies <= result.requests + connections:
            raise RuntimeError(
                f"{what}: {replies} replies reached the connector for {result.requests} turns"
            )
        writes = settled(count_writes) - writes_before if count_writes else None
        if writes is not None and not result.requests <= writes <= result.requests + connections:
            raise RuntimeError(f"{what}: {writes} sessions stored for {result.requests} submits")
        measured.runs.append(
            {
                "connections": connections,
                **result.as_dict(),
                "replies": replies,
                "writes": writes,
                "cpu_s": round(cpu, 3),
                "cpu_per_turn_ms": round(1000 * cpu / result.requests, 3),
            }
        )
        if measured.best is None or result.rate > measured.best.rate:
            measured.best, measured.replies, measured.writes = result, replies, writes
            measured.cpu_s = cpu
    return measured


def measure_paced(
    server: Server, template: Path, rate: float, sizes: TurnSizes, what: str
) -> wrk.WrkResult:
    result = wrk.run(
        server.url + MESSAGES,
        [template],
        seconds=sizes.paced_s,
        connections=sizes.paced_connections,
        rate=rate,
    )
    _check(result, what)
    return result
