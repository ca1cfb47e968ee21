"""End to end in the Microsoft 365 Agents Playground, a Teams-like client nobody here wrote.

Waypoint serves a fresh demo store; the Playground (npm
@microsoft/m365agentsplayground, pinned in tools/package.json) talks to it as the
Teams channel does; playwright-core drives the Playground's web UI in Debian's
Chromium the way a person would (tools/browser/playground.mjs):

1. Nadia Okafor (adviser) records a note of visit at Oakfield Primary with two next steps;
2. Priya Shah (coach) types `log coaching`, fills the card, saves, sees the confirmation;
3. Marcus Bell (Oakfield's head) types `my actions`, marks one done, sees the card refresh.

The Playground speaks as its configured current user, so it is started once per person
with the config `make playground ROLE=…` writes for that role (bot/cli/playground.py),
on the demo store with its term of history (`waypoint demo`). Every process started
here is stopped by its id.

Run by `make e2e` (which sets WAYPOINT_E2E=1 and installs what it needs); skipped otherwise.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.playground import CONFIG_FILE
from bot.cli.playground import playground_config as config_for
from storage.demo import DEMO_USERS
from storage.models import Role
from tests.official import NODE_MODULES, ROOT, TOOLS, missing_browser_tools, need

PLAYGROUND = NODE_MODULES / "@microsoft" / "m365agentsplayground" / "cli.js"
DRIVER = TOOLS / "browser" / "playground.mjs"
ARTIFACTS = ROOT / "build" / "e2e"
START_TIMEOUT = 60.0
# How long a Playground with a bad config takes to give up after opening its port.
CONFIG_GRACE = 1.5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _process(
    command: list[str], *, cwd: Path, env: dict[str, str], name: str
) -> Iterator[subprocess.Popen[str]]:
    """A process in a session of its own, stopped (with anything it started) by its id."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        _stop(process, name)


def _stop(process: subprocess.Popen[str], name: str) -> None:
    if process.poll() is None:
        # The process leads its own group (start_new_session): its id names the group.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    else:
        # Children it left behind, if any, are still in its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    print(f"stopped {name} (pid {process.pid})")


class _Output:
    """A process's output, read on a thread so that the process never blocks on it."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # end of output
            self._changed.notify_all()

    def wait_for(self, pattern: str, process: subprocess.Popen[str], timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        found = re.compile(pattern)
        with self._changed:
            while True:
                for line in self.lines:
                    match = found.search(line)
                    if match:
                        return match.group(1)
                if process.poll() is not None and self._thread.is_alive() is False:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(min(remaining, 0.5))

    def text(self) -> str:
        return "\n".join(self.lines[-40:])


def _waypoint_env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update(
        WAYPOINT_DATABASE_URL=f"sqlite:///{database}",
        WAYPOINT_HOST="127.0.0.1",
        WAYPOINT_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"waypoint {' '.join(args)}: {done.stderr}"


def _wait_healthy(port: int, process: subprocess.Popen[str], output: _Output) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Waypoint exited with {process.returncode}:\n{output.text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"Waypoint did not answer /healthz within {START_TIMEOUT:.0f}s:\n{output.text()}")


def playground_config(directory: Path, role: Role) -> Path:
    """The Playground config `make playground ROLE=role` writes, in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CONFIG_FILE
    path.write_text(config_for(role), encoding="utf-8")
    return path


@contextlib.contextmanager
def playground(directory: Path, bot_port: int, *, name: str) -> Iterator[str]:
    """The Playground started in `directory` (where its config is); yields its address.

    It prints "Listening on N" before it reads its config, and a bad config then makes
    it exit 1 with the reason only in devTools/m365agentsplayground.log: that reason
    is what a failure here says.
    """
    env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none"}
    command = [
        "node",
        str(PLAYGROUND),
        "--app-endpoint",
        f"http://127.0.0.1:{bot_port}/api/messages",
        "--channel-id",
        "msteams",
        "--port",
        str(_free_port()),
        "--disable-telemetry",
    ]
    with _process(command, cwd=directory, env=env, name=name) as process:
        output = _Output(process)
        port = output.wait_for(r"Listening on (\d+)", process, START_TIMEOUT)
        if port is not None:
            # The config is read once the port is open; a bad one ends the process then.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=CONFIG_GRACE)
        if port is None or process.poll() is not None:
            pytest.fail(_playground_failure(directory, process, output))
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            if process.poll() is not None:
                print(_playground_failure(directory, process, output))


