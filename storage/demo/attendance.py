"""The demo's attendance concerns, at several of the support-first stages: raised by
staff, followed up by the attendance leads, one closed. Pupil references are
obviously fake (DEMO01…); only the counts reach a digest. Written through
`raise_concern`, `update_concern` and `close_concern`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from storage.attendance.concerns import (
    ConcernDetails,
    ConcernUpdate,
    close_concern,
    raise_concern,
    update_concern,
)
from storage.demo.cast import (
    BRONTE,
    KINGSBRIDGE,
    LLWYNCELYN,
    OAKFIELD,
    RIVERSIDE,
    ST_MARYS,
    Cast,
)


@dataclass(frozen=True)
class Followed:
    """What the attendance lead did `ago` days ago: moved it on, or closed it."""

    ago: int
    stage: str = ""
    action: str = ""
    # Days ago the next review is due (negative: ahead).
    review: int | None = None
    outcome: str = ""


@dataclass(frozen=True)
class DemoConcern:
    urn: str
    ref: str
    year_group: str
    percent: str
    unauthorised: int
    concern_type: str
    raised_by: str
    ago: int
    stage: str
    done_so_far: str
    vulnerable: tuple[str, ...] = ()
    followed: tuple[Followed, ...] = ()


CONCERNS = (
    DemoConcern(
        OAKFIELD, "DEMO01", "3", "88.5", 4, "persistent", "Kerry Walsh", 40, "listen",
        "Phone calls home; attendance letter 1.", ("disadvantaged",),
        (Followed(20, "facilitate", "Met parents; agreed a morning routine plan.", -7),),
    ),
    DemoConcern(
        OAKFIELD, "DEMO02", "5", "91.0", 2, "pattern", "Liam Doherty", 12, "monitor",
        "Absent on four of the last six Mondays; spoke to the pupil.",
        followed=(Followed(10, "monitor", "Checked the register pattern with the office.", 3),),
    ),
    DemoConcern(
        OAKFIELD, "DEMO03", "1", "84.0", 12, "persistent", "Kerry Walsh", 60, "facilitate",
        "Early help assessment offered and accepted.", ("sen_support",),
        (Followed(30, "formalise", "Parenting contract agreed with the family.", -3),),
    ),
    DemoConcern(
        OAKFIELD, "DEMO04", "R", "89.0", 1, "lateness", "Hannah Greene", 75, "monitor",
        "Late most mornings; breakfast club offered.",
        followed=(Followed(15, outcome="improved"),),
    ),
    DemoConcern(
        LLWYNCELYN, "DEMO05", "6", "46.0", 18, "severe", "Sarah Patel", 3, "listen",
        "Home visit made; referral to the education welfare service.", ("cin_cp",),
    ),
    DemoConcern(
        LLWYNCELYN, "DEMO06", "4", "89.0", 6, "persistent", "Elin Davies", 50, "listen",
        "Letters home; a meeting with the family.",
        followed=(Followed(21, "facilitate", "School nurse referral for asthma.", -14),),
    ),
    DemoConcern(
        RIVERSIDE, "DEMO07", "2", "90.0", 3, "persistent", "Grace Adeyemi", 30, "monitor",
        "Spoke to the parent at the gate.",
    ),
    DemoConcern(
        KINGSBRIDGE, "DEMO08", "9", "78.0", 14, "persistent", "Lisa Kowalczyk", 45, "facilitate",
        "Mentor assigned; weekly check-ins.", ("disadvantaged", "eal"),
        (Followed(16, "formalise", "Attendance contract agreed; penalty notice warning.", -10),),
    ),
    DemoConcern(
        KINGSBRIDGE, "DEMO09", "10", "55.0", 10, "persistent", "Yusuf Rahman", 20, "listen",
        "Anxiety about exams; referral to the school counsellor.",
    ),
    DemoConcern(
        ST_MARYS, "DEMO10", "4", "92.5", 0, "lateness", "Amira Haddad", 8, "expect",
        "Late three times this fortnight.",
    ),
    DemoConcern(
        BRONTE, "DEMO11", "8", "88.0", 2, "persistent", "Rebecca Lowe", 80, "monitor",
        "Illness; work sent home.", followed=(Followed(40, outcome="improved"),),
    ),
)  # fmt: skip

ATTENDANCE_LEADS = {
    OAKFIELD: "Kerry Walsh",
    LLWYNCELYN: "Sarah Patel",
    RIVERSIDE: "Sarah Patel",
    KINGSBRIDGE: "Lisa Kowalczyk",
    ST_MARYS: "Joanne Reilly",
    BRONTE: "Paul Haworth",
}


async def raise_concerns(session: AsyncSession, cast: Cast) -> None:
    for n, concern in enumerate(CONCERNS, 1):
        row, _ = await raise_concern(
            session,
            trust_id=cast.trust_id,
            raised_by=cast.person(concern.raised_by),
            form_id=f"demo-concern-{n}",
            details=ConcernDetails(
                school_id=cast.school(concern.urn).id,
                pupil_ref=concern.ref,
                year_group=concern.year_group,
                attendance_percent=Decimal(concern.percent),
                unauthorised_sessions=concern.unauthorised,
                concern_type=concern.concern_type,
                vulnerable=list(concern.vulnerable),
                done_so_far=concern.done_so_far,
                stage=concern.stage,
            ),
            raised_at=cast.at(concern.ago, 10),
            today=cast.day(concern.ago),
        )
        lead = cast.person(ATTENDANCE_LEADS[concern.urn])
        for m, step in enumerate(concern.followed, 1):
            form_id, at = f"demo-concern-{n}-{m}", cast.at(step.ago, 14)
            if step.outcome:
                await close_concern(
                    session, row=row, by=lead, form_id=form_id, outcome=step.outcome,
                    note="Attendance back above 95% for six weeks.", at=at,
                )  # fmt: skip
                continue
            await update_concern(
                session,
                row=row,
                by=lead,
                form_id=form_id,
                change=ConcernUpdate(
                    stage=step.stage,
                    action_on=cast.day(step.ago),
                    action=step.action,
                    next_review_on=None if step.review is None else cast.day(step.review),
                ),
                at=at,
            )
