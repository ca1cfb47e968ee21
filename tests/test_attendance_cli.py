"""`waypoint retention apply` and `waypoint audit` against a real store (both stores)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main as waypoint
from storage.attendance.concerns import (
    ConcernDetails,
    ConcernUpdate,
    close_concern,
    raise_concern,
    record_view,
    update_concern,
)
from storage.attendance.retention import retention_expired
from storage.directory import Actor
from storage.models import AttendanceConcern, AuditEvent, ConcernEvent, Role, Trust
from tests.support import HEAD, OTHER_TENANT, TENANT, in_store, seed_trust

T = TypeVar("T")


@pytest.mark.parametrize(
    ("closed_at", "today", "years", "expired"),
    [
        # Closed in 2023-24: kept to 31 August 2026, anonymised from 1 September.
        (datetime(2024, 7, 20, 12, tzinfo=UTC), date(2026, 8, 31), 2, False),
        (datetime(2024, 7, 20, 12, tzinfo=UTC), date(2026, 9, 1), 2, True),
        # 00:30 on 1 September in the UK is the new academic year (2024-25).
        (datetime(2024, 8, 31, 23, 30, tzinfo=UTC), date(2026, 9, 1), 2, False),
        (datetime(2024, 8, 31, 22, 30, tzinfo=UTC), date(2026, 9, 1), 2, True),
        (datetime(2025, 10, 1, tzinfo=UTC), date(2026, 9, 1), 1, False),
        (datetime(2025, 10, 1, tzinfo=UTC), date(2027, 9, 1), 1, True),
        (datetime(2025, 10, 1, tzinfo=UTC), date(2027, 9, 1), 2, False),
    ],
)
def test_retention_is_the_academic_year_of_closure_plus_the_trusts_years(
    closed_at: datetime, today: date, years: int, expired: bool
) -> None:
    assert retention_expired(closed_at, today, years, ZoneInfo("Europe/London")) is expired


PLAN = {
    # pupil: (closed at, or None for still open)
    "EXP1": datetime(2024, 7, 20, 12, tzinfo=UTC),
    "EDGE2": datetime(2024, 8, 31, 23, 30, tzinfo=UTC),
    "EXP3": datetime(2024, 8, 31, 22, 30, tzinfo=UTC),
    "OPEN4": None,
    "NEW5": datetime(2025, 10, 1, 9, tzinfo=UTC),
}


async def _seed(sessions: Any) -> dict[str, int]:
    seeded = await seed_trust(sessions)
    other = await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    ids: dict[str, int] = {}
    async with sessions.begin() as session:
        plan = [(p, c, seeded.trust_id, seeded) for p, c in PLAN.items()]
        plan.append(("FAR6", datetime(2020, 1, 10, tzinfo=UTC), other.trust_id, other))
        for n, (pupil, closed_at, trust_id, trust) in enumerate(plan):
            raised_at = datetime(2022, 9, 15, 9, tzinfo=UTC)
            head = trust.person_ids[HEAD]
            row, _ = await raise_concern(
                session,
                trust_id=trust_id,
                raised_by=head,
                form_id=f"{n:032x}",
                details=ConcernDetails(
                    school_id=trust.school_ids["100001"],
                    pupil_ref=pupil,
                    year_group="6",
                    attendance_percent=Decimal("72.5"),
                    unauthorised_sessions=12,
                    concern_type="persistent",
                    vulnerable=["eal"],
                    done_so_far=f"done so far for {pupil}",
                    stage="listen",
                ),
                raised_at=raised_at,
                today=raised_at.date(),
            )
            await update_concern(
                session,
                row=row,
                by=head,
                form_id=f"{n + 100:032x}",
                change=ConcernUpdate(
                    stage="facilitate",
                    action_on=raised_at.date(),
                    action=f"action text for {pupil}",
                    next_review_on=raised_at.date() + timedelta(days=7),
                ),
                at=raised_at,
            )
            if closed_at is not None:
                await close_concern(
                    session,
                    row=row,
                    by=head,
                    form_id=f"{n + 200:032x}",
                    outcome="improved",
                    note=f"closing note for {pupil}",
                    at=closed_at,
                )
            actor = Actor(
                trust_id=trust_id,
                trust_name="",
                person_id=head,
                display_name="",
                school_roles={trust.school_ids["100001"]: frozenset({Role.head})},
            )
            await record_view(session, actor=actor, concern=row, action="attendance.view")
            ids[pupil] = row.id
    return ids


async def _state(sessions: Any) -> dict[int, tuple[Any, ...]]:
    async with sessions() as session:
        concerns = await session.scalars(select(AttendanceConcern))
        state: dict[int, tuple[Any, ...]] = {}
        for c in concerns:
            events = await session.scalars(
                select(ConcernEvent)
                .where(ConcernEvent.concern_id == c.id)
                .order_by(ConcernEvent.id)
            )
            state[c.id] = (
                c.pupil_ref,
                c.done_so_far,
                c.anonymised_at is not None,
                (c.attendance_percent, c.persistent_absence, c.stage, c.vulnerable, c.outcome),
                [(e.kind, e.text) for e in events],
            )
        return state


def test_retention_apply_anonymises_exactly_the_expired_concerns(
    store_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = in_store(store_env, _seed)
    before = in_store(store_env, _state)

    # The last day of retention: nothing goes.
    assert waypoint(["retention", "apply", "--tenant-id", TENANT, "--today", "2026-08-31"]) == 0
    assert "anonymised 0 closed attendance concerns" in capsys.readouterr().out
    assert in_store(store_env, _state) == before

    assert waypoint(["retention", "apply", "--tenant-id", TENANT, "--today", "2026-09-01"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        "anonymised 2 closed attendance concerns (kept for the academic year of closure plus 2)"
    )
    after = in_store(store_env, _state)
    for pupil in ("EXP1", "EXP3"):
        ref, done, anonymised, kept, events = after[ids[pupil]]
        assert (ref, done, anonymised) == ("anonymised", "", True)
        # Counts keep working: figures, flags, stage, groups and outcome stay.
        assert kept == before[ids[pupil]][3]
        assert events == [
            ("raised", ""),
            ("stage", ""),
            ("action", ""),
            ("review", ""),
            ("closed", ""),
            ("anonymised", ""),
        ]
    for pupil in ("EDGE2", "OPEN4", "NEW5", "FAR6"):
        assert after[ids[pupil]] == before[ids[pupil]], pupil
    assert "closing note for EDGE2" in str(after[ids["EDGE2"]])

    async def anonymise_events(sessions: Any) -> list[tuple[Any, ...]]:
        async with sessions() as session:
            rows = await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "attendance.anonymise")
            )
            return sorted((e.subject_id, e.person_id, e.outcome, e.subject_type) for e in rows)

    assert in_store(store_env, anonymise_events) == [
        (ids["EXP1"], None, "ok", "attendance_concern"),
        (ids["EXP3"], None, "ok", "attendance_concern"),
    ]
    # Run again: nothing more to do, nothing recorded twice.
    assert waypoint(["retention", "apply", "--tenant-id", TENANT, "--today", "2026-09-01"]) == 0
    assert "anonymised 0" in capsys.readouterr().out

    # The period is the trust's own: one year takes the 2024-25 closure too.
    assert waypoint(["retention", "set", "--tenant-id", TENANT, "--years", "1"]) == 0
    assert "academic year of closure plus 1" in capsys.readouterr().out

    async def years(sessions: Any) -> list[tuple[str, int]]:
        async with sessions() as session:
            rows = await session.execute(
                select(Trust.tenant_id, Trust.attendance_retention_years).order_by(Trust.id)
            )
            return [(t, y) for t, y in rows]

    # The other trust keeps the default.
    assert in_store(store_env, years) == [(TENANT, 1), (OTHER_TENANT, 2)]
    assert waypoint(["retention", "apply", "--tenant-id", TENANT, "--today", "2026-09-01"]) == 0
    assert "anonymised 1 closed attendance concern (kept for" in capsys.readouterr().out
    final = in_store(store_env, _state)
    assert final[ids["EDGE2"]][0] == "anonymised"
    assert final[ids["NEW5"]] == before[ids["NEW5"]]
    assert final[ids["FAR6"]] == before[ids["FAR6"]]


def test_audit_prints_the_trail_without_pupil_data(
    store_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = in_store(store_env, _seed)
    assert waypoint(["retention", "apply", "--tenant-id", TENANT, "--today", "2026-09-01"]) == 0
    capsys.readouterr()
    assert waypoint(["audit", "--tenant-id", TENANT]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0] == "at\twho\taction\toutcome\tschool\tsubject"
    assert any(
        "\tHana Head (#" in line
        and f"\tattendance.raise\tok\tOakfield Primary\tattendance_concern #{ids['EXP1']}" in line
        for line in lines
    )
    assert any(
        line.split("\t")[1:3] == ["waypoint", "attendance.anonymise"]
        and line.endswith(f"#{ids['EXP3']}")
        for line in lines
    )
    actions = [line.split("\t")[2] for line in lines[1:]]
    # Five concerns of this trust raised, updated and viewed; four closed; two anonymised.
    assert actions.count("attendance.raise") == 5
    assert actions.count("attendance.update") == 5
    assert actions.count("attendance.close") == 4
    assert actions.count("attendance.view") == 5
    assert actions.count("attendance.anonymise") == 2
    for pupil in PLAN:
        assert pupil not in out
    assert "text for" not in out and "note for" not in out
    # The other trust's trail is its own.
    assert f"#{ids['FAR6']}" not in out
    assert waypoint(["audit", "--tenant-id", TENANT, "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [lines[0]]
    assert waypoint(["audit", "--tenant-id", "nobody"]) == 1
    assert "no trust with tenant id nobody" in capsys.readouterr().err