def _playground_failure(directory: Path, process: subprocess.Popen[str], output: _Output) -> str:
    log = directory / "devTools" / "m365agentsplayground.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    reasons = [line for line in lines if line.startswith("error ")] or lines[-10:]
    return (
        f"the Playground stopped (exit {process.poll()}); {log}:\n"
        + "\n".join(reasons)
        + f"\nits output:\n{output.text()}"
    )


def _as(role: Role, scenario: str, bot_port: int, workdir: Path, timings: dict[str, float]) -> None:
    started = time.monotonic()
    person = DEMO_USERS[role]
    directory = workdir / scenario
    playground_config(directory, role)
    with playground(directory, bot_port, name=f"the Playground as {person}") as url:
        driven = subprocess.run(
            ["node", str(DRIVER), url, scenario, str(ARTIFACTS)],
            cwd=TOOLS,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        print(driven.stdout, end="")
        assert driven.returncode == 0, f"{person} ({scenario}):\n{driven.stdout}{driven.stderr}"
    timings[f"{scenario} ({person})"] = time.monotonic() - started


def _stored(database: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sqlite3.connect(database) as db:
        sessions = db.execute(
            "select coach.display_name, coachee.display_name, s.action_step, s.status"
            " from coaching_session s"
            " join person coach on coach.id = s.coach_id"
            " join person coachee on coachee.id = s.coachee_id"
        ).fetchall()
        actions = db.execute(
            "select a.description, a.status from school_action a"
            " join school on school.id = a.school_id where school.name = 'Oakfield Primary'"
            " order by a.id"
        ).fetchall()
    return sessions, actions


def _end_to_end() -> None:
    if os.environ.get("WAYPOINT_E2E") != "1":
        pytest.skip("end to end in the Agents Playground: run `make e2e`")
    need(missing_browser_tools())


def test_the_playground_config_names_the_wanted_current_user(tmp_path: Path) -> None:
    for role in (Role.sia, Role.coach, Role.head):
        config = yaml.safe_load(playground_config(tmp_path / role, role).read_text("utf-8"))
        assert config["currentUser"]["name"] == DEMO_USERS[role]
        assert len(config["users"]) == 5


def test_a_bad_playground_config_fails_with_the_reason_from_its_log(tmp_path: Path) -> None:
    _end_to_end()
    config = yaml.safe_load(config_for(Role.head))
    config["users"] = config["users"][:4]
    (tmp_path / ".m365agentsplayground.yml").write_text(yaml.safe_dump(config), "utf-8")
    with (
        pytest.raises(pytest.fail.Exception, match="must NOT have fewer than 5 items"),
        playground(tmp_path, _free_port(), name="the Playground with a bad config"),
    ):
        pass


def test_adviser_coach_and_head_in_the_agents_playground(tmp_path: Path) -> None:
    _end_to_end()
    timings: dict[str, float] = {}
    started = time.monotonic()
    database = tmp_path / "waypoint.db"
    env = _waypoint_env(database)
    _cli(env, "db", "upgrade")
    _cli(env, "demo")
    timings["fresh demo store"] = time.monotonic() - started

    bot_port = _free_port()
    command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(bot_port)]
    with _process(command, cwd=ROOT, env=env, name="Waypoint") as waypoint:
        output = _Output(waypoint)
        _wait_healthy(bot_port, waypoint, output)
        for role, scenario in ((Role.sia, "adviser"), (Role.coach, "coach"), (Role.head, "head")):
            _as(role, scenario, bot_port, tmp_path, timings)

    # What the three of them added to the demo's term of history.
    sessions, actions = _stored(database)
    assert (
        "Priya Shah",
        "Liam Doherty",
        "Cold-call three pupils before taking hands up",
        "held",
    ) in sessions
    assert actions[-2:] == [
        ("Embed the phonics catch-up programme in Year 2", "done"),
        ("Share the attendance plan with governors", "open"),
    ]
    timings["total"] = time.monotonic() - started
    print("timings: " + ", ".join(f"{step} {seconds:.1f}s" for step, seconds in timings.items()))
