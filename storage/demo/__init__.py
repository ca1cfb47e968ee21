"""The demo trust: six schools, about forty people and a term of history, for trying
Waypoint out.

`waypoint demo` loads it (storage/demo/term.py writes the term). `make playground
ROLE=…` writes `.m365agentsplayground.yml` (`waypoint playground-config`) with this
trust's tenant id and its demo user for that role (`DEMO_USERS`) as the current user,
so a conversation in the Microsoft 365 Agents Playground reaches Waypoint as them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.csv_rows import read_csv_file
from storage.demo.term import build_term
from storage.directory import add_trust, trust_today
from storage.imports.people import import_people
from storage.imports.schools import import_schools
from storage.models import Role, Trust
from storage.visit_programme import set_visit_programme

DEMO_TENANT_ID = "6b3c1d2e-0000-4000-8000-000000000001"
DEMO_TRUST_NAME = "Waypoint Demo Trust"
DEMO_FRAMEWORK = "five-categories"
DEMO_DIR = Path(__file__).parent
SCHOOLS_CSV = DEMO_DIR / "schools.csv"
PEOPLE_CSV = DEMO_DIR / "people.csv"
# Seed 002's SIA visit programme: six visits for a primary, four for a secondary.
VISIT_PROGRAMME_CSV = DEMO_DIR / "visit_programme.csv"
# The demo user for each role, all at or around Oakfield Primary, the school that needs
# the most attention (their tours are in the README's "Try it" section).
DEMO_USERS: dict[Role, str] = {
    Role.head: "Marcus Bell",
    Role.coach: "Priya Shah",
    Role.teacher: "Liam Doherty",
    Role.subject_lead: "Zoë Fairbairn",
    Role.attendance_lead: "Kerry Walsh",
    Role.governor: "Ruth Adebayo",
    Role.sia: "Nadia Okafor",
    Role.trust_lead: "Helen Ashworth",
}


async def load_demo(session: AsyncSession, *, today: date | None = None) -> Trust:
    """Create the demo trust with its framework, schools and people, and a term of
    history up to `today` (the trust's today when not given): storage/demo/term.py.

    Loading it twice is refused with `storage.directory.TrustExists` before anything is
    written: a second copy cannot exist (one trust per tenant), and quietly updating
    the first would undo whatever a demonstration has changed. Flushes, never commits:
    the caller owns the transaction.
    """
    # Read the files first, so a missing file fails before the trust is created.
    # Off the event loop, like every other file read in an async function.
    schools_csv, people_csv, programme_csv = await asyncio.gather(
        asyncio.to_thread(read_csv_file, SCHOOLS_CSV),
        asyncio.to_thread(read_csv_file, PEOPLE_CSV),
        asyncio.to_thread(read_csv_file, VISIT_PROGRAMME_CSV),
    )
    trust = await add_trust(
        session, tenant_id=DEMO_TENANT_ID, name=DEMO_TRUST_NAME, framework_key=DEMO_FRAMEWORK
    )
    await import_schools(session, trust_id=trust.id, csv_text=schools_csv)
    await import_people(session, trust_id=trust.id, csv_text=people_csv)
    await set_visit_programme(session, trust_id=trust.id, csv_text=programme_csv)
    day = today or trust_today(trust, datetime.now(UTC))
    await build_term(session, trust=trust, today=day)
    return trust


async def store_is_empty(session: AsyncSession) -> bool:
    """Whether the store holds no trust at all (so the demo may be loaded unasked)."""
    return await session.scalar(select(Trust.id).limit(1)) is None
