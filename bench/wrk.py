"""Running wrk with bench/lua's scripts, and reading what it measured."""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
MARK = "WRK_RESULT "


class WrkMissing(RuntimeError):
    pass


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing("wrk is not installed: `apt-get install wrk` (make bench does, under CI)")
    return found


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: dict[str, int]
    latency_ms: dict[str, float]
    # Set for a paced run: what was asked for.
    target_rate: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            "target_rate": self.target_rate,
            "errors": self.errors,
            "latency_ms": self.latency_ms,
        }


def _parse(output: str, target_rate: float | None) -> WrkResult:
    for line in output.splitlines():
        if line.startswith(MARK):
            raw = json.loads(line[len(MARK) :])
            return WrkResult(
                requests=int(raw["requests"]),
                seconds=raw["duration_us"] / 1e6,
                errors={k: int(v) for k, v in raw["errors"].items()},
                latency_ms={k: round(v / 1000, 3) for k, v in raw["latency_us"].items()},
                target_rate=target_rate,
            )
    raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")


def _catches_sigint(pid: int) -> bool:
    """Whether wrk has installed its SIGINT handler (before that, SIGINT kills it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


def run(
    url: str,
    templates: Sequence[Path],
    *,
    seconds: float,
    connections: int,
    rate: float | None = None,
    threads: int = 1,
    until: Callable[[], bool] | None = None,
) -> WrkResult:
    """Load `url` with the templates for `seconds` (as fast as it answers, or at `rate`/s).

    `until`, polled while wrk runs, ends the run early when it returns True.
    """
    script = LUA / ("paced.lua" if rate else "turns.lua")
    args = [str(rate / threads)] if rate else []
    args += [secrets.token_hex(4), *(str(t) for t in templates)]
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        "--",
        *args,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if until is not None:
        while process.poll() is None:
            if until() and _catches_sigint(process.pid):
                # wrk's main thread sleeps out -d; SIGINT ends the sleep, and it reports.
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output[-2000:]}")
    return _parse(output, rate)
