"""The cluster run: three replicas behind HAProxy on one PostgreSQL, one killed under load.

    python -m tests.cluster          # `make cluster`; tests/test_cluster.py runs it under CI

The demo trust in a PostgreSQL schema of its own; three `waypoint serve` replicas,
each with its digest scheduler (ticking every 2 s) and outbox sender, all pointed at
one recording connector (bench/servers.py's `recorder`, Teams-shaped); HAProxy in
front with deploy/haproxy.cfg (bench/cluster.py). The trust's digest slot is set to
the first whole minute at least 20 s after the load starts, so the week's digests
fall due while it runs. Then about a minute of Teams-shaped traffic through HAProxy
(tests/cluster_load.py), during which one replica is killed with SIGKILL and started
again, and another is sent SIGTERM and started again. What is printed and checked
is in `check` below.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.cluster import Cluster, cluster, recording_connector
from bench.procs import Server
from bench.servers import message_key
from bench.store import DemoStore, demo_store_on_postgres
from cards.render import attachment
from storage.digests import SCHOOL_DIGEST, TRUST_DIGEST, week_period
from storage.engine import create_engine
from tests.cluster_load import Load, Sent

# Seconds of load at least; the digest slot is the first whole minute at least
# BEFORE_SLOT s into it (so 15-75 s), and the load goes on AFTER_SLOT s past it.
LOAD_SECONDS = 45.0
BEFORE_SLOT = AFTER_SLOT = 15.0
KILL_AT, RESTART_KILLED_AT, TERM_AT = 10.0, 13.0, 30.0
DIGEST_ZONE = ZoneInfo("Europe/London")


@dataclass
class Report:
    lines: list[str]
    problems: list[str]

    def figure(self, line: str) -> None:
        self.lines.append(line)

    def expect(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


async def _sql(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []
    finally:
        await engine.dispose()


def sql(store: DemoStore, query: str, **params: Any) -> list[Any]:
    return asyncio.run(_sql(store.url, query, **params))


def set_digest_slot(store: DemoStore, at: datetime) -> datetime:
    """The trust's digest slot at the first whole minute from `at` (its own time zone)."""
    local = at.astimezone(DIGEST_ZONE)
    slot = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
    sql(
        store,
        "update trust set digest_weekday = :day, digest_time = :time, "
        "digest_timezone = :zone where id = :id",
        day=slot.weekday(),
        time=slot.strftime("%H:%M"),
        zone=str(DIGEST_ZONE),
        id=store.trust_id,
    )
    return slot


def chaos(run: Cluster, started: float, events: list[str], exits: dict[str, int]) -> None:
    """kill -9 one replica and start it again; SIGTERM another and start it again."""

    def at(offset: float) -> None:
        time.sleep(max(0.0, started + offset - time.monotonic()))

    at(KILL_AT)
    run.signal(1, signal.SIGKILL)
    code = run.wait_exit(1)
    events.append(f"{time.monotonic() - started:5.1f} s  kill -9 waypoint2 (exit {code})")
    at(RESTART_KILLED_AT)
    took = run.start(1)
    events.append(f"{time.monotonic() - started:5.1f} s  waypoint2 started again ({took:.1f} s)")
    at(TERM_AT)
    run.signal(2, signal.SIGTERM)
    sent = time.monotonic()
    code = run.wait_exit(2, within=30.0)
    exits["SIGTERM"] = code
    events.append(
        f"{sent - started:5.1f} s  SIGTERM waypoint3: exit {code} after "
        f"{time.monotonic() - sent:.1f} s"
    )
    took = run.start(2)
    events.append(f"{time.monotonic() - started:5.1f} s  waypoint3 started again ({took:.1f} s)")


def connector_stats(connector: Server) -> dict[str, Any]:
    with urllib.request.urlopen(connector.url + "/stats", timeout=5) as response:
        stats: dict[str, Any] = json.load(response)
        return stats


