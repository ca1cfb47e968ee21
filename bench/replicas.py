"""Category turns through HAProxy at 1, 2 and 3 replicas, and the CPU each turn costs.

    python -m bench.replicas [--seconds 10] [--connections 16] [--counts 1,2,3]
    make bench-replicas

The demo trust on PostgreSQL (the store replicas share; a schema of its own, dropped
afterwards); `waypoint serve` replicas with their scheduler and sender running, as in
production, behind HAProxy with deploy/haproxy.cfg (bench/cluster.py); wrk POSTs
`category oakfield` as Marcus Bell through HAProxy (bench/turns.py's activity, a new
activity id each time) for `--seconds` after a 2 s warm-up, at the best of 4 and 16
connections. Each run is checked as bench/turns.py checks its own: no HTTP error, and
one reply at the loopback connector for every answered turn.

CPU per turn is the replicas' user + system CPU seconds over the run (from
/proc/PID/stat) divided by the turns answered; HAProxy's is shown apart. On a machine
of 2 cores, 2 and 3 replicas share the same cores (with PostgreSQL, HAProxy and wrk),
so throughput cannot scale with replicas there: CPU per turn is the figure that says
what a replica costs, and throughput on more cores follows from it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench import wrk
from bench.cluster import cluster
from bench.store import DemoStore, category_activity, demo_store_on_postgres, write_template
from bench.turn_servers import MESSAGES, loopback_connector, posted_count

WARM_UP = 2.0


@dataclass(frozen=True)
class Row:
    replicas: int
    connections: int
    rate: float
    answered: int
    cpu_per_turn_ms: float
    haproxy_per_turn_ms: float
    p99_ms: float


def measure(store: DemoStore, work: Path, replicas: int, seconds: float, connections: int) -> Row:
    with (
        loopback_connector(work) as connector,
        cluster(store.env(), work / f"cluster-{replicas}-{connections}", replicas) as run,
    ):
        template = write_template(work / "category.json", category_activity(connector.url))
        wrk.run(run.url + MESSAGES, [template], seconds=WARM_UP, connections=connections)
        posted, cpu, haproxy = posted_count(connector), run.cpu(), run.haproxy_cpu()
        result = wrk.run(run.url + MESSAGES, [template], seconds=seconds, connections=connections)
        answered = posted_count(connector) - posted
        cpu, haproxy = run.cpu() - cpu, run.haproxy_cpu() - haproxy
    if result.error_count or answered < result.requests:
        raise RuntimeError(
            f"{replicas} replicas: wrk errors {result.errors}, {result.requests} answered "
            f"but {answered} replies at the connector"
        )
    return Row(
        replicas=replicas,
        connections=connections,
        rate=result.rate,
        answered=answered,
        cpu_per_turn_ms=1000 * cpu / max(answered, 1),
        haproxy_per_turn_ms=1000 * haproxy / max(answered, 1),
        p99_ms=result.latency_ms.get("p99", 0.0),
    )


def best(
    store: DemoStore, work: Path, replicas: int, seconds: float, connections: list[int]
) -> Row:
    runs = [measure(store, work, replicas, seconds, c) for c in connections]
    return max(runs, key=lambda row: row.rate)


def table(rows: list[Row]) -> str:
    one = rows[0].rate if rows and rows[0].replicas == 1 else None
    lines = [
        "| replicas | turns/s | vs 1 replica | CPU per turn (replicas) | HAProxy CPU per turn "
        "| p99 | connections | turns answered |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = f"{row.rate / one:.2f}" if one else "—"
        lines.append(
            f"| {row.replicas} | {row.rate:,.1f} | {ratio} | {row.cpu_per_turn_ms:.1f} ms "
            f"| {row.haproxy_per_turn_ms:.2f} ms | {row.p99_ms:.0f} ms | {row.connections} "
            f"| {row.answered:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", default="4,16")
    parser.add_argument("--counts", default="1,2,3", help="replica counts to run")
    args = parser.parse_args(argv)
    connections = [int(c) for c in args.connections.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="waypoint-replicas-") as temp:
        work = Path(temp)
        with demo_store_on_postgres(work / "store") as store:
            for count in (int(c) for c in args.counts.split(",")):
                print(f"bench.replicas: {count} …", file=sys.stderr, flush=True)
                rows.append(best(store, work, count, args.seconds, connections))
    print(f"Category turns through HAProxy, PostgreSQL, {date.today()}, {os.cpu_count()} cores\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
