"""The demo store the HTTP, memory and start benchmarks serve, and the activities they send.

Built the way an operator builds one: `waypoint db upgrade` and `waypoint demo` on a
SQLite file of its own; then one categorisation of Oakfield Primary, so that
`category oakfield` answers with the real category card.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from bench.procs import venv_command
from bench.stores import POSTGRES_URL
from dialogs.coaching.verbs import CoachingVerb
from storage.categories import record_categorisation
from storage.demo import DEMO_TENANT_ID
from storage.engine import create_engine, session_factory
from storage.models import CoachingSession, Person, ProcessedActivity, School, Trust
from storage.strands import active_strands
from tests.support import message

# Marcus Bell, head of Oakfield Primary (storage/demo/people.csv).
HEAD_AAD = "30b08980-8f4f-5c93-ad8d-9cf7256e2753"
# Priya Shah, teacher and coach at Oakfield Primary.
COACH_AAD = "007c42c1-af43-5609-891f-8c5183841a25"
COACHEE_NAME = "Liam Doherty"
SCHOOL_URN = "118645"
# What wrk's Lua script replaces with a new value for every request.
UNIQUE = "{{UNIQUE}}"


@dataclass(frozen=True)
class DemoStore:
    directory: Path
    url: str
    trust_id: int
    school_id: int
    coachee_id: int
    strand_id: int

    def env(self) -> dict[str, str]:
        """The environment `waypoint` runs with: this store, no credentials, quiet logs."""
        return {
            "WAYPOINT_DATABASE_URL": self.url,
            "WAYPOINT_LOG_LEVEL": "WARNING",
            "MicrosoftAppId": "",
            "MicrosoftAppPassword": "",
        }


def _waypoint(args: list[str], directory: Path, url: str) -> None:
    subprocess.run(
        [venv_command("waypoint"), *args],
        cwd=directory,
        env={**os.environ, "WAYPOINT_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


def prepare_demo_store(directory: Path, url: str | None = None) -> DemoStore:
    """The demo trust on a new SQLite file in `directory`, or at `url` (an empty store)."""
    directory.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{directory / 'waypoint.db'}"
    _waypoint(["db", "upgrade"], directory, url)
    _waypoint(["demo"], directory, url)
    return asyncio.run(_categorise_and_look_up(directory, url))


@contextmanager
def demo_store_on_postgres(directory: Path) -> Iterator[DemoStore]:
    """The demo trust in a PostgreSQL schema of its own, dropped afterwards."""
    schema = f"wp_bench_demo_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'create schema "{schema}"'))
    try:
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield prepare_demo_store(
            directory, f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
        )
    finally:
        asyncio.run(_admin(f'drop schema if exists "{schema}" cascade'))


async def _admin(sql: str) -> None:
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _categorise_and_look_up(directory: Path, url: str) -> DemoStore:
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            trust_id = await session.scalar(
                select(Trust.id).where(Trust.tenant_id == DEMO_TENANT_ID)
            )
            assert trust_id is not None
            school_id = await session.scalar(
                select(School.id).where(School.trust_id == trust_id, School.urn == SCHOOL_URN)
            )
            lead_id = await session.scalar(
                select(Person.id).where(
                    Person.trust_id == trust_id, Person.display_name == "Helen Ashworth"
                )
            )
            coachee_id = await session.scalar(
                select(Person.id).where(
                    Person.trust_id == trust_id, Person.display_name == COACHEE_NAME
                )
            )
            assert school_id is not None and coachee_id is not None
            decided = date.today() - timedelta(days=60)
            for key, when in (
                ("reinforcement", decided - timedelta(days=365)),
                ("refinement", decided),
            ):
                await record_categorisation(
                    session,
                    trust_id=trust_id,
                    school_id=school_id,
                    category_key=key,
                    decided_on=when,
                    attendees="Helen Ashworth (CEO), Nadia Okafor (SIA), Marcus Bell (head)",
                    rationale="Standards meeting: outcomes above national, leadership secure.",
                    recorded_by=lead_id,
                    form_id=f"bench-categorisation-{key}",
                )
            strands = await active_strands(session, trust_id=trust_id)
        return DemoStore(
            directory=directory,
            url=url,
            trust_id=trust_id,
            school_id=school_id,
            coachee_id=coachee_id,
            strand_id=strands[0].id,
        )
    finally:
        await engine.dispose()


async def _count(url: str, model: Any) -> int:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await engine.dispose()


def coaching_sessions(store: DemoStore) -> int:
    return asyncio.run(_count(store.url, CoachingSession))


def handled_activities(store: DemoStore) -> int:
    return asyncio.run(_count(store.url, ProcessedActivity))


# -- activities ----------------------------------------------------------------------


def _activity(
    text: str | None,
    *,
    user: str,
    connector_url: str,
    expect_replies: bool,
    value: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = message(
        text or "",
        user=user,
        tenant=DEMO_TENANT_ID,
        service_url=connector_url,
        expect_replies=expect_replies,
        activity_id=UNIQUE,
        conversation_id=f"a:bench-{user[:8]}",
        value=value,
    )
    if text is None:
        # An Action.Submit arrives with the card's data as `value` and no text.
        body.pop("text")
    return body


def category_activity(connector_url: str, *, expect_replies: bool = False) -> dict[str, Any]:
    return _activity(
        "category oakfield",
        user=HEAD_AAD,
        connector_url=connector_url,
        expect_replies=expect_replies,
    )


def coaching_submit(
    store: DemoStore, connector_url: str, *, expect_replies: bool = False
) -> dict[str, Any]:
    """The coaching card's Save, as Teams delivers an Action.Submit: a new form each time."""
    today = datetime.now(ZoneInfo("Europe/London")).date()
    value = {
        "verb": CoachingVerb.save,
        "form_id": UNIQUE,
        "coachee": str(store.coachee_id),
        "held_on": today.isoformat(),
        "strand": str(store.strand_id),
        "status": "held",
        "action_step": "Open every lesson with three retrieval questions on mini-whiteboards.",
        "notes": "Observed the Year 5 maths lesson; strong modelling, questioning to develop.",
        "next_session_on": (today + timedelta(days=14)).isoformat(),
    }
    return _activity(
        None,
        user=COACH_AAD,
        connector_url=connector_url,
        expect_replies=expect_replies,
        value=value,
    )


def echo_activity(connector_url: str, *, expect_replies: bool = False) -> dict[str, Any]:
    """What the baselines (relay, echo bot) get: the same Teams-shaped message."""
    return _activity(
        "hello", user=HEAD_AAD, connector_url=connector_url, expect_replies=expect_replies
    )


def write_template(path: Path, activity: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(activity, ensure_ascii=False))
    return path


def fill(activity: dict[str, Any], unique: str) -> dict[str, Any]:
    """A template with its placeholder filled, as the Lua script does."""
    filled: dict[str, Any] = json.loads(json.dumps(activity).replace(UNIQUE, unique))
    return filled
