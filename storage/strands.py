"""Coaching focus strands: the trust's own list, editable by file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CoachingStrand

# A starting list for a new trust, after the "optimal learning" approach of the
# seed plan (cognitive science in every classroom); each trust replaces it.
DEFAULT_STRANDS = (
    "Retrieval practice",
    "Explicit vocabulary instruction",
    "Oracy",
    "Modelling",
    "Checking for understanding",
    "Metacognition",
)


def read_strands_file(path: Path) -> list[str]:
    """One strand a line; blank lines and lines starting with # are skipped."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


async def active_strands(session: AsyncSession, *, trust_id: int) -> list[CoachingStrand]:
    return list(
        await session.scalars(
            select(CoachingStrand)
            .where(CoachingStrand.trust_id == trust_id, CoachingStrand.active.is_(True))
            .order_by(CoachingStrand.position)
        )
    )


async def set_strands(session: AsyncSession, *, trust_id: int, names: list[str]) -> list[str]:
    """Make `names` the trust's strands, in order. Dropped ones are retired, not
    deleted, so past sessions keep their focus. Returns the retired names."""
    wanted = [name.strip() for name in names if name.strip()]
    folded = [name.casefold() for name in wanted]
    if not wanted:
        raise ValueError("the strand list is empty")
    if len(set(folded)) != len(folded):
        raise ValueError("a strand is listed twice")
    if any(len(name) > 120 for name in wanted):
        raise ValueError("strand names are limited to 120 characters")
    existing = {
        s.name.casefold(): s
        for s in await session.scalars(
            select(CoachingStrand).where(CoachingStrand.trust_id == trust_id)
        )
    }
    for position, name in enumerate(wanted, start=1):
        strand = existing.pop(name.casefold(), None)
        if strand is None:
            session.add(
                CoachingStrand(trust_id=trust_id, name=name, position=position, active=True)
            )
        else:
            strand.name, strand.position, strand.active = name, position, True
    retired = [s.name for s in existing.values() if s.active]
    for strand in existing.values():
        strand.active = False
    await session.flush()
    return retired
