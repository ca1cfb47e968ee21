"""Each app caches who its people are; a change anywhere is honoured on the next turn.

Two apps (two engines, as two replicas have) serve one store. A role removed by
`waypoint import people` (another process), a role added and a rename made through
one engine, and a new coaching target, are each seen on the very next turn of the
other: the trust's `directory_version` moves in the change's own transaction
(storage/directory_stamp.py) and a turn reads it, with the trust's settings, before
reusing the person it knows (storage/directory_cache.py).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import Sessions, create_engine, session_factory
from storage.imports.schools import import_schools
from storage.models import Person, PersonRole, School, Trust
from storage.term_dates import set_terms
from storage.terms import set_qa_settings
from tests.support import (
    HEAD,
    TENANT,
    Seeded,
    Served,
    card_text,
    cards_in,
    message,
    seed_trust,
    serve,
)
from tests.test_migration_race import cli_url
from tests.test_statement_budget import Meter

WAYPOINT = str(Path(sys.executable).with_name("waypoint"))
COVERAGE = "coaching coverage"
REFUSED = "You don't have access to Coaching coverage"
PEOPLE_HEADER = "aad_object_id,email,display_name,roles,schools,subjects"


async def _shown(world: Served, text: str, user: str = HEAD) -> str:
    answer = await world.say(text, user)
    cards = cards_in(answer)
    return card_text(cards[0]) if cards else " ".join(a.get("text", "") for a in answer)


async def _version(sessions: Sessions, trust_id: int) -> int:
    async with sessions() as session:
        version = await session.scalar(select(Trust.directory_version).where(Trust.id == trust_id))
    assert version is not None
    return version


@pytest.fixture
async def second_engine(database_url: tuple[str, str | None]) -> AsyncIterator[AsyncEngine]:
    """Another engine on the same store: what another replica holds."""
    url, schema = database_url
    engine = create_engine(url, schema=schema)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_change_through_one_replica_or_process_is_honoured_on_the_next_turn_of_another(
    engine: AsyncEngine,
    second_engine: AsyncEngine,
    sessions: Sessions,
    database_url: tuple[str, str | None],
    tmp_path: Path,
) -> None:
    seeded = await seed_trust(sessions)
    other_sessions = session_factory(second_engine)
    async with (
        serve(engine, sessions, seeded) as first,
        serve(second_engine, other_sessions, seeded) as second,
    ):
        # Both replicas know Hana as head of Oakfield (and keep her).
        for world in (first, second):
            assert "Coaching coverage — Oakfield Primary" in await _shown(world, COVERAGE)

        # Another process removes her headship: she is a teacher at Oakfield now.
        people = tmp_path / "people.csv"
        people.write_text(
            f"{PEOPLE_HEADER}\n{HEAD},hana@example.org,Hana Head,teacher,100001,\n",
            encoding="utf-8",
        )
        said = await _waypoint(
            database_url, tmp_path, "import", "people", str(people), "--tenant-id", TENANT
        )
        assert "1 updated" in said
        for world in (second, first):
            assert REFUSED in await _shown(world, COVERAGE)

        # One replica's store gives it back; the other honours it on its next turn.
        async with other_sessions.begin() as session:
            session.add(
                PersonRole(
                    person_id=seeded.person_ids[HEAD],
                    role="head",
                    school_id=seeded.school_ids["100001"],
                )
            )
        assert "Coaching coverage — Oakfield Primary" in await _shown(first, COVERAGE)

        # A new name shows at once too.
        async with sessions.begin() as session:
            hana = await session.get(Person, seeded.person_ids[HEAD])
            assert hana is not None
            hana.display_name = "Hanne Head"
        assert "What I can do for you, Hanne" in await _shown(second, "help")

        # The trust's settings come with its row: a new coaching target shows at once.
        assert "trust target: 80%" in await _shown(second, COVERAGE)
        async with sessions.begin() as session:
            trust = await session.get(Trust, seeded.trust_id)
            assert trust is not None
            trust.coaching_target_percent = 60
        assert "trust target: 60%" in await _shown(second, COVERAGE)


async def test_the_second_turn_reads_only_the_trust_not_the_person_or_its_terms_again(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_trust(sessions)
    meter = Meter(engine)
    async with serve(engine, sessions, seeded) as world:
        meter.world = world
        first, _ = await meter.post(message("help", user=HEAD, expect_replies=True))
        again, answer = await meter.post(message("help", user=HEAD, expect_replies=True))
    assert "What I can do for you, Hana" in card_text(cards_in(answer)[0])
    kept = ("FROM person WHERE", "FROM term_date")
    for read in kept:
        assert len([s for s in first.statements if read in s]) == 1, read
    assert len(again.statements) == len(first.statements) - len(kept)
    assert not [s for s in again.statements if any(read in s for read in kept)]


# A day the default calendar has no QA window open (autumn's closed on 8 January,
# spring's opens on 25 February) but a trust whose spring term ends on 4 March has.
BETWEEN_WINDOWS = datetime(2027, 2, 10, 10, 0, tzinfo=UTC)
EARLY_SPRING = """academic_year,term,starts,ends
2026-27,Autumn term,2026-09-02,2026-12-18
2026-27,Spring term,2027-01-04,2027-03-04
2026-27,Summer term,2027-03-15,2027-07-20
"""


async def test_term_dates_set_by_another_process_are_honoured_on_the_next_turn(
    second_engine: AsyncEngine,
    sessions: Sessions,
    database_url: tuple[str, str | None],
    tmp_path: Path,
) -> None:
    """Which term it is comes from the replica's cached calendar: `waypoint terms set`
    in another process opens the QA window on the replica's next turn."""
    seeded = await seed_trust(sessions)
    other_sessions = session_factory(second_engine)
    async with serve(second_engine, other_sessions, seeded, now=BETWEEN_WINDOWS) as world:
        closed = await _shown(world, "qa status")
        assert "No term is open for QA summaries today" in closed
        assert "opens on Thursday 25 February 2027" in closed

        terms = tmp_path / "terms.csv"
        terms.write_text(EARLY_SPRING, encoding="utf-8")
        said = await _waypoint(
            database_url, tmp_path, "terms", "set", str(terms), "--tenant-id", TENANT
        )
        assert "terms set for" in said
        opened = await _shown(world, "qa status")
        assert "The window for Spring term 2026-27 is open until" in opened


