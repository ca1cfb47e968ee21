"""End to end in the Microsoft 365 Agents Playground, a Teams-like client nobody here wrote.

Waypoint serves a fresh demo store; the Playground (npm
@microsoft/m365agentsplayground, pinned in tools/package.json) talks to it as the
Teams channel does; playwright-core drives the Playground's web UI in Debian's
Chromium the way a person would (tools/browser/playground.mjs):

1. Nadia Okafor (adviser) records a note of visit at Oakfield Primary with two next steps;
2. Priya Shah (coach) types `log coaching`, fills the card, saves, sees the confirmation;
3. Marcus Bell (Oakfield's head) types `my actions`, marks one done, sees the card refresh;
4. Zoë Fairbairn (Oakfield's maths lead) types `qa`, fills the card, submits;
5. Liam Doherty (a teacher at Oakfield) types `raise concern`, fills the card, raises it.

The Playground speaks as its configured current user, so it is started once per person
with the config `make playground ROLE=…` writes for that role (bot/cli/playground.py),
on the demo store with its term of history (`waypoint demo`). Every process started
here is stopped by its id.

Staff effort: the driver counts every message typed, field filled and button pressed
(all go through its `Job` helper) and the seconds from the command to the confirmation,
one `EFFORT {json}` line per job. The test prints the table (README "Staff effort") and
holds every job to its command plus one card, and the coaching log to 60 seconds.
The store gets six terms around today (`terms_around`) so that a QA window is open
whatever the date: the subject lead's job never meets "no term is open".

Run by `make e2e` (which sets WAYPOINT_E2E=1 and installs what it needs); skipped otherwise.
"""

from __future__ import annotations

import contextlib
import json
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
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.playground import CONFIG_FILE
from bot.cli.playground import playground_config as config_for
from storage.academic_calendar import QaOpen, QaSettings, Term, qa_period_on, qa_windows
from storage.demo import DEMO_TENANT_ID, DEMO_USERS
from storage.models import Role
from tests.official import NODE_MODULES, ROOT, TOOLS, missing_browser_tools, need

PLAYGROUND = NODE_MODULES / "@microsoft" / "m365agentsplayground" / "cli.js"
DRIVER = TOOLS / "browser" / "playground.mjs"
ARTIFACTS = ROOT / "build" / "e2e"
START_TIMEOUT = 60.0
# How long a Playground with a bad config takes to give up after opening its port.
CONFIG_GRACE = 1.5
# Who does which job, in this order (the head marks done an action the adviser set).
PEOPLE = (
    (Role.sia, "adviser"),
    (Role.coach, "coach"),
    (Role.head, "head"),
    (Role.subject_lead, "subject-lead"),
    (Role.teacher, "teacher"),
)
# The goal for a first-time user.
COACHING_LOG_SECONDS = 60.0


@dataclass(frozen=True)
class Effort:
    """One job as the driver measured it (an `EFFORT {json}` line)."""

    job: str
    person: str
    messages: int
    fields: int
    buttons: int
    cards: tuple[str, ...]
    seconds: float

    @classmethod
    def parse(cls, stdout: str, person: str) -> list[Effort]:
        found = []
        for line in stdout.splitlines():
            if line.startswith("EFFORT "):
                row = json.loads(line.removeprefix("EFFORT "))
                found.append(
                    cls(
                        job=row["job"],
                        person=person,
                        messages=row["messages"],
                        fields=row["fields"],
                        buttons=row["buttons"],
                        cards=tuple(row["cards"]),
                        seconds=row["seconds"],
                    )
                )
        return found

    def problems(self) -> list[str]:
        """Why this job is more than its command plus one card (none if it is not)."""
        wanted = [
            (self.messages == 1, f"{self.messages} messages typed, not 1"),
            (len(self.cards) == 1, f"interactions on {len(self.cards)} cards: {self.cards}"),
            (self.buttons == 1, f"{self.buttons} buttons pressed, not 1 (the card's submit)"),
        ]
        return [f"{self.job}: {why}" for ok, why in wanted if not ok]


def effort_table(efforts: list[Effort]) -> str:
    """The staff-effort table in Markdown, as the README shows it."""
    lines = [
        "| job | who | messages typed | fields filled | buttons pressed | seconds |",
        "|---|---|--:|--:|--:|--:|",
    ]
    lines += [
        f"| {e.job} | {e.person} | {e.messages} | {e.fields} | {e.buttons} | {e.seconds:.1f} |"
        for e in efforts
    ]
    return "\n".join(lines)


