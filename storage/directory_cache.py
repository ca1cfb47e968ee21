"""Who writes, remembered per process while their trust's directory stands still.

Every turn asks who sent it. The answer (the person, their roles at each school and
for the trust, their subjects) changes rarely, but a change must reach every replica
on its very next turn: an import, a `waypoint` command or another replica may grant
or remove a role at any time. So a turn reads only its trust's row (by tenant, one
indexed row: the trust's name, time zone and `directory_version`) and reuses the
person it read before at that same version; any change to the trust's directory
moves the version in the change's own transaction (storage/directory_stamp.py), and
the next turn, on any replica, reads the person again.

The version is read before the person, in the same transaction: the person is never
older than the version it is kept under (at worst newer, which costs one more read).

The trust's term dates are kept the same way, once per trust, and handed to each of
its people (`Actor.calendar`): which term it is, and so a QA window or a review, is
asked by the home card and the QA commands, and costs no statement while they hold.
"""

from __future__ import annotations

from dataclasses import replace

from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import Term
from storage.directory import SETTINGS_COLUMNS, Actor, KnownTrust, read_person, trust_settings
from storage.models import Trust
from storage.terms import stored_calendar

# People remembered per process: a trust's staff, several trusts over.
PEOPLE = 4096
# Trusts whose term dates are remembered.
CALENDARS = 256


class DirectoryCache:
    """One process's (one app's) copy of the people it has identified.

    Each entry is (trust id, object id) → (the trust's directory version when read,
    the person, or None for someone the trust does not know).
    """

    def __init__(self, size: int = PEOPLE) -> None:
        self._people: LRUCache[tuple[int, str], tuple[int, Actor | None]] = LRUCache(size)
        self._calendars: LRUCache[int, tuple[int, tuple[Term, ...]]] = LRUCache(CALENDARS)

    def get(self, trust_id: int, aad_object_id: str, version: int) -> tuple[Actor | None] | None:
        """The person kept at this version (in a 1-tuple); None when none is."""
        kept = self._people.get((trust_id, aad_object_id))
        if kept is None or kept[0] != version:
            return None
        return (kept[1],)

    def keep(self, trust_id: int, aad_object_id: str, version: int, actor: Actor | None) -> None:
        self._people[(trust_id, aad_object_id)] = (version, actor)

    async def calendar(
        self, session: AsyncSession, trust_id: int, version: int
    ) -> tuple[Term, ...]:
        """The trust's term dates as of this version, read when not kept at it."""
        kept = self._calendars.get(trust_id)
        if kept is not None and kept[0] == version:
            return kept[1]
        calendar = await stored_calendar(session, trust_id=trust_id)
        self._calendars[trust_id] = (version, calendar)
        return calendar


async def who_is_cached(
    session: AsyncSession, cache: DirectoryCache, *, tenant_id: str, aad_object_id: str | None
) -> Actor | KnownTrust | None:
    """What `storage.directory.who_is` answers, reading the person only when the
    trust's directory has changed since this process last read them."""
    row = (
        await session.execute(
            select(
                Trust.id,
                Trust.name,
                Trust.digest_timezone,
                Trust.directory_version,
                *SETTINGS_COLUMNS,
            ).where(Trust.tenant_id == tenant_id)
        )
    ).first()
    if row is None:
        return None
    trust_id, trust_name, time_zone, version, *settings_values = row
    known = KnownTrust(trust_id=trust_id, trust_name=trust_name)
    if aad_object_id is None:
        return known
    # Imports store object ids in lower case, as Teams sends them; be forgiving anyway.
    wanted = aad_object_id.strip().lower()
    kept = cache.get(trust_id, wanted, version)
    if kept is not None:
        (person,) = kept
    else:
        person = await read_person(
            session,
            trust=known,
            time_zone=time_zone,
            # Settings move the version too: a person kept carries the ones read with them.
            settings=trust_settings(settings_values),
            aad_object_id=wanted,
        )
        if person is not None:
            person = replace(person, calendar=await cache.calendar(session, trust_id, version))
        cache.keep(trust_id, wanted, version, person)
    return person or known
