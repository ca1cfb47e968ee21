"""The benchmarks (bench/, `make bench`) at tiny sizes, so their code cannot rot.

No figure is asserted: speed is measured by `make bench`, never by a test. What is
asserted is what the benchmarks check of themselves (every reply reached the
connector, every submit stored a session, every digest queued and sent once) and
that each section reports its figures. wrk is Debian's; without it the load runs
are skipped and everything else still runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from bench import delivery, digests, footprint, turn_measure, turn_servers, turns
from bench.__main__ import main as bench_main
from bench.results import Results, table
from bench.store import (
    category_activity,
    coaching_sessions,
    coaching_submit,
    echo_activity,
    fill,
    prepare_demo_store,
)
from bench.stores import postgres_problem

needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (make bench installs it under CI)"
)


def _postgres_here() -> bool:
    """Whether the PostgreSQL halves ran (under CI they must have: as tests/conftest.py)."""
    problem = asyncio.run(postgres_problem())
    if problem and os.environ.get("CI"):
        pytest.fail(f"CI needs PostgreSQL for the benchmarks' smoke run: {problem}")
    return problem is None


def _names(results: Results) -> list[str]:
    return [f.name for f in results.figures]


def test_each_server_answers_the_benchmarks_activities(tmp_path: Path) -> None:
    """Without wrk: the relay, the echo bot and `waypoint serve` each answer one of
    the activities the load runs send, and the reply reaches the loopback connector."""
    store = prepare_demo_store(tmp_path / "store")
    with turn_servers.loopback_connector(tmp_path) as connector:
        service_url = connector.url + "/"
        with turn_servers.python_bench_server("relay", tmp_path) as relay:
            status, _ = turn_servers.post_once(relay, fill(echo_activity(service_url), "1" * 32))
            assert status == 201
        with turn_servers.python_bench_server("echo", tmp_path) as echo:
            status, _ = turn_servers.post_once(echo, fill(echo_activity(service_url), "2" * 32))
            assert status in (200, 201)
            # botbuilder 4.17.1's known fault, which the benchmark reports.
            status, _ = turn_servers.post_once(
                echo, fill(echo_activity(service_url, expect_replies=True), "3" * 32)
            )
            assert status == 500
        assert turn_measure.settled(lambda: turn_servers.posted_count(connector)) == 2

        with turn_servers.waypoint_server(store, tmp_path, "waypoint") as waypoint:
            status, _ = turn_servers.post_once(
                waypoint, fill(category_activity(service_url), "4" * 32)
            )
            assert status == 201
            sessions_before = coaching_sessions(store)
            status, _ = turn_servers.post_once(
                waypoint, fill(coaching_submit(store, service_url), "5" * 32)
            )
            assert status == 201
            assert coaching_sessions(store) == sessions_before + 1
            status, body = turn_servers.post_once(
                waypoint, fill(category_activity(service_url, expect_replies=True), "6" * 32)
            )
            assert status == 200
            card = json.loads(body)["activities"][0]["attachments"][0]["content"]
            assert "Oakfield Primary" in json.dumps(card)
        assert turn_measure.settled(lambda: turn_servers.posted_count(connector)) == 4


@needs_wrk
def test_turns_run_at_tiny_size(tmp_path: Path) -> None:
    results = Results(smoke=True)
    turns.run_turns(results, tmp_path, turns.SMOKE)
    names = _names(results)
    for expected in (
        "(a) bare aiohttp relay",
        "(b) stock botbuilder echo bot",
        "(c) Waypoint category",
        "(d) Waypoint coaching save",
        "(b) echo bot, expectReplies",
    ):
        assert expected in names
    assert any(name.startswith("(c) category p99 at") for name in names)
    assert any(name.startswith("(d) coaching save p99 at") for name in names)
    if _postgres_here():
        assert "(c) category, on PostgreSQL" in names
    echo_expect = next(f for f in results.figures if f.name == "(b) echo bot, expectReplies")
    assert echo_expect.value is None and "HTTP 500" in echo_expect.note
    # CPU per turn beside throughput: each server's, against the echo bot's, with the
    # category's target evaluated.
    cpu = {f.name: f for f in results.figures if f.name.endswith(", CPU per turn")}
    for server in ("(a) relay", "(b) echo bot", "(c) Waypoint category"):
        figure = cpu[f"{server}, CPU per turn"]
        assert figure.unit == "ms" and figure.value is not None and figure.value > 0
        assert figure.detail["turns"] > 0 and figure.detail["cpu_s"] > 0
    category = cpu["(c) Waypoint category, CPU per turn"]
    assert category.baseline == cpu["(b) echo bot, CPU per turn"].value
    assert category.target == "≤ 0.2 × (b)" and category.met is not None
    assert (cpu["(d) Waypoint coaching save, CPU per turn"].value or 0) > 0
    if _postgres_here():
        assert (cpu["(c) category, on PostgreSQL, CPU per turn"].value or 0) > 0
    assert "CPU per turn" in table(results)


def test_digests_compose_at_tiny_size(tmp_path: Path) -> None:
    results = Results(smoke=True)
    digests.run_digests(results, tmp_path, digests.SMOKE)
    stores = ["sqlite", "postgresql"] if _postgres_here() else ["sqlite"]
    for store in stores:
        composed = next(
            f for f in results.figures if f.name.startswith("all digests") and store in f.name
        )
        # Two trust leads and one head per school.
        assert composed.note == f"{digests.SMOKE.schools[-1] + 2} digests queued"
        counted = next(
            f for f in results.figures if f.name.startswith("SQL statements") and store in f.name
        )
        assert counted.value and counted.baseline


def test_delivery_sends_each_digest_once_at_tiny_size(tmp_path: Path) -> None:
    results = Results(smoke=True)
    delivery.run_delivery(results, tmp_path, delivery.SMOKE)
    sent = results.section("delivery")
    assert len(sent) == (2 if _postgres_here() else 1)
    for figure in sent:
        queued = figure.detail["queued"]
        assert queued == 2 * delivery.SMOKE.people
        assert figure.detail["statuses"] == {"sent": queued}
        assert figure.detail["received"] == queued
        assert figure.note.startswith("lost 0, twice 0")


@needs_wrk
def test_footprint_at_tiny_size(tmp_path: Path) -> None:
    results = Results(smoke=True)
    footprint.run_footprint(results, tmp_path, footprint.SMOKE)
    start = next(f for f in results.figures if f.name == "start → first answered turn")
    assert start.value and start.baseline
    rss = [f for f in results.figures if f.name.startswith("RSS after")]
    assert rss and rss[0].value


def test_the_command_writes_its_table_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    assert bench_main(["--smoke", "--only", "delivery", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["smoke"] is True and written["machine"]["nproc"]
    assert written["figures"][0]["ratio"] is not None
    printed = capsys.readouterr().out
    assert "| figure | value | baseline | ratio | target |" in printed
    assert table(Results()).startswith("| figure |")