async def _waypoint(database_url: tuple[str, str | None], home: Path, *args: str) -> str:
    """`waypoint ARGS` in a process of its own, on the test's store."""
    url, schema = database_url
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "WAYPOINT_DATABASE_URL": cli_url(url, schema),
    }
    process = await asyncio.create_subprocess_exec(
        WAYPOINT,
        *args,
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    said = (await process.communicate())[0].decode()
    assert process.returncode == 0, said
    return said


async def _rename(sessions: Sessions, seeded: Seeded) -> None:
    async with sessions.begin() as session:
        person = await session.get(Person, seeded.person_ids[HEAD])
        assert person is not None
        person.display_name = "Hanne Head"


async def _remove_role(sessions: Sessions, seeded: Seeded) -> None:
    async with sessions.begin() as session:
        person = await session.get(Person, seeded.person_ids[HEAD])
        assert person is not None
        person.roles = []


async def _remove_school(sessions: Sessions, seeded: Seeded) -> None:
    async with sessions.begin() as session:
        school = await session.get(School, seeded.school_ids["100002"])
        await session.delete(school)


async def _bulk_delete_roles(sessions: Sessions, seeded: Seeded) -> None:
    async with sessions.begin() as session:
        await session.execute(
            delete(PersonRole).where(PersonRole.person_id == seeded.person_ids[HEAD])
        )


async def _import_schools(sessions: Sessions, seeded: Seeded) -> None:
    async with sessions.begin() as session:
        await import_schools(
            session,
            trust_id=seeded.trust_id,
            csv_text="urn,name,phase,hub\n100003,Elm Academy,secondary,\n",
        )


async def _trust_settings(sessions: Sessions, seeded: Seeded) -> None:
    async with sessions.begin() as session:
        await set_qa_settings(
            session, trust_id=seeded.trust_id, weeks_before=5, weeks_after=3, reminder_days=14
        )


async def _set_terms(sessions: Sessions, seeded: Seeded) -> None:
    async with sessions.begin() as session:
        await set_terms(session, trust_id=seeded.trust_id, csv_text=EARLY_SPRING)


WRITERS = [
    _rename,
    _remove_role,
    _remove_school,
    _bulk_delete_roles,
    _import_schools,
    _trust_settings,
    _set_terms,
]


@pytest.mark.parametrize("writer", WRITERS, ids=lambda writer: writer.__name__.strip("_"))
async def test_every_kind_of_directory_change_moves_only_its_trusts_version(
    sessions: Sessions, writer: object
) -> None:
    seeded = await seed_trust(sessions)
    other = await seed_trust(sessions, tenant="elsewhere", name="Other Trust")
    before = await _version(sessions, seeded.trust_id)
    other_before = await _version(sessions, other.trust_id)
    assert callable(writer)
    await writer(sessions, seeded)
    assert await _version(sessions, seeded.trust_id) > before
    if writer not in (_bulk_delete_roles, _import_schools, _set_terms):
        # A flushed change knows its trust; a bulk statement moves every trust's.
        assert await _version(sessions, other.trust_id) == other_before
