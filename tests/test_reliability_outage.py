"""Store outage, beyond tests/test_store_outage.py: SQLite too, and every kind of form.

On SQLite the store "goes away" as a refused connection does: the pool is emptied and
every new connection fails (sqlite3's "unable to open database file"). On PostgreSQL
the TCP proxy of tests/test_store_outage.py is cut. During the outage a submit of each
form verb gets the Retry card holding the values; `/healthz` says the store is down;
after the store returns, Retry stores each once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine, session_factory
from tests.conftest import POSTGRES_URL
from tests.reliability import (
    AAD,
    World,
    build_world,
    categorise_form,
    coaching_form,
    concern_form,
    invoke,
    qa_form,
    review_form,
    served,
    visit_form,
)
from tests.support import count_rows, message
from tests.test_store_outage import Proxy, proxy  # noqa: F401  (the fixture)

FORMS: list[tuple[str, str, Callable[[World], dict[str, Any]], str, str]] = [
    ("coaching.save", "coach", lambda w: coaching_form(w.a), "coaching_session", "saved"),
    ("qa.save", "subject_lead", lambda w: qa_form(w.a), "qa_summary", "submitted"),
    ("attendance.save", "teacher", lambda w: concern_form(w.a), "attendance_concern", "raised"),
    ("visit.save", "sia", lambda w: visit_form(w.a), "visit", "saved"),
    (
        "categorise.save",
        "trust_lead",
        lambda w: categorise_form(w.a),
        "school_categorisation",
        "recorded",
    ),
    ("review.save", "trust_lead", lambda w: review_form(w.a), "standards_review", "recorded"),
]


class Outage:
    """Switches the store off and on for one engine."""

    def __init__(self, engine: AsyncEngine, cut: Callable[[], None], restore: Callable[[], None]):
        self.engine = engine
        self._cut = cut
        self._restore = restore

    async def cut(self) -> None:
        self._cut()
        # Connections already open would carry on: a real outage drops them.
        await self.engine.dispose()

    def restore(self) -> None:
        self._restore()


@asynccontextmanager
async def sqlite_outage(engine: AsyncEngine) -> AsyncIterator[Outage]:
    down = {"now": False}

    @event.listens_for(engine.sync_engine, "do_connect")
    def refuse(*_: Any) -> None:
        if down["now"]:
            raise sqlite3.OperationalError("unable to open database file")

    yield Outage(engine, lambda: down.update(now=True), lambda: down.update(now=False))
    event.remove(engine.sync_engine, "do_connect", refuse)


async def _run(world: World, outage: Outage) -> int:
    """Each form during the outage, then its Retry after it: the records stored."""
    stored = 0
    async with served(world):
        for verb, role, build, table, word in FORMS:
            data = {"verb": verb, **build(world)}
            await outage.cut()
            answer = await world.post(
                message("", user=AAD[role], tenant=world.a.tenant, expect_replies=True, value=data)
            )
            assert answer.status == 200
            assert "Couldn't save yet — your answers are kept" in answer.shown, answer.shown
            [retry] = answer.card["actions"]
            assert retry["title"] == "Retry" and retry["data"] == data
            health = await world.http.get("/healthz")
            assert (health.status, (await health.json())["store"]) == (503, "down")
            outage.restore()
            before = await count_rows(world.sessions)
            first = await world.post(
                invoke(verb, retry["data"], user=AAD[role], tenant=world.a.tenant)
            )
            again = await world.post(
                invoke(verb, retry["data"], user=AAD[role], tenant=world.a.tenant)
            )
            after = await count_rows(world.sessions)
            assert word in first.shown, first.shown
            assert "Already" in again.shown or word in again.shown, again.shown
            assert after[table] == before[table] + 1, verb
            stored += 1
            assert (await world.http.get("/healthz")).status == 200
    return stored


async def test_on_sqlite_every_form_is_kept_through_an_outage_and_stored_once(
    tmp_path: Any, sqlite_template: Any
) -> None:
    import shutil

    path = tmp_path / "outage.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        world = await build_world(engine, session_factory(engine))
        async with sqlite_outage(engine) as outage:
            assert await _run(world, outage) == len(FORMS)
    finally:
        await engine.dispose()


async def test_on_postgresql_every_form_is_kept_through_an_outage_and_stored_once(
    proxy: tuple[Proxy, str],  # noqa: F811
) -> None:
    relay, schema = proxy
    port = urlsplit(POSTGRES_URL).port or 5432
    engine = create_engine(POSTGRES_URL.replace(f":{port}/", f":{relay.port}/"), schema=schema)
    try:
        world = await build_world(engine, session_factory(engine))
        assert await _run(world, Outage(engine, relay.cut, relay.restore)) == len(FORMS)
    finally:
        await engine.dispose()
