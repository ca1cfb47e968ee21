"""5. The dashboard's data at scale: a trust lead's dashboard for the synthetic trust.

For each store (SQLite, PostgreSQL) and each size (50 and 200 schools) a fresh store
gets a synthetic trust (bench/synthetic.py, three years of history), and
storage.dashboard.dashboard_data for every school of it is read once to warm up,
then timed three times (the median is the figure), counting every SQL statement
sent (SQLAlchemy's before_cursor_execute). Baseline: one count(*) over each history
table the dashboard reads, for the trust, on the same store in the same run.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import digests
from bench.digests import DigestSizes, StatementLog, listen_statements
from bench.results import Figure, Results
from bench.stores import STORES, StoreMissing, migrated_store
from bench.synthetic import SyntheticTrust, generate_trust
from bench.synthetic_shape import TrustShape
from storage.dashboard import DashboardScope, Panel, dashboard_data
from storage.engine import session_factory
from storage.models import (
    ActionEvent,
    AttendanceConcern,
    CoachingSession,
    QaSummary,
    SchoolAction,
    SchoolCategorisation,
)

SECTION = "dashboard"
RUNS = 3


# The digests' volumes: both read the same synthetic history.
FULL, SMOKE = digests.FULL, digests.SMOKE


@dataclass
class Read:
    trust: SyntheticTrust
    seconds: float
    first_seconds: float
    floor_seconds: float
    statements: StatementLog
    schools_shown: int


async def _floor(engine: AsyncEngine, trust_id: int) -> float:
    """One count(*) per history table the dashboard reads: the baseline."""
    async with session_factory(engine)() as session:
        started = time.perf_counter()
        for model in (
            SchoolCategorisation,
            CoachingSession,
            QaSummary,
            AttendanceConcern,
            SchoolAction,
        ):
            await session.scalar(
                select(func.count()).select_from(model).where(model.trust_id == trust_id)
            )
        await session.scalar(select(func.count()).select_from(ActionEvent))
        return time.perf_counter() - started


async def read(store: str, work: Path, schools: int, sizes: DigestSizes) -> Read:
    shape = TrustShape(
        schools=schools,
        coaching_sessions=sizes.coaching_sessions,
        concerns=sizes.concerns,
        actions=sizes.actions,
    )
    today = datetime.now(UTC).date()
    async with migrated_store(store, work, f"dashboard{schools}") as engine:
        sessions = session_factory(engine)
        trust = await generate_trust(sessions, shape=shape, today=today)
        if store == "postgresql":
            # As bench/digests.py: a bulk load leaves the planner no statistics.
            async with engine.connect() as conn:
                await conn.execute(text("analyze"))
                await conn.commit()
        # A trust lead's: every school, every panel.
        scope = DashboardScope(trust.trust_id, None, frozenset(Panel))
        floor = await _floor(engine, trust.trust_id)
        timings: list[float] = []
        log = StatementLog()
        shown = 0
        for run in range(RUNS + 1):
            listener = listen_statements(engine, log) if run == RUNS else None
            try:
                async with sessions() as session:
                    started = time.perf_counter()
                    dashboard = await dashboard_data(session, scope=scope, today=today)
                    timings.append(time.perf_counter() - started)
            finally:
                if listener is not None:
                    event.remove(engine.sync_engine, "before_cursor_execute", listener)
            shown = len(dashboard.schools)
    return Read(
        trust=trust,
        seconds=statistics.median(timings[1:]),
        first_seconds=timings[0],
        floor_seconds=floor,
        statements=log,
        schools_shown=shown,
    )


def _figures(store: str, results: Results, small: Read, large: Read) -> None:
    rows = large.trust.rows
    results.add(
        Figure(
            SECTION,
            f"trust dashboard data, {large.trust.shape.schools} schools, {store}",
            large.seconds,
            "s",
            "count(*) of the history",
            large.floor_seconds,
            target="≤ 1 s",
            met=large.seconds <= 1.0,
            note=(
                f"median of {RUNS} after a warm-up; first read {large.first_seconds:.3f} s; "
                f"at {small.trust.shape.schools} schools {small.seconds:.3f} s"
            ),
            detail={
                "volumes": rows,
                "schools_shown": large.schools_shown,
                "generated_s": round(large.trust.seconds, 1),
                "small_seconds": small.seconds,
            },
        )
    )
    n_small, n_large = len(small.statements.statements), len(large.statements.statements)
    results.add(
        Figure(
            SECTION,
            f"dashboard SQL statements, {large.trust.shape.schools} schools, {store}",
            n_large,
            "statements",
            f"at {small.trust.shape.schools} schools",
            n_small,
            target="= 1 × (none per school)",
            met=n_large == n_small,
            detail={
                "kinds_small": small.statements.kinds(),
                "kinds_large": large.statements.kinds(),
            },
        )
    )


def run_dashboard(results: Results, work: Path, sizes: DigestSizes) -> None:
    for store in STORES:
        try:
            read_ = [
                asyncio.run(read(store, work / store, schools, sizes)) for schools in sizes.schools
            ]
        except StoreMissing as missing:
            results.notes.append(f"dashboard on {store} not run: {missing}")
            continue
        _figures(store, results, read_[0], read_[-1])