def settle_outbox(store: DemoStore, within: float = 20.0) -> list[Any]:
    """Wait until no delivery is being sent or due (waiting ones stay waiting)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        busy = sql(
            store,
            "select count(*) from delivery where status in ('pending', 'sending') and attempts < 3",
        )[0][0]
        if not busy:
            break
        time.sleep(0.5)
    return sql(
        store,
        "select d.id, d.kind, d.period, d.recipient_id, d.status, d.payload, c.conversation_id "
        "from delivery d left join conversation_ref c on c.person_id = d.recipient_id "
        "and c.trust_id = d.trust_id and c.conversation_type = 'personal' "
        "and c.service_url != ''",
    )


def delivery_key(row: Any) -> str:
    payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
    activity: dict[str, Any] = {}
    if payload.get("text"):
        activity["text"] = payload["text"]
    if payload.get("card"):
        activity["attachments"] = [attachment(payload["card"])]
    return message_key(row.conversation_id, activity)


def check(
    store: DemoStore,
    load: Load,
    stats: dict[str, Any],
    deliveries: list[Any],
    period: str,
    haproxy: dict[str, int],
) -> Report:
    report = Report([], [])
    replies: dict[str, int] = stats["replies"]
    proactive: dict[str, int] = stats["proactive"]
    acknowledged = [s for s in load.sent if s.acknowledged]
    by_kind = Counter(s.kind for s in acknowledged)
    report.figure(
        "requests acknowledged: "
        + ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items()))
        + f" (HTTP requests {load.requests})"
    )
    report.expect(len(acknowledged) == len(load.sent), "a request was never acknowledged")

    # Every submission stored exactly once.
    for table, kind in (("coaching_session", "coaching save"), ("qa_summary", "QA submission")):
        forms = [s.form_id for s in acknowledged if s.kind == kind and s.form_id]
        stored = Counter(
            row[0]
            for row in sql(
                store, f"select form_id from {table} where trust_id = :t", t=store.trust_id
            )
        )
        lost = sum(1 for f in forms if stored[f] == 0)
        twice = sum(1 for f in forms if stored[f] > 1)
        report.figure(f"{kind}s: acknowledged {len(forms)}, lost {lost}, twice {twice}")
        report.expect(forms != [], f"no {kind} was sent")
        report.expect(lost == 0 and twice == 0, f"{kind}s lost {lost}, twice {twice}")

    # Every activity (redelivered ones too) answered once: its replies at the connector.
    unanswered = [s for s in acknowledged if replies.get(s.activity_id, 0) == 0]
    answered_twice = [s for s in acknowledged if replies.get(s.activity_id, 0) > 1]
    redelivered = [s for s in acknowledged if s.redelivered]
    redelivered_twice = [s for s in redelivered if replies.get(s.activity_id, 0) != 1]
    report.figure(
        f"activities answered: {len(acknowledged) - len(unanswered)} of {len(acknowledged)}, "
        f"lost {len(unanswered)}, twice {len(answered_twice)}"
    )
    report.figure(
        f"redelivered to two replicas at once: {len(redelivered)}, handled once "
        f"{len(redelivered) - len(redelivered_twice)}"
    )
    claimed = {
        row[0]
        for row in sql(store, "select activity_id from processed_activity")
        if row[0] in {s.activity_id for s in unanswered}
    }
    report.expect(
        not unanswered,
        f"unanswered: {_sample(unanswered)}; {len(claimed)} of them claimed in "
        "processed_activity, so a retry after the replica handling them died was taken "
        "for a redelivery and dropped",
    )
    report.expect(not answered_twice, f"answered twice: {_sample(answered_twice)}")
    report.expect(redelivered != [], "nothing was redelivered")

    # The week's digests: composed once, one delivery each, delivered once.
    runs = sql(
        store,
        "select count(*), coalesce(sum(queued), 0) from digest_run "
        "where trust_id = :t and period = :p",
        t=store.trust_id,
        p=period,
    )[0]
    digests = [
        d
        for d in deliveries
        if d.kind in (TRUST_DIGEST, SCHOOL_DIGEST) and d.period.split("/")[0] == period
    ]
    per_recipient = Counter((d.kind, d.recipient_id) for d in digests)
    received = [proactive.get(delivery_key(d), 0) for d in digests if d.conversation_id]
    report.figure(
        f"digests for {period}: composed {runs[0]} time(s), {len(digests)} queued for "
        f"{len(per_recipient)} readers, delivered once {received.count(1)}, "
        f"lost {received.count(0)}, twice {sum(1 for n in received if n > 1)}"
    )
    report.expect(runs[0] == 1, f"the week's digests were composed {runs[0]} times")
    report.expect(digests != [], "no digest was queued")
    report.expect(all(n == 1 for n in per_recipient.values()), "a reader's digest queued twice")
    report.expect(
        len(received) == len(digests) and all(n == 1 for n in received),
        f"digests delivered: {received}",
    )

    # The outbox: nothing sent twice (each message's copies at the connector against
    # its rows sent, or unconfirmed when a sender died mid-send).
    rows: Counter[str] = Counter()
    sent_rows: Counter[str] = Counter()
    for d in deliveries:
        if d.conversation_id and d.status in ("sent", "unconfirmed"):
            rows[delivery_key(d)] += 1
            sent_rows[delivery_key(d)] += d.status == "sent"
    twice = sum(max(0, n - rows[key]) for key, n in proactive.items())
    missing = sum(max(0, n - proactive.get(key, 0)) for key, n in sent_rows.items())
    statuses = Counter(d.status for d in deliveries)
    report.figure(
        f"outbox: {sum(proactive.values())} messages at the connector; rows "
        + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items()))
        + f"; sent twice {twice}, marked sent but never arrived {missing}"
    )
    report.expect(twice == 0, f"{twice} outbox messages arrived twice")
    report.expect(missing == 0, f"{missing} outbox rows marked sent never arrived")

    # Failed requests: each one Teams retries (5xx, dropped, timed out), each retried.
    failures = Counter(f"{f.reason} {f.route}" for f in load.failures)
    how = ", ".join(f"{n} {reason}" for reason, n in sorted(failures.items()))
    report.figure(
        f"requests failed: {len(load.failures)}{f' ({how})' if how else ''}; retried "
        f"through HAProxy and answered {sum(1 for f in load.failures if f.retried_ok)}"
    )
    report.figure(
        "HAProxy sent on to another replica itself: "
        + ", ".join(f"{name} {n}" for name, n in haproxy.items())
    )
    report.expect(not load.refused, f"answers Teams would not retry: {load.refused[:5]}")
    report.expect(all(f.retried_ok for f in load.failures), "a failed request's retry failed")
    return report


def _sample(sent: list[Sent]) -> str:
    return ", ".join(f"{s.kind} {s.activity_id}" for s in sent[:5]) + (
        f" … ({len(sent)})" if len(sent) > 5 else ""
    )


def run_cluster(work: Path) -> Report:
    """The whole run; its report (figures and problems)."""
    started_all = time.monotonic()
    with (
        recording_connector(work) as connector,
        demo_store_on_postgres(work / "store") as store,
    ):
        env = {
            **store.env(),
            "WAYPOINT_SCHEDULER_EVERY": "2",
        }
        with cluster(env, work / "cluster") as run:
            load = Load(run, store, connector.url)
            asyncio.run(load.install_digest_readers())
            started = time.monotonic()
            slot = set_digest_slot(store, datetime.now(UTC) + timedelta(seconds=BEFORE_SLOT))
            seconds = max(LOAD_SECONDS, (slot - datetime.now(UTC)).total_seconds() + AFTER_SLOT)
            events: list[str] = [
                f"digest slot {slot:%a %H:%M} ({DIGEST_ZONE}); load {seconds:.0f} s"
            ]
            exits: dict[str, int] = {}
            chaos_thread = threading.Thread(target=chaos, args=(run, started, events, exits))
            chaos_thread.start()
            asyncio.run(load.run(seconds))
            chaos_thread.join()
            period = week_period(slot.date())
            deliveries = settle_outbox(store)
            stats = connector_stats(connector)
            haproxy = run.haproxy_retries()
        report = check(store, load, stats, deliveries, period, haproxy)
        # Graceful shutdown: SIGTERM ends a replica with exit 0, its turns finished.
        report.expect(exits.get("SIGTERM") == 0, f"SIGTERM exit code {exits.get('SIGTERM')}")
    report.lines[:0] = events
    report.figure(f"whole run {time.monotonic() - started_all:.0f} s")
    return report


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="waypoint-cluster-") as temp:
        report = run_cluster(Path(temp))
    for line in report.lines:
        print(f"cluster: {line}")
    for problem in report.problems:
        print(f"cluster: PROBLEM: {problem}")
    print("cluster: " + ("FAILED" if report.problems else "all checks passed"))
    return 1 if report.problems else 0


if __name__ == "__main__":
    os.environ.setdefault("WAYPOINT_LOG_LEVEL", "WARNING")
    sys.exit(main())
