"""Several `waypoint serve` replicas on one store, HAProxy in front (deploy/haproxy.cfg).

Used by the cluster test (tests/cluster.py, `make cluster`) and the replica benchmark
(bench/replicas.py). Each replica is a process of its own on a port of its own, with
its digest scheduler and outbox sender running, as in production; HAProxy runs the
repository's config with these ports rendered into a copy. A replica can be killed
(`kill -9`), stopped (SIGTERM) and started again on its port while HAProxy keeps
serving.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import (
    REPO,
    Server,
    cpu_seconds,
    free_port,
    python_server,
    serve,
    stop,
    venv_command,
    wait_ready,
)

HAPROXY_CONFIG = REPO / "deploy" / "haproxy.cfg"


class HaproxyMissing(RuntimeError):
    pass


def haproxy_path() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found is None:
        raise HaproxyMissing(
            "haproxy is not installed: `apt-get install haproxy` (make cluster does, under CI)"
        )
    return found


def render_haproxy(
    front_port: int, replica_ports: list[int], stats_socket: Path | None = None
) -> str:
    """deploy/haproxy.cfg with these ports: its bind line and one server line a replica
    (and a stats socket, for reading its retry counts)."""
    text = HAPROXY_CONFIG.read_text()
    if stats_socket is not None:
        text = re.sub(r"(?m)^global$", f"global\n    stats socket {stats_socket}", text)
    text = re.sub(r"(?m)^(\s*bind )\S+$", rf"\g<1>127.0.0.1:{front_port}", text)
    servers = re.findall(r"(?m)^\s*server .*$", text)
    if not servers:
        raise RuntimeError(f"{HAPROXY_CONFIG} has no server lines")
    indent = servers[0][: len(servers[0]) - len(servers[0].lstrip())]
    rendered = "\n".join(
        f"{indent}server waypoint{i} 127.0.0.1:{port} check"
        for i, port in enumerate(replica_ports, start=1)
    )
    first = text.index(servers[0])
    last = text.index(servers[-1]) + len(servers[-1])
    return text[:first] + rendered + text[last:]


@dataclass
class Replica:
    index: int
    port: int
    server: Server | None = None
    # CPU used by the earlier processes of this replica (before a kill or restart).
    spent_cpu: float = 0.0
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        live = cpu_seconds(self.server.pid) if self.server and self.alive() else 0.0
        return self.spent_cpu + live

    def alive(self) -> bool:
        return self.server is not None and self.server.process.poll() is None


@dataclass
class Cluster:
    env: Mapping[str, str]
    work: Path
    front_port: int
    replicas: list[Replica]
    haproxy: Server | None = None
    _cpu_at_exit: dict[int, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.front_port}"

    def start(self, index: int) -> float:
        """Start replica `index` (again) on its port; seconds until /healthz answered."""
        replica = self.replicas[index]
        started = time.perf_counter()
        replica.starts += 1
        log_path = self.work / f"waypoint{index + 1}.{replica.starts}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    venv_command("waypoint"),
                    "serve",
                    "--port",
                    str(replica.port),
                    "--metrics-port",
                    "0",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=REPO,
            )
        replica.server = Server(f"waypoint{index + 1}", process, replica.port, started, log_path)
        wait_ready(replica.server, "/healthz", within=30.0, poll=0.05)
        return time.perf_counter() - started

    def signal(self, index: int, sig: signal.Signals) -> None:
        replica = self.replicas[index]
        assert replica.server is not None
        # Read its CPU while the process is still there to read.
        replica.spent_cpu += cpu_seconds(replica.server.pid)
        replica.server.process.send_signal(sig)

    def wait_exit(self, index: int, within: float = 20.0) -> int:
        replica = self.replicas[index]
        assert replica.server is not None
        return replica.server.process.wait(within)

    def cpu(self) -> float:
        return sum(r.cpu() for r in self.replicas)

    def haproxy_cpu(self) -> float:
        return cpu_seconds(self.haproxy.pid) if self.haproxy else 0.0

    def haproxy_retries(self) -> dict[str, int]:
        """HAProxy's own counts for the backend: retries, redispatches, errors."""
        wanted = {"wretr": "retries", "wredis": "redispatches", "eresp": "response errors"}
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.work / "haproxy.sock"))
            sock.sendall(b"show stat\n")
            raw = b"".join(iter(lambda: sock.recv(65536), b"")).decode()
        lines = raw.lstrip("# ").splitlines()
        header = lines[0].split(",")
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("svname") == "BACKEND":
                return {name: int(row.get(key) or 0) for key, name in wanted.items()}
        return {}

    def stop_all(self) -> None:
        for replica in self.replicas:
            if replica.server is not None and replica.alive():
                stop(replica.server.process)


@contextmanager
def cluster(env: Mapping[str, str], work: Path, replicas: int = 3) -> Iterator[Cluster]:
    """`replicas` replicas of `waypoint serve` with `env` (its store), HAProxy in front."""
    work.mkdir(parents=True, exist_ok=True)
    ports = [free_port() for _ in range(replicas)]
    front = free_port()
    config = work / "haproxy.cfg"
    config.write_text(render_haproxy(front, ports, work / "haproxy.sock"))
    running = Cluster(env, work, front, [Replica(i, port) for i, port in enumerate(ports)])
    with ExitStack() as stack:
        stack.callback(running.stop_all)
        for index in range(replicas):
            running.start(index)
        running.haproxy = stack.enter_context(
            serve("haproxy", [haproxy_path(), "-db", "-f", str(config)], port=front, log_dir=work)
        )
        yield running


@contextmanager
def recording_connector(work: Path) -> Iterator[Server]:
    """bench/servers.py's `recorder`: every reply and proactive message, counted."""
    port = free_port()
    with serve("recorder", python_server("recorder", port), port=port, log_dir=work) as server:
        yield server
