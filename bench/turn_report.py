"""The turn benchmarks' figures: each server's measurements against their baselines.

From what bench/turns.py measured, keyed a, b, c, d (relay, echo bot, Waypoint
category, Waypoint coaching save), with x for expectReplies and _pg for PostgreSQL,
and the paced runs keyed c, d and a@c, a@d (the relay at c's and d's rate): the
throughputs against the relay (a) and the echo bot (b), the p99s at half the maximum
against the relay's at the same rate, each with its target where it has one.
"""

from __future__ import annotations

from typing import Any

from bench import wrk
from bench.results import Figure, Results
from bench.turn_measure import Measured

SECTION = "turns"


def report_turns(results: Results, m: dict[str, Measured], paced: dict[str, wrk.WrkResult]) -> None:
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
