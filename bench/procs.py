"""Processes under test: start them, wait until they answer, read their memory, stop them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def venv_command(name: str) -> str:
    """A console script installed beside this interpreter (the venv's `waypoint`)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    started_at: float
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def rss_kib(pid: int) -> int:
    """The process's resident set (VmRSS in /proc/PID/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process (all its threads) has used so far: fields 14
    and 15 of /proc/PID/stat, in clock ticks. 0 once the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) is in parentheses and may hold spaces.
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(server: Server, path: str, *, within: float = 30.0, poll: float = 0.01) -> float:
    """Poll GET `path` until it answers 200; the time it first did (perf_counter)."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.url + path, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(poll)
    raise RuntimeError(f"{server.name} did not answer {path} within {within:g}s")


@contextmanager
def serve(
    name: str,
    command: list[str],
    *,
    port: int,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ready_path: str | None = "/healthz",
) -> Iterator[Server]:
    """Run `command` (which listens on `port`) for the block; stop it afterwards."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    # Servers measured side by side: none takes the metrics port unless asked to.
    merged = {"WAYPOINT_METRICS_PORT": "0", **os.environ, **(env or {})}
    with log_path.open("wb") as log:
        started_at = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=merged, cwd=cwd or REPO
        )
    server = Server(name, process, port, started_at, log_path)
    try:
        if ready_path is not None:
            wait_ready(server, ready_path)
        yield server
    finally:
        stop(server.process)


def stop(process: subprocess.Popen[bytes], *, within: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def python_server(kind: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bench.servers", kind, "--port", str(port)]
