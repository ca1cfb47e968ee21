"""A term of history for the demo trust, counted back from the trust's today.

Every school has something to show, and the trust digest a short, true attention
list: Oakfield Primary (Recovery, with overdue and red-rated actions, coaching well
below the trust's target and its mathematics QA summary missing), Ysgol Gymraeg
Llwyncelyn (an action rated red, a new severe-absence concern) and Kingsbridge
Secondary (an overdue action, a red QA judgement). Brontë Academy (Excellence) has
no issue at all. Deterministic: the same today gives the same store.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from storage.demo.attendance import raise_concerns
from storage.demo.cast import cast_of
from storage.demo.coaching import coach_the_term
from storage.demo.improvement import categorise, visit_schools
from storage.demo.qa import submit_summaries
from storage.models import Trust


async def build_term(session: AsyncSession, *, trust: Trust, today: date) -> None:
    """Write the term through the storage functions the dialogs use. Flushes only."""
    cast = await cast_of(session, trust=trust, today=today)
    await categorise(session, cast)
    await visit_schools(session, cast)
    await coach_the_term(session, cast)
    await submit_summaries(session, cast)
    await raise_concerns(session, cast)
    await session.flush()
