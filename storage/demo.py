"""The demo trust: six schools and about forty people, for trying Waypoint out.

`waypoint demo` loads it; `.m365agentsplayground.yml` at the repository root gives the
Microsoft 365 Agents Playground this trust's tenant id and five of its people, so a
conversation in the playground reaches Waypoint as one of them.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.categories import record_categorisation
from storage.csv_rows import read_csv_file
from storage.directory import add_trust
from storage.imports.people import import_people
from storage.imports.schools import import_schools
from storage.models import School, Trust
from storage.visit_programme import set_visit_programme

DEMO_TENANT_ID = "6b3c1d2e-0000-4000-8000-000000000001"
DEMO_TRUST_NAME = "Waypoint Demo Trust"
DEMO_FRAMEWORK = "five-categories"
DEMO_DIR = Path(__file__).parent / "demo"
SCHOOLS_CSV = DEMO_DIR / "schools.csv"
PEOPLE_CSV = DEMO_DIR / "people.csv"
# Seed 002's SIA visit programme: six visits for a primary, four for a secondary.
VISIT_PROGRAMME_CSV = DEMO_DIR / "visit_programme.csv"


async def load_demo(session: AsyncSession) -> Trust:
    """Create the demo trust with its framework, schools and people.

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
    await _categorise_demo_schools(session, trust_id=trust.id)
    return trust


# Last summer's standards meeting, so that `category` has something to say.
DEMO_CATEGORIES = {
    "109234": (
        "refinement",
        "Strong outcomes; refine curriculum sequencing in the foundation subjects.",
    ),
    "118645": (
        "recovery",
        "Reading outcomes fell for a second year; leadership capacity stretched.",
    ),
    "137520": ("excellence", "Sustained strong outcomes; leads the hub's maths network."),
    "401872": ("reinforcement", "Secure teaching; attendance and writing need reinforcing."),
    "126781": ("refinement", "Good progress since the last review; early reading now secure."),
    "144903": ("reinforcement", "New leadership team; behaviour systems still embedding."),
}


async def _categorise_demo_schools(session: AsyncSession, *, trust_id: int) -> None:
    schools = {
        school.urn: school.id
        for school in await session.scalars(select(School).where(School.trust_id == trust_id))
    }
    for urn, (category_key, rationale) in DEMO_CATEGORIES.items():
        await record_categorisation(
            session,
            trust_id=trust_id,
            school_id=schools[urn],
            category_key=category_key,
            decided_on=date(2026, 7, 9),
            attendees="Headteacher, Chair of Governors, Director of Education, SIA",
            rationale=rationale,
            recorded_by=None,
            form_id=f"demo-categorisation-{urn}",
        )


async def store_is_empty(session: AsyncSession) -> bool:
    """Whether the store holds no trust at all (so the demo may be loaded unasked)."""
    return await session.scalar(select(Trust.id).limit(1)) is None
