"""`digest` and `digest report`: this week's digest as the reader will get it, and who
the latest trust digest reached. The cards built here are also the ones
bot/scheduled/digests.py composes and queues each week.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cards.render import render_card
from dialogs.registry import Registry
from dialogs.turn import Reply, Turn
from dialogs.words import full_day
from storage.delivery_report import delivery_report, latest_period
from storage.digests import (
    TRUST_DIGEST,
    SchoolPosition,
    TrustPosition,
    last_digest_at,
    trust_position,
    week_period,
)
from storage.models import Role
from storage.visits import visit_year


class DigestVerb(StrEnum):
    # A page of "Show all schools".
    page = "digest.page"


# Issue 7 gives the trust digest to trust leads; a trust admin loads data, not reads it.
TRUST_READERS = frozenset({Role.trust_lead})
# What one card holds before "Show all schools": it stays far under Teams' limit
# however many schools the trust has.
ATTENTION_SHOWN = 12
OTHERS_SHOWN = 20
PAGE_SIZE = 25


def register(registry: Registry) -> None:
    registry.command(
        "digest",
        title="Digest",
        summary="This week's digest: the trust's, or your school's",
        phrases=("digest", "weekly digest", "show digest"),
        private=True,
        roles=frozenset({Role.trust_lead, Role.head}),
    )(preview)
    registry.command(
        "digest_report",
        title="Digest report",
        summary="Who the latest trust digest reached",
        phrases=("digest report", "delivery report"),
        private=True,
        roles=TRUST_READERS,
    )(report)
    registry.verb(DigestVerb.page, private=True, roles=TRUST_READERS)(page)


# -- the cards ------------------------------------------------------------------------


def school_line(s: SchoolPosition) -> str:
    """One school in a line: its figures, counts only."""
    parts = [s.category or "not yet categorised"]
    if s.reasons:
        parts.append(", ".join(s.reasons))
    actions = f"actions {s.open_actions}"
    if s.overdue_actions:
        actions += f" ({s.overdue_actions} overdue)"
    parts.append(actions)
    parts.append(f"visits {s.visits_done}/{s.visits_entitled}")
    if s.coached_6_weeks is not None:
        parts.append(f"coached {s.coached_6_weeks}% in 6 weeks")
    if s.qa_expected:
        parts.append(f"QA {s.qa_submitted}/{s.qa_expected}")
    if s.open_concerns:
        parts.append(f"{s.open_concerns} attendance concern{'' if s.open_concerns == 1 else 's'}")
    return " · ".join(parts)


def trust_digest_card(position: TrustPosition) -> dict[str, Any]:
    ordered = position.attention_first()
    attention = [s for s in ordered if s.needs_attention]
    others = [s for s in ordered if not s.needs_attention]
    shown_attention = attention[:ATTENTION_SHOWN]
    shown_others = others[:OTHERS_SHOWN]
    changes = position.changes
    change_lines: list[str] = []
    if changes.since is None:
        change_lines.append("This is the first digest: changes are reported from next week.")
    else:
        for school, category in changes.recategorised[:10]:
            change_lines.append(f"{school} is now {category}")
        if len(changes.recategorised) > 10:
            change_lines.append(f"and {len(changes.recategorised) - 10} more categorisations")
        change_lines += [
            f"{changes.actions_done} actions done, {changes.actions_new} new",
            f"{changes.coaching_held} coaching sessions held",
            f"{changes.qa_submitted} QA summaries submitted",
            f"{changes.concerns_raised} attendance concerns raised",
        ]
    total_concerns = sum(s.open_concerns for s in position.schools)
    persistent = sum(s.persistent for s in position.schools)
    severe = sum(s.severe for s in position.schools)
    return render_card(
        "digest_trust",
        verbs=DigestVerb,
        title=f"Weekly digest — {position.trust_name}",
        subtitle=f"Week of {full_day(position.today)} · {len(position.schools)} schools",
        distribution=[(name, count) for name, count in position.distribution],
        distribution_text="Schools by category: "
        + ", ".join(f"{name} {count}" for name, count in position.distribution),
        attention_heading=(
            f"Needs attention ({len(attention)})" if attention else "No school needs attention"
        ),
        attention=[{"name": s.name, "line": school_line(s)} for s in shown_attention],
        more_attention=(
            f"and {len(attention) - len(shown_attention)} more: Show all schools"
            if len(attention) > len(shown_attention)
            else None
        ),
        others=[{"name": s.name, "line": school_line(s)} for s in shown_others],
        more_others=(
            f"and {len(others) - len(shown_others)} more schools: Show all schools"
            if len(others) > len(shown_others)
            else None
        ),
        attendance=(
            f"{total_concerns} open across the trust: {persistent} persistent absence, "
            f"{severe} severe absence."
        ),
        changes=change_lines,
    )


def school_digest_card(position: TrustPosition, s: SchoolPosition) -> dict[str, Any]:
    facts = [
        ("Category", s.category or "not yet categorised"),
        (
            "Actions",
            f"{s.open_actions} open, {s.overdue_actions} overdue, {s.due_soon} due in 2 weeks",
        ),
        (
            "Adviser visits",
            f"{s.visits_done} of {s.visits_entitled} this year ({visit_year(position.today)})",
        ),
        (
            "QA",
            f"{s.qa_submitted} of {s.qa_expected} submitted for {position.qa_term}"
            + (f" (missing: {', '.join(s.qa_missing)})" if s.qa_missing else "")
            if position.qa_term and s.qa_expected
            else "no QA window open",
        ),
        (
            "Coaching",
            "no teachers listed"
            if s.coached_6_weeks is None
            else f"{s.coached_2_weeks}% of teachers in 2 weeks, {s.coached_6_weeks}% in 6 weeks",
        ),
        (
            "Attendance",
            f"{s.open_concerns} open concerns ({s.persistent} persistent, {s.severe} severe)",
        ),
    ]
    return render_card(
        "digest_school",
        title=f"Weekly digest — {s.name}",
        subtitle=f"Week of {full_day(position.today)}",
        reasons=", ".join(s.reasons),
        facts=facts,
    )


# -- asking -------------------------------------------------------------------------


async def _position_for(turn: Turn, school_ids: list[int] | None) -> TrustPosition:
    async with turn.sessions() as session:
        since = await last_digest_at(
            session, trust_id=turn.actor.trust_id, before_period=week_period(turn.today)
        )
        return await trust_position(
            session,
            trust_id=turn.actor.trust_id,
            today=turn.today,
            school_ids=school_ids,
            since=since,
        )


async def preview(turn: Turn) -> Reply:
    actor = turn.actor
    if actor.has_any(TRUST_READERS):
        return Reply(card=trust_digest_card(await _position_for(turn, None)))
    headed = actor.schools_where({Role.head})
    if not headed:
        return Reply(text="You aren't head of a school yet, so there is no digest for you.")
    position = await _position_for(turn, sorted(headed))
    # A head of two schools sees the first here; both arrive on Monday.
    return Reply(card=school_digest_card(position, position.schools[0]))


async def page(turn: Turn) -> Reply:
    number = turn.data.get("page")
    page_number = number if isinstance(number, int) and number > 0 else 1
    position = await _position_for(turn, None)
    ordered = position.attention_first()
    pages = max(1, -(-len(ordered) // PAGE_SIZE))
    page_number = min(page_number, pages)
    chunk = ordered[(page_number - 1) * PAGE_SIZE : page_number * PAGE_SIZE]
    card = render_card(
        "digest_page",
        verbs=DigestVerb,
        title=f"All schools — {position.trust_name}",
        subtitle=f"Page {page_number} of {pages}, schools that need attention first",
        schools=[
            {"name": s.name, "line": school_line(s), "attention": s.needs_attention} for s in chunk
        ],
        previous=page_number - 1 if page_number > 1 else None,
        next=page_number + 1 if page_number < pages else None,
    )
    return Reply(card=card)


# How each delivery state reads in `digest report`, in the order shown. The first four
# are always shown; the rest only when some delivery is in that state.
STATUS_LABELS = {
    "sent": "Delivered",
    "waiting": "Not installed yet",
    "gone": "Blocked or removed",
    "failed": "Failed",
    "pending": "Queued",
    "sending": "Being sent",
    "unconfirmed": "Unconfirmed",
    "expired": "Expired: never installed",
}
ALWAYS_SHOWN = ("sent", "waiting", "gone", "failed")


async def report(turn: Turn) -> Reply:
    async with turn.sessions() as session:
        period = await latest_period(session, trust_id=turn.actor.trust_id, kind=TRUST_DIGEST)
        if period is None:
            return Reply(text="No trust digest has been sent yet.")
        result = await delivery_report(
            session, trust_id=turn.actor.trust_id, kind=TRUST_DIGEST, period=period
        )
    names: dict[str, list[str]] = {}
    for name, status in result.not_reached:
        names.setdefault(status, []).append(name)
    # One line per state, its count and who: each state is named once.
    rows = [
        (label, _count_and_names(result.counts.get(status, 0), names.get(status, [])))
        for status, label in STATUS_LABELS.items()
        if status in ALWAYS_SHOWN or result.counts.get(status)
    ]
    recipients = f"{result.total} recipient{'' if result.total == 1 else 's'}"
    card = render_card(
        "digest_report",
        title=f"Trust digest {period}: {recipients}",
        counts=rows,
        note=(
            "Not installed yet: sent when they open Waypoint, or replaced by next week's digest."
            if result.counts.get("waiting")
            else None
        ),
    )
    return Reply(card=card)


def _count_and_names(count: int, names: list[str]) -> str:
    if not names:
        return str(count)
    more = count - len(names)
    return f"{count}: {', '.join(names)}" + (f" and {more} more" if more > 0 else "")
