"""The servers the turn benchmarks load, and how a benchmark talks to them.

Each runs as a process of its own (bench/procs.py): the loopback connector, the relay
and the echo bot (bench/servers.py's apps), and `waypoint serve` on a demo store
(bench/store.py). A benchmark POSTs Teams-shaped activities to MESSAGES and reads
how many replies reached the connector (GET /stats). Used by bench/turns.py, and by
bench/footprint.py and bench/profile.py, which run the same servers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.procs import Server, free_port, python_server, serve, venv_command
from bench.store import DemoStore

MESSAGES = "/api/messages"


def posted_count(connector: Server) -> int:
    """How many activities have been posted to the loopback connector so far."""
    with urllib.request.urlopen(connector.url + "/stats", timeout=5) as response:
        posted: int = json.load(response)["posted"]
        return posted


def post_once(server: Server, activity: dict[str, Any]) -> tuple[int, bytes]:
    """POST one activity to the server's /api/messages: the HTTP status and body."""
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
