"""Profiles behind bench/README.md's findings, reproducible.

python -m bench.profile turn category|coaching [--connections N] [--seconds S]
    `waypoint serve` on the demo store under wrk, sampled by py-spy (the samples
    of the thread holding the GIL, i.e. CPU); prints turns/s, the server's CPU
    per turn, and the functions with the most samples, inclusive and self.
python -m bench.profile digests [--schools N] [--store sqlite|postgresql]
    compose_week on a synthetic trust under pyinstrument, with the time of each
    SQL statement.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench import wrk
from bench.procs import venv_command
from bench.store import category_activity, coaching_submit, prepare_demo_store, write_template
from bench.stores import migrated_store
from bench.synthetic import generate_trust
from bench.synthetic_shape import TrustShape
from bench.turn_servers import loopback_connector, waypoint_server
from bot.scheduled.digests import compose_week
from storage.engine import session_factory


def summarise(raw: Path, top: int) -> str:
    """py-spy's raw (collapsed) stacks as the functions with most samples."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)", ")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    lines = [f"{total} samples", "-- inclusive"]
    lines += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines += ["-- self"]
    lines += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top // 2)]
    return "\n".join(lines)


def profile_turn(kind: str, connections: int, seconds: float, top: int) -> None:
    with tempfile.TemporaryDirectory(prefix="waypoint-profile-") as temp:
        work = Path(temp)
        store = prepare_demo_store(work / "store")
        with loopback_connector(work) as connector:
            service_url = connector.url + "/"
            activity = (
                category_activity(service_url)
                if kind == "category"
                else coaching_submit(store, service_url)
            )
            template = write_template(work / f"{kind}.json", activity)
            with waypoint_server(store, work, "waypoint") as waypoint:
                url = waypoint.url + "/api/messages"
                wrk.run(url, [template], seconds=2, connections=connections)
                raw = work / "py-spy.txt"
                spy = subprocess.Popen(
                    [
                        venv_command("py-spy"),
                        "record",
                        "--pid",
                        str(waypoint.pid),
                        "--duration",
                        str(round(seconds)),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--output",
                        str(raw),
                        "--nonblocking",
                        "--gil",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                cpu = waypoint.cpu_seconds()
                result = wrk.run(url, [template], seconds=seconds, connections=connections)
                cpu = waypoint.cpu_seconds() - cpu
                spy.wait()
        print(
            f"{kind}, {connections} connections: {result.rate:.1f} turns/s, "
            f"p50 {result.latency_ms['p50']} ms, p99 {result.latency_ms['p99']} ms, "
            f"server CPU {1000 * cpu / max(1, result.requests):.1f} ms a turn"
        )
        print(summarise(raw, top))


async def profile_digests(store: str, schools: int) -> None:
    from pyinstrument import Profiler

    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="waypoint-profile-") as temp:
        async with migrated_store(store, Path(temp), "profile") as engine:
            sessions = session_factory(engine)
            trust = await generate_trust(
                sessions, shape=TrustShape(schools=schools), today=now.date()
            )
            if store == "postgresql":
                async with engine.connect() as conn:
                    await conn.execute(text("analyze"))
                    await conn.commit()
            await compose_week(sessions, trust_id=trust.trust_id, now=now - timedelta(days=7))
            timings: list[tuple[float, str]] = []

            def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                conn.info.setdefault("bench_started", []).append(time.perf_counter())

            def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                started = conn.info["bench_started"].pop()
                timings.append((time.perf_counter() - started, " ".join(statement.split())))

            event.listen(engine.sync_engine, "before_cursor_execute", before)
            event.listen(engine.sync_engine, "after_cursor_execute", after)
            profiler = Profiler(async_mode="enabled")
            profiler.start()
            started = time.perf_counter()
            run = await compose_week(sessions, trust_id=trust.trust_id, now=now)
            elapsed = time.perf_counter() - started
            profiler.stop()
    print(
        f"{run} in {elapsed:.3f} s; {len(timings)} statements, "
        f"{sum(t for t, _ in timings):.3f} s in the store"
    )
    for seconds, statement in sorted(timings, reverse=True)[:12]:
        print(f"{1000 * seconds:8.1f} ms  {statement[:100]} … {statement[-60:]}")
    print(profiler.output_text(unicode=False, color=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    turn = sub.add_parser("turn")
    turn.add_argument("kind", choices=("category", "coaching"))
    turn.add_argument("--connections", type=int, default=1)
    turn.add_argument("--seconds", type=float, default=10)
    turn.add_argument("--top", type=int, default=40)
    digests = sub.add_parser("digests")
    digests.add_argument("--schools", type=int, default=200)
    digests.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    if args.what == "turn":
        profile_turn(args.kind, args.connections, args.seconds, args.top)
    else:
        asyncio.run(profile_digests(args.store, args.schools))


if __name__ == "__main__":
    main()
