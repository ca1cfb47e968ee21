"""2. Digest composition at scale: all of a week's digests for a trust of 200 schools.

For each store (SQLite, PostgreSQL) and each size (50 and 200 schools) a fresh store
gets a synthetic trust (bench/synthetic.py). Last week's digests are composed first
(so this week's report what changed since), then this week's are composed with
dialogs.digest.compose_week and timed, counting every SQL statement sent
(SQLAlchemy's before_cursor_execute). Baseline: one count(*) over each history
table the digest reads (coaching, QA, attendance, actions), for the trust, on the
same store in the same run: what merely touching the history costs.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.results import Figure, Results
from bench.stores import STORES, StoreMissing, migrated_store
from bench.synthetic import SyntheticTrust, generate_trust
from bench.synthetic_shape import TrustShape
from bot.scheduled.digests import compose_week
from storage.engine import session_factory
from storage.models import AttendanceConcern, CoachingSession, Delivery, QaSummary, SchoolAction

SECTION = "digests"


@dataclass(frozen=True)
class DigestSizes:
    # The statement count must not change between the first and the last.
    schools: tuple[int, ...]
    # Per school, over the history (TrustShape's defaults give the volumes at 200).
    coaching_sessions: int = 1_500
    concerns: int = 150
    actions: int = 100


FULL = DigestSizes(schools=(50, 200))
SMOKE = DigestSizes(schools=(2, 4), coaching_sessions=20, concerns=5, actions=5)


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    def kinds(self) -> dict[str, int]:
        return dict(Counter(s.lstrip().split(None, 1)[0].upper() for s in self.statements))


@dataclass
class Composed:
    trust: SyntheticTrust
    seconds: float
    floor_seconds: float
    statements: StatementLog
    queued: int
    largest_card_bytes: int


def listen_statements(engine: AsyncEngine, log: StatementLog) -> Any:
    def before_cursor_execute(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool
    ) -> None:
        log.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    return before_cursor_execute


async def _floor(engine: AsyncEngine, trust_id: int) -> float:
    """One count(*) per history table of the trust: the baseline."""
    async with session_factory(engine)() as session:
        started = time.perf_counter()
        for model in (CoachingSession, QaSummary, AttendanceConcern, SchoolAction):
            await session.scalar(
                select(func.count()).select_from(model).where(model.trust_id == trust_id)
            )
        return time.perf_counter() - started


async def compose(store: str, work: Path, schools: int, sizes: DigestSizes) -> Composed:
    shape = TrustShape(
        schools=schools,
        coaching_sessions=sizes.coaching_sessions,
        concerns=sizes.concerns,
        actions=sizes.actions,
    )
    now = datetime.now(UTC)
    async with migrated_store(store, work, f"digests{schools}") as engine:
        sessions = session_factory(engine)
        trust = await generate_trust(sessions, shape=shape, today=now.date())
        if store == "postgresql":
            # Three years of history grow slowly enough for autovacuum to keep the
            # planner's statistics; a bulk load leaves none (bench/README.md).
            async with engine.connect() as conn:
                await conn.execute(text("analyze"))
                await conn.commit()
        # Last week's digests: this week's then report what changed since.
        await compose_week(sessions, trust_id=trust.trust_id, now=now - timedelta(days=7))
        floor = await _floor(engine, trust.trust_id)
        log = StatementLog()
        listener = listen_statements(engine, log)
        try:
            started = time.perf_counter()
            run = await compose_week(sessions, trust_id=trust.trust_id, now=now)
            seconds = time.perf_counter() - started
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", listener)
        if not run.composed:
            raise RuntimeError(f"{run}: this week's digests were not composed")
        async with sessions() as session:
            sizes_of = await session.scalars(
                select(func.length(cast(Delivery.payload, Text))).where(
                    Delivery.trust_id == trust.trust_id, Delivery.period.startswith(run.period)
                )
            )
            largest = max((int(n or 0) for n in sizes_of), default=0)
    return Composed(trust, seconds, floor, log, run.queued, largest)


def _figures(store: str, results: Results, small: Composed, large: Composed) -> None:
    rows = large.trust.rows
    volumes = (
        f"{rows.get('school', 0)} schools, {rows.get('person', 0):,} staff, "
        f"{rows.get('coaching_session', 0):,} coaching sessions, "
        f"{rows.get('qa_summary', 0):,} QA summaries, "
        f"{rows.get('attendance_concern', 0):,} concerns, {rows.get('school_action', 0):,} actions"
    )
    results.add(
        Figure(
            SECTION,
            f"all digests of a week, {large.trust.shape.schools} schools, {store}",
            large.seconds,
            "s",
            "count(*) of the history",
            large.floor_seconds,
            target="≤ 1 s",
            met=large.seconds <= 1.0,
            note=f"{large.queued} digests queued",
            detail={
                "volumes": rows,
                "generated_s": round(large.trust.seconds, 1),
                "largest_card_bytes": large.largest_card_bytes,
                "described": volumes,
            },
        )
    )
    n_small, n_large = len(small.statements.statements), len(large.statements.statements)
    selects_small = small.statements.kinds().get("SELECT", 0)
    selects_large = large.statements.kinds().get("SELECT", 0)
    results.add(
        Figure(
            SECTION,
            f"SQL statements, {large.trust.shape.schools} schools, {store}",
            n_large,
            "statements",
            f"at {small.trust.shape.schools} schools",
            n_small,
            target="= 1 × (none per school)",
            met=n_large == n_small,
            note=f"queries (SELECT) {selects_large} vs {selects_small}",
            detail={
                "kinds_small": small.statements.kinds(),
                "kinds_large": large.statements.kinds(),
                "queued_small": small.queued,
                "queued_large": large.queued,
            },
        )
    )


def run_digests(results: Results, work: Path, sizes: DigestSizes) -> None:
    for store in STORES:
        try:
            composed = [
                asyncio.run(compose(store, work / store, schools, sizes))
                for schools in sizes.schools
            ]
        except StoreMissing as missing:
            results.notes.append(f"digests on {store} not run: {missing}")
            continue
        _figures(store, results, composed[0], composed[-1])
