"""1. Turns over HTTP, the way Teams delivers them, against two baselines run beside them.

Every server gets the same Teams-shaped activity POSTed to /api/messages by wrk,
with serviceUrl pointing at the loopback connector (bench/servers.py), to which
each turn's reply is POSTed:

- (a) the bare aiohttp relay: the floor of the HTTP work;
- (b) botbuilder 4.17.1's echo bot, CloudAdapter as shipped;
- (c) Waypoint, `category oakfield` (store read + card), `waypoint serve` on the demo store;
- (d) Waypoint, the coaching card's Save (validate + write + confirmation card), with
  a new form_id per request, so that every request stores a session.

Maximum throughput is the best of a few connection counts (each server's own peak);
latency is wrk's p99 at a constant rate of half that maximum (bench/lua/paced.lua),
next to the relay's p99 at the same rate. The expectReplies variant (the answer in
the HTTP response) is measured the same way.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import wrk
from bench.procs import Server, free_port, python_server, serve, venv_command
from bench.results import Figure, Results
from bench.store import (
    DemoStore,
    category_activity,
    coaching_sessions,
    coaching_submit,
    demo_store_on_postgres,
    echo_activity,
    fill,
    prepare_demo_store,
    write_template,
)
from bench.stores import postgres_problem

SECTION = "turns"
MESSAGES = "/api/messages"


@dataclass(frozen=True)
class TurnSizes:
    warmup_s: float
    max_s: float
    paced_s: float
    # Maximum throughput is the best over these connection counts.
    connections: tuple[int, ...]
    paced_connections: int


FULL = TurnSizes(warmup_s=2, max_s=10, paced_s=15, connections=(4, 16), paced_connections=8)
SMOKE = TurnSizes(warmup_s=0, max_s=1, paced_s=1, connections=(2,), paced_connections=2)


@dataclass
class Measured:
    """What one server did: its best run, the runs, and how many replies the connector got."""

    best: wrk.WrkResult | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    replies: int = 0
    writes: int | None = None
    failure: str | None = None

    @property
    def rate(self) -> float | None:
        return self.best.rate if self.best else None

    @property
    def half_rate(self) -> float:
        """Half the maximum: the constant rate latency is measured at."""
        if self.best is None:
            raise RuntimeError("no maximum was measured")
        return self.best.rate / 2


def posted_count(connector: Server) -> int:
    with urllib.request.urlopen(connector.url + "/stats", timeout=5) as response:
        posted: int = json.load(response)["posted"]
        return posted


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
        result = wrk.run(url, [template], seconds=sizes.max_s, connections=connections)
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
            {"connections": connections, **result.as_dict(), "replies": replies, "writes": writes}
        )
        if measured.best is None or result.rate > measured.best.rate:
            measured.best, measured.replies, measured.writes = result, replies, writes
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


def post_once(server: Server, activity: dict[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        server.url + MESSAGES,
        data=json.dumps(activity).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextmanager
def waypoint_server(store: DemoStore, work: Path, name: str) -> Iterator[Server]:
    port = free_port()
    with serve(
        name,
        [venv_command("waypoint"), "serve", "--port", str(port)],
        port=port,
        log_dir=work,
        env=store.env(),
        cwd=store.directory,
    ) as server:
        yield server


@contextmanager
def python_bench_server(kind: str, work: Path) -> Iterator[Server]:
    port = free_port()
    with serve(kind, python_server(kind, port), port=port, log_dir=work) as server:
        yield server


@contextmanager
def loopback_connector(work: Path) -> Iterator[Server]:
    port = free_port()
    with serve("connector", python_server("connector", port), port=port, log_dir=work) as server:
        yield server


def run_turns(results: Results, work: Path, sizes: TurnSizes) -> None:
    work.mkdir(parents=True, exist_ok=True)
    store = prepare_demo_store(work / "store")
    with loopback_connector(work) as connector:
        service_url = connector.url + "/"
        t = {
            "echo": write_template(work / "echo.json", echo_activity(service_url)),
            "echo_x": write_template(
                work / "echo_x.json", echo_activity(service_url, expect_replies=True)
            ),
            "category": write_template(work / "category.json", category_activity(service_url)),
            "category_x": write_template(
                work / "category_x.json", category_activity(service_url, expect_replies=True)
            ),
            "coaching": write_template(work / "coaching.json", coaching_submit(store, service_url)),
            "coaching_x": write_template(
                work / "coaching_x.json",
                coaching_submit(store, service_url, expect_replies=True),
            ),
        }
        m: dict[str, Measured] = {}
        paced: dict[str, wrk.WrkResult] = {}

        with python_bench_server("relay", work) as relay:
            m["a"] = measure_max(relay, t["echo"], sizes, connector=connector, what="(a) relay")
            m["ax"] = measure_max(
                relay,
                t["echo_x"],
                sizes,
                connector=connector,
                what="(a) relay, expectReplies",
                expect_replies=True,
            )

        with python_bench_server("echo", work) as echo:
            m["b"] = measure_max(echo, t["echo"], sizes, connector=connector, what="(b) echo bot")
            status, _ = post_once(echo, fill(json.loads(t["echo_x"].read_text()), "e" * 32))
            if status == 200:
                m["bx"] = measure_max(
                    echo,
                    t["echo_x"],
                    sizes,
                    connector=connector,
                    what="(b) echo bot, expectReplies",
                    expect_replies=True,
                )
            else:
                m["bx"] = Measured(failure=f"HTTP {status}")

        with waypoint_server(store, work, "waypoint-category") as waypoint:
            m["c"] = measure_max(
                waypoint, t["category"], sizes, connector=connector, what="(c) category"
            )
            paced["c"] = measure_paced(
                waypoint, t["category"], m["c"].half_rate, sizes, "(c) category, paced"
            )
            m["cx"] = measure_max(
                waypoint,
                t["category_x"],
                sizes,
                connector=connector,
                what="(c) category, expectReplies",
                expect_replies=True,
            )

        with waypoint_server(store, work, "waypoint-coaching") as waypoint:
            m["d"] = measure_max(
                waypoint,
                t["coaching"],
                sizes,
                connector=connector,
                what="(d) coaching save",
                count_writes=lambda: coaching_sessions(store),
            )
            paced["d"] = measure_paced(
                waypoint, t["coaching"], m["d"].half_rate, sizes, "(d) coaching save, paced"
            )
            m["dx"] = measure_max(
                waypoint,
                t["coaching_x"],
                sizes,
                connector=connector,
                what="(d) coaching save, expectReplies",
                expect_replies=True,
                count_writes=lambda: coaching_sessions(store),
            )

        problem = asyncio.run(postgres_problem())
        if problem is None:
            # The production store: the same turns with PostgreSQL behind them.
            with demo_store_on_postgres(work / "postgres") as pg:
                pg_t = {
                    "category": write_template(
                        work / "pg_category.json", category_activity(service_url)
                    ),
                    "coaching": write_template(
                        work / "pg_coaching.json", coaching_submit(pg, service_url)
                    ),
                }
                with waypoint_server(pg, work, "waypoint-postgres") as waypoint:
                    m["c_pg"] = measure_max(
                        waypoint,
                        pg_t["category"],
                        sizes,
                        connector=connector,
                        what="(c) category on PostgreSQL",
                    )
                    m["d_pg"] = measure_max(
                        waypoint,
                        pg_t["coaching"],
                        sizes,
                        connector=connector,
                        what="(d) coaching save on PostgreSQL",
                        count_writes=lambda: coaching_sessions(pg),
                    )
        else:
            results.notes.append(f"turns on PostgreSQL not run: {problem}")

        with python_bench_server("relay", work) as relay:
            for key in ("c", "d"):
                paced[f"a@{key}"] = measure_paced(
                    relay,
                    t["echo"],
                    paced[key].target_rate or 0,
                    sizes,
                    f"(a) relay at {key}'s rate",
                )

    _report(results, m, paced)


def _report(results: Results, m: dict[str, Measured], paced: dict[str, wrk.WrkResult]) -> None:
    def detail(key: str) -> dict[str, Any]:
        measured = m[key]
        return {"runs": measured.runs, "replies": measured.replies, "writes": measured.writes}

    a, b = m["a"].rate, m["b"].rate
    add = results.add
    add(
        Figure(
            SECTION, "(a) bare aiohttp relay", a, "turns/s", note="the floor", detail=detail("a")
        )
    )
    add(
        Figure(SECTION, "(b) stock botbuilder echo bot", b, "turns/s", "(a)", a, detail=detail("b"))
    )
    c, d = m["c"].rate, m["d"].rate
    add(
        Figure(
            SECTION,
            "(c) Waypoint category",
            c,
            "turns/s",
            "(a)",
            a,
            target="≥ 0.25 × (a)",
            met=c is not None and a is not None and c >= 0.25 * a,
            detail=detail("c"),
        )
    )
    add(
        Figure(
            SECTION,
            "(c) Waypoint category",
            c,
            "turns/s",
            "(b)",
            b,
            target="≥ 5 × (b)",
            met=c is not None and b is not None and c >= 5 * b,
        )
    )
    add(
        Figure(
            SECTION,
            "(d) Waypoint coaching save",
            d,
            "turns/s",
            "(a)",
            a,
            target="≥ 0.15 × (a)",
            met=d is not None and a is not None and d >= 0.15 * a,
            detail=detail("d"),
        )
    )
    for key, label in (("c", "(c) category"), ("d", "(d) coaching save")):
        run, floor = paced[key], paced[f"a@{key}"]
        p99, floor_p99 = run.latency_ms["p99"], floor.latency_ms["p99"]
        add(
            Figure(
                SECTION,
                f"{label} p99 at {run.target_rate:.0f}/s (half max)",
                p99,
                "ms",
                "(a) at that rate",
                floor_p99,
                target="≤ 20 ms",
                met=p99 <= 20,
                note=f"achieved {run.rate:.0f}/s",
                detail={"paced": run.as_dict(), "relay": floor.as_dict()},
            )
        )
    for key, label in (("c_pg", "(c) category"), ("d_pg", "(d) coaching save")):
        if key in m:
            add(
                Figure(
                    SECTION,
                    f"{label}, on PostgreSQL",
                    m[key].rate,
                    "turns/s",
                    "(a)",
                    a,
                    note="the production store; no target",
                    detail=detail(key),
                )
            )
    ax = m["ax"].rate
    add(Figure(SECTION, "(a) relay, expectReplies", ax, "turns/s", "(a)", a, detail=detail("ax")))
    for key, label in (("bx", "(b) echo bot"), ("cx", "(c) category"), ("dx", "(d) coaching save")):
        measured = m[key]
        add(
            Figure(
                SECTION,
                f"{label}, expectReplies",
                measured.rate,
                "turns/s",
                "(a) expectReplies",
                ax,
                note=f"fails: {measured.failure}" if measured.failure else "",
                detail=detail(key),
            )
        )
