"""4. Memory and start: `waypoint serve`'s RSS over 10,000 turns, and its time to a first answer.

Start: from Popen to the first answered turn (poll GET /healthz every 10 ms, then
POST `category oakfield` and wait for the HTTP answer, by which time the reply is at
the connector), the median of a few starts, against the bare relay started and
asked the same way.
Memory: VmRSS (/proc/PID/status) after the first turn, after 5,000 turns and after
10,000 (wrk, category and coaching saves in turn, stopped when the connector has
seen that many replies); the growth over the second 5,000 is RSS at 10,000 against
RSS at 5,000. The relay, run the same way, is the baseline.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench import wrk
from bench.procs import Server, free_port, python_server, serve, venv_command, wait_ready
from bench.results import Figure, Results
from bench.store import (
    DemoStore,
    category_activity,
    coaching_submit,
    echo_activity,
    fill,
    prepare_demo_store,
    write_template,
)
from bench.turn_servers import MESSAGES, loopback_connector, post_once, posted_count

SECTION = "footprint"
MIB = 1024


@dataclass(frozen=True)
class FootprintSizes:
    turns: int
    starts: int
    connections: int


FULL = FootprintSizes(turns=10_000, starts=3, connections=4)
SMOKE = FootprintSizes(turns=40, starts=1, connections=2)


@dataclass
class Footprint:
    starts_s: list[float] = field(default_factory=list)
    rss_kib: dict[str, int] = field(default_factory=dict)
    turns: dict[str, int] = field(default_factory=dict)

    @property
    def start_s(self) -> float:
        return statistics.median(self.starts_s)


def _first_answer(server: Server, connector: Server, first_turn: Path) -> float:
    """Seconds from Popen to the first turn answered (its reply at the connector)."""
    wait_ready(server, "/healthz", poll=0.01)
    before = posted_count(connector)
    # A new activity id each time: the same one again would be a redelivery, ignored.
    activity = fill(json.loads(first_turn.read_text()), uuid.uuid4().hex)
    status, body = post_once(server, activity)
    answered = time.perf_counter()
    if status >= 300 or posted_count(connector) != before + 1:
        raise RuntimeError(f"{server.name}: first turn answered {status}: {body[:200]!r}")
    return answered - server.started_at


def _load(
    server: Server, connector: Server, templates: list[Path], sizes: FootprintSizes, what: str
) -> Footprint:
    footprint = Footprint()
    footprint.rss_kib["first turn"] = server.rss_kib()
    footprint.turns["first turn"] = 1
    base = posted_count(connector)
    for mark, count in (("half", sizes.turns // 2), ("all", sizes.turns)):
        result = wrk.run(
            server.url + MESSAGES,
            templates,
            seconds=3600,
            connections=sizes.connections,
            until=lambda count=count: posted_count(connector) - base >= count,  # type: ignore[misc]
        )
        if result.error_count:
            raise RuntimeError(f"{what}: wrk saw errors {result.errors}")
        footprint.turns[mark] = posted_count(connector) - base
        footprint.rss_kib[mark] = server.rss_kib()
    return footprint


def _measure(
    name: str,
    command: list[str],
    port: int,
    work: Path,
    connector: Server,
    first_turn: Path,
    templates: list[Path],
    sizes: FootprintSizes,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Footprint:
    starts: list[float] = []
    footprint: Footprint | None = None
    for attempt in range(sizes.starts):
        with serve(
            name, command, port=port, log_dir=work, env=env, cwd=cwd, ready_path=None
        ) as server:
            starts.append(_first_answer(server, connector, first_turn))
            if attempt == sizes.starts - 1:
                footprint = _load(server, connector, templates, sizes, name)
    assert footprint is not None
    footprint.starts_s = starts
    return footprint


def run_footprint(results: Results, work: Path, sizes: FootprintSizes) -> None:
    store: DemoStore = prepare_demo_store(work / "store")
    with loopback_connector(work) as connector:
        service_url = connector.url + "/"
        echo = write_template(work / "echo.json", echo_activity(service_url))
        category = write_template(work / "category.json", category_activity(service_url))
        coaching = write_template(work / "coaching.json", coaching_submit(store, service_url))
        port = free_port()
        relay = _measure(
            "relay", python_server("relay", port), port, work, connector, echo, [echo], sizes
        )
        port = free_port()
        waypoint = _measure(
            "waypoint",
            [venv_command("waypoint"), "serve", "--port", str(port)],
            port,
            work,
            connector,
            category,
            [category, coaching],
            sizes,
            env=store.env(),
            cwd=store.directory,
        )

    add = results.add
    add(
        Figure(
            SECTION,
            "start → first answered turn",
            waypoint.start_s,
            "s",
            "relay",
            relay.start_s,
            target="≤ 2 s",
            met=waypoint.start_s <= 2.0,
            note=f"median of {len(waypoint.starts_s)}",
            detail={"waypoint_s": waypoint.starts_s, "relay_s": relay.starts_s},
        )
    )
    turns = waypoint.turns["all"]
    add(
        Figure(
            SECTION,
            f"RSS after {turns:,} turns",
            waypoint.rss_kib["all"] / MIB,
            "MiB",
            f"relay after {relay.turns['all']:,}",
            relay.rss_kib["all"] / MIB,
            target="≤ 150 MiB",
            met=waypoint.rss_kib["all"] <= 150 * MIB,
            detail={
                "waypoint": waypoint.rss_kib,
                "relay": relay.rss_kib,
                "waypoint_turns": waypoint.turns,
                "relay_turns": relay.turns,
            },
        )
    )
    for who, footprint, target in (("Waypoint", waypoint, True), ("relay", relay, False)):
        add(
            Figure(
                SECTION,
                f"{who} RSS after {footprint.turns['all']:,} turns",
                footprint.rss_kib["all"] / MIB,
                "MiB",
                f"its RSS after {footprint.turns['half']:,}",
                footprint.rss_kib["half"] / MIB,
                target="< 1.05 × (growth < 5%)" if target else None,
                met=footprint.rss_kib["all"] < 1.05 * footprint.rss_kib["half"] if target else None,
            )
        )