def terms_around(today: date) -> str:
    """Six terms filling `today`'s academic year, for a QA window open on any day.

    With windows from 8 weeks before a term ends to 8 after, terms about 9 weeks long
    leave no day between windows: the subject lead's job runs whatever the date.
    """
    start = today.year if today.month >= 9 else today.year - 1
    first, last = date(start, 8, 1), date(start + 1, 8, 31)
    ends = [first + (last - first) * k // 6 for k in range(1, 7)]
    starts = [first, *(end + timedelta(days=1) for end in ends[:-1])]
    year = f"{start}-{(start + 1) % 100:02d}"
    rows = [
        f"{year},Term {n},{a},{b}" for n, (a, b) in enumerate(zip(starts, ends, strict=True), 1)
    ]
    return "\n".join(["academic_year,term,starts,ends", *rows]) + "\n"


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
        WAYPOINT_METRICS_PORT="0",
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


def _as(
    role: Role, scenario: str, bot_port: int, workdir: Path, timings: dict[str, float]
) -> list[Effort]:
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
    efforts = Effort.parse(driven.stdout, person)
    assert len(efforts) == 1, f"{person} ({scenario}): one job measured, got {efforts}"
    return efforts


def _stored(database: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(query).fetchall()


def _end_to_end() -> None:
    if os.environ.get("WAYPOINT_E2E") != "1":
        pytest.skip("end to end in the Agents Playground: run `make e2e`")
    need(missing_browser_tools())


def test_the_playground_config_names_the_wanted_current_user(tmp_path: Path) -> None:
    for role in (Role.sia, Role.coach, Role.head):
        config = yaml.safe_load(playground_config(tmp_path / role, role).read_text("utf-8"))
        assert config["currentUser"]["name"] == DEMO_USERS[role]
        assert len(config["users"]) == 5


def test_a_job_is_its_command_plus_one_card_or_the_check_says_why() -> None:
    stdout = "\n".join(
        [
            '[coach] typed "log coaching"',
            'EFFORT {"job": "Log a coaching session", "scenario": "coach", "messages": 1,'
            ' "fields": 4, "buttons": 1, "cards": ["Log a coaching session"], "seconds": 2.5}',
        ]
    )
    [good] = Effort.parse(stdout, "Priya Shah")
    assert good.problems() == []
    assert effort_table([good]).splitlines()[-1] == (
        "| Log a coaching session | Priya Shah | 1 | 4 | 1 | 2.5 |"
    )
    chatty = replace(
        good, messages=2, buttons=3, cards=("Choose a school", "Log a coaching session")
    )
    assert chatty.problems() == [
        "Log a coaching session: 2 messages typed, not 1",
        "Log a coaching session: interactions on 2 cards:"
        " ('Choose a school', 'Log a coaching session')",
        "Log a coaching session: 3 buttons pressed, not 1 (the card's submit)",
    ]


@pytest.mark.parametrize("today", [date(2026, 12, 2), date(2027, 8, 31), date(2027, 9, 1)])
def test_the_e2e_terms_keep_a_qa_window_open_every_day_of_the_year(today: date) -> None:
    lines = terms_around(today).splitlines()
    assert lines[0] == "academic_year,term,starts,ends"
    terms = [
        Term(year, number, name, date.fromisoformat(starts), date.fromisoformat(ends))
        for number, (year, name, starts, ends) in enumerate(
            (line.split(",") for line in lines[1:]), 1
        )
    ]
    windows = qa_windows(terms, QaSettings(weeks_before=8, weeks_after=8))
    start = today.year if today.month >= 9 else today.year - 1
    day = date(start, 9, 1)
    while day <= date(start + 1, 8, 31):
        assert isinstance(qa_period_on(windows, day), QaOpen), day
        day += timedelta(days=1)


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


def test_staff_jobs_in_the_agents_playground(tmp_path: Path) -> None:
    _end_to_end()
    timings: dict[str, float] = {}
    started = time.monotonic()
    database = tmp_path / "waypoint.db"
    env = _waypoint_env(database)
    _cli(env, "db", "upgrade")
    _cli(env, "demo")
    terms = tmp_path / "terms.csv"
    terms.write_text(terms_around(date.today()), encoding="utf-8")
    _cli(env, "terms", "set", str(terms), "--tenant-id", DEMO_TENANT_ID)
    weeks = ("--weeks-before", "8", "--weeks-after", "8")
    _cli(env, "qa", "settings", "--tenant-id", DEMO_TENANT_ID, *weeks)
    timings["fresh demo store"] = time.monotonic() - started

    efforts: list[Effort] = []
    bot_port = _free_port()
    command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(bot_port)]
    with _process(command, cwd=ROOT, env=env, name="Waypoint") as waypoint:
        output = _Output(waypoint)
        _wait_healthy(bot_port, waypoint, output)
        for role, scenario in PEOPLE:
            efforts += _as(role, scenario, bot_port, tmp_path, timings)
    timings["total"] = time.monotonic() - started
    print("timings: " + ", ".join(f"{step} {seconds:.1f}s" for step, seconds in timings.items()))
    print(f"Staff effort ({date.today()}):\n{effort_table(efforts)}")

    assert _stored(
        database,
        "select coach.display_name, coachee.display_name, s.status from coaching_session s"
        " join person coach on coach.id = s.coach_id"
        " join person coachee on coachee.id = s.coachee_id"
        " where s.action_step = 'Cold-call three pupils before taking hands up'",
    ) == [("Priya Shah", "Liam Doherty", "held")]
    assert _stored(
        database,
        "select a.description, a.status from school_action a"
        " join school on school.id = a.school_id where school.name = 'Oakfield Primary'"
        " and a.description in ('Embed the phonics catch-up programme in Year 2',"
        " 'Share the attendance plan with governors') order by a.id",
    ) == [
        ("Embed the phonics catch-up programme in Year 2", "done"),
        ("Share the attendance plan with governors", "open"),
    ]
    assert _stored(
        database,
        "select school.name, q.subject, q.judgement, q.evidence from qa_summary q"
        " join school on school.id = q.school_id join person on person.id = q.author_id"
        " where person.display_name = 'Zoë Fairbairn'"
        " and q.strengths = 'Fluent recall of number facts in Years 3 and 4.'",
    ) == [("Oakfield Primary", "Mathematics", "amber", '["deep_dive", "book_look"]')]
    assert _stored(
        database,
        "select school.name, c.year_group, c.concern_type, c.stage, c.persistent_absence"
        " from attendance_concern c join school on school.id = c.school_id"
        " where c.pupil_ref = '77031'",
    ) == [("Oakfield Primary", "4", "persistent", "listen", 1)]

    # Every job is its command plus one card: one message, that card's fields, one button.
    assert [problem for e in efforts for problem in e.problems()] == []
    coaching = next(e for e in efforts if e.job == "Log a coaching session")
    assert coaching.seconds <= COACHING_LOG_SECONDS, effort_table([coaching])
