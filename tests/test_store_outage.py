"""The store goes away during a submit: answers kept, Retry stores once, nothing crashes.

PostgreSQL is reached through a TCP proxy of the test's own, which the test
cuts and restores: an outage that disturbs no one else using the server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from bot.settings import Settings
from storage.engine import create_engine, session_factory
from storage.models import CoachingSession, Person
from storage.strands import set_strands
from tests.conftest import POSTGRES_URL, _truncate
from tests.support import (
    TEACHER,
    card_text,
    cards_in,
    execute,
    message,
    role_rows,
    seed_trust,
    serve_waypoint,
)

COACH = "dddddddd-0000-4000-8000-000000000001"


class Proxy:
    """Forwards loopback connections to PostgreSQL until cut."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.up = True
        self.port = 0
        self._links: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._links.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        """The database goes away: live connections drop, new ones are refused."""
        self.up = False
        for link in list(self._links):
            link.close()
        self._links.clear()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def proxy(postgres_schema: str) -> AsyncIterator[tuple[Proxy, str]]:
    await _truncate(POSTGRES_URL, postgres_schema)
    target = urlsplit(POSTGRES_URL)
    relay = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    await relay.start()
    yield relay, postgres_schema
    await relay.close()


def _form(teacher_id: int, strand_id: int) -> dict[str, str]:
    return {
        "verb": "coaching.save",
        "form_id": "feedfacefeedfacefeedfacefeedface",
        "coachee": str(teacher_id),
        "held_on": "2026-11-20",
        "status": "held",
        "strand": str(strand_id),
        "action_step": "Narrate the model as you write it",
        "notes": "",
        "next_session_on": "",
    }


async def test_a_submit_during_an_outage_is_kept_and_retry_stores_it_once(
    proxy: tuple[Proxy, str],
) -> None:
    relay, schema = proxy
    url = POSTGRES_URL.replace(f":{urlsplit(POSTGRES_URL).port or 5432}/", f":{relay.port}/")
    engine = create_engine(url, schema=schema)
    sessions = session_factory(engine)
    seeded = await seed_trust(sessions)
    async with sessions.begin() as session:
        coach = Person(
            trust_id=seeded.trust_id,
            aad_object_id=COACH,
            email="c@x.org",
            display_name="Cara Coach",
        )
        coach.roles = role_rows(["coach"], [seeded.school_ids["100001"]])
        session.add(coach)
        await set_strands(session, trust_id=seeded.trust_id, names=["Modelling"])
    async with sessions() as session:
        from storage.models import CoachingStrand

        strand_id = int(await session.scalar(select(CoachingStrand.id)) or 0)
    data = _form(seeded.person_ids[TEACHER], strand_id)

    try:
        async with serve_waypoint(engine, Settings(_env_file=None)) as (client, _):
            relay.cut()
            response = await client.post(
                "/api/messages", json=message("", user=COACH, expect_replies=True, value=data)
            )
            assert response.status == 200
            [card] = cards_in((await response.json())["activities"])
            assert "Couldn't save yet — your answers are kept" in card_text(card)
            [retry] = card["actions"]
            assert retry["title"] == "Retry" and retry["data"] == data

            typed = await client.post(
                "/api/messages", json=message("my coaching", user=COACH, expect_replies=True)
            )
            [apology] = (await typed.json())["activities"]
            assert "can't reach its records" in apology["text"]
            health = await client.get("/healthz")
            assert (health.status, (await health.json())["store"]) == (503, "down")

            relay.restore()
            first = await client.post(
                "/api/messages", json=execute(retry["verb"], retry["data"], user=COACH)
            )
            assert "Coaching session saved" in card_text((await first.json())["value"])
            again = await client.post(
                "/api/messages", json=execute(retry["verb"], retry["data"], user=COACH)
            )
            assert "Already saved" in card_text((await again.json())["value"])
            assert (await client.get("/healthz")).status == 200
        async with sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(CoachingSession))
        assert stored == 1
    finally:
        await engine.dispose()
