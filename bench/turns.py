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

This module runs the section: each server in turn, and what it is measured with.
bench/turn_servers.py starts the servers, bench/turn_measure.py measures and checks
each run, bench/turn_report.py makes the figures.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bench import wrk
from bench.results import Results
from bench.store import (
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
from bench.turn_measure import Measured, TurnSizes, measure_max, measure_paced
from bench.turn_report import report_turns
from bench.turn_servers import loopback_connector, post_once, python_bench_server, waypoint_server

FULL = TurnSizes(warmup_s=2, max_s=10, paced_s=15, connections=(4, 16), paced_connections=8)
SMOKE = TurnSizes(warmup_s=0, max_s=1, paced_s=1, connections=(2,), paced_connections=2)


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

    report_turns(results, m, paced)
