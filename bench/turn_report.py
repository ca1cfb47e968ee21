"""The turn benchmarks' figures: each server's measurements against their baselines.

From what bench/turns.py measured, keyed a, b, c, d (relay, echo bot, Waypoint
category, Waypoint coaching save), with x for expectReplies and _pg for PostgreSQL,
and the paced runs keyed c, d and a@c, a@d (the relay at c's and d's rate): the
throughputs against the relay (a) and the echo bot (b), the p99s at half the maximum
against the relay's at the same rate, each with its target where it has one. And
each server's CPU per turn in its best run (bench/turn_measure.py), against the echo
bot's: steadier than turns/s on a shared machine, since it does not count the time a
server waits for a core.
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
    report_cpu(results, m)
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


# The target of issue 18: a category turn costs at most a fifth of the echo bot's CPU.
CPU_TARGET = 0.2


def report_cpu(results: Results, m: dict[str, Measured]) -> None:
    """CPU milliseconds per turn of each server's best run, against the echo bot's."""
    a, b = m["a"].cpu_per_turn_ms, m["b"].cpu_per_turn_ms
    results.add(
        Figure(SECTION, "(a) relay, CPU per turn", a, "ms", note="the floor", detail=_cpu("a", m))
    )
    results.add(
        Figure(
            SECTION,
            "(b) echo bot, CPU per turn",
            b,
            "ms",
            "(a)",
            a,
            detail=_cpu("b", m),
        )
    )
    for key, label, note in (
        ("c", "(c) Waypoint category", ""),
        ("d", "(d) Waypoint coaching save", ""),
        ("c_pg", "(c) category, on PostgreSQL", "Waypoint's process only: not PostgreSQL's"),
        ("d_pg", "(d) coaching save, on PostgreSQL", "Waypoint's process only: not PostgreSQL's"),
    ):
        if key not in m:
            continue
        value = m[key].cpu_per_turn_ms
        has_target = key in ("c", "c_pg")
        results.add(
            Figure(
                SECTION,
                f"{label}, CPU per turn",
                value,
                "ms",
                "(b)",
                b,
                target=f"≤ {CPU_TARGET:g} × (b)" if has_target else None,
                met=(value is not None and b is not None and value <= CPU_TARGET * b)
                if has_target
                else None,
                note=note,
                detail=_cpu(key, m),
            )
        )


def _cpu(key: str, m: dict[str, Measured]) -> dict[str, Any]:
    measured = m[key]
    return {
        "cpu_s": measured.cpu_s,
        "turns": measured.best.requests if measured.best else None,
        "counted": "wrk's completed requests (all 2xx) over the same window as the CPU",
    }
