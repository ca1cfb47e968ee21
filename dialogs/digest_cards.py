"""The digest's cards: the trust digest, a page of all schools, a head's school digest.

The cards `digest` shows are the ones bot/scheduled/digests.py composes and queues
each week. Counts only: no card here names a pupil or shows a note.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cards.render import render_card
from dialogs.words import counted, of_total, week_of
from storage.attention import Concern
from storage.digests import SchoolPosition, TrustPosition
from storage.visits import visit_year


class DigestVerb(StrEnum):
    # A page of "Show all schools".
    page = "digest.page"
    # "Back to the digest" from a page: the trust digest again, in place.
    digest = "digest.show"


# What one card holds before "Show all schools": it stays far under Teams' limit
# however many schools the trust has.
ATTENTION_SHOWN = 12
OTHERS_SHOWN = 10
PAGE_SIZE = 10

# Teams' named chart colours, one per category from the strongest to the weakest
# (spread over the list when a framework has fewer categories than colours), so
# that no two categories share a colour. Schools not yet categorised are "neutral".
CATEGORY_COLOURS = (
    "categoricalGreen",
    "categoricalLime",
    "categoricalTeal",
    "categoricalLightBlue",
    "categoricalBlue",
    "categoricalLavender",
    "categoricalPurple",
    "divergingYellow",
    "categoricalMarigold",
    "divergingPeach",
    "divergingMaroon",
    "categoricalRed",
)
UNCATEGORISED = "Not yet categorised"


def category_colours(names: list[str]) -> list[str]:
    """One distinct colour per category name, in the order given (strongest first)."""
    ranked = [name for name in names if name != UNCATEGORISED]
    last = len(CATEGORY_COLOURS) - 1
    colours: dict[str, str] = {}
    for index, name in enumerate(ranked):
        at = round(index * last / (len(ranked) - 1)) if len(ranked) > 1 else 0
        colours[name] = CATEGORY_COLOURS[min(at, last)]
    return [colours.get(name, "neutral") for name in names]


def school_line(s: SchoolPosition) -> str:
    """A school's figures in one line, counts only; none repeats one of its reasons."""
    stated = {reason.concern for reason in s.attention}
    parts: list[str] = []
    if Concern.category not in stated:
        parts.append(s.category or "not yet categorised")
    actions = f"{s.open_actions} open action{'' if s.open_actions == 1 else 's'}"
    if s.overdue_actions and Concern.overdue_actions not in stated:
        actions += f" ({s.overdue_actions} overdue)"
    parts.append(actions)
    parts.append(f"visits {s.visits_done}/{s.visits_entitled}")
    if s.coached_6_weeks is not None and Concern.coaching_low not in stated:
        parts.append(f"coached {s.coached_6_weeks}% in 6 weeks")
    if s.qa_expected:
        parts.append(f"QA {s.qa_submitted}/{s.qa_expected}")
    if s.open_concerns:
        parts.append(f"{s.open_concerns} attendance concern{'' if s.open_concerns == 1 else 's'}")
    return " · ".join(parts)


def _entry(s: SchoolPosition) -> dict[str, Any]:
    return {
        "name": s.name,
        "reasons": " · ".join(s.reasons),
        "line": school_line(s),
    }


def _chart(position: TrustPosition) -> dict[str, Any]:
    names = [name for name, _ in position.distribution]
    return {
        "bars": [
            {"name": name, "count": count, "colour": colour}
            for (name, count), colour in zip(
                position.distribution, category_colours(names), strict=True
            )
        ]
    }


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
            more = len(changes.recategorised) - 10
            change_lines.append(f"and {counted(more, 'more categorisation')}")
        change_lines += [
            f"{counted(changes.actions_done, 'action')} done, {changes.actions_new} new",
            f"{counted(changes.coaching_held, 'coaching session')} held",
            f"{counted(changes.qa_submitted, 'QA summary', 'QA summaries')} submitted",
            f"{counted(changes.concerns_raised, 'attendance concern')} raised",
        ]
    total_concerns = sum(s.open_concerns for s in position.schools)
    persistent = sum(s.persistent for s in position.schools)
    severe = sum(s.severe for s in position.schools)
    return render_card(
        "digest_trust",
        verbs=DigestVerb,
        title=f"Weekly digest — {position.trust_name}",
        subtitle=f"{week_of(position.today)} · {counted(len(position.schools), 'school')}",
        chart=_chart(position),
        attention_heading=(
            f"Needs attention ({len(attention)})" if attention else "No school needs attention"
        ),
        attention=[_entry(s) for s in shown_attention],
        more_attention=(
            f"and {len(attention) - len(shown_attention)} more: Show all schools"
            if len(attention) > len(shown_attention)
            else None
        ),
        others_heading=f"Other schools ({len(others)})",
        others=[_entry(s) for s in shown_others],
        more_others=(
            f"and {counted(len(others) - len(shown_others), 'more school')}: Show all schools"
            if len(others) > len(shown_others)
            else None
        ),
        attendance=(
            f"{total_concerns} open across the trust: {persistent} persistent absence, "
            f"{severe} severe absence."
        ),
        changes=change_lines,
    )


def digest_page_card(position: TrustPosition, page_number: int) -> dict[str, Any]:
    """One page of every school, those that need attention first (most severe first)."""
    ordered = position.attention_first()
    pages = max(1, -(-len(ordered) // PAGE_SIZE))
    page_number = min(max(page_number, 1), pages)
    chunk = ordered[(page_number - 1) * PAGE_SIZE : page_number * PAGE_SIZE]
    attention = sum(1 for s in ordered if s.needs_attention)
    return render_card(
        "digest_page",
        verbs=DigestVerb,
        title=f"All schools — {position.trust_name}",
        subtitle=(
            f"Page {page_number} of {pages} · {len(ordered)} schools, "
            f"{attention} needing attention (listed first)"
        ),
        schools=[_entry(s) | {"attention": s.needs_attention} for s in chunk],
        previous=page_number - 1 if page_number > 1 else None,
        next=page_number + 1 if page_number < pages else None,
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
            f"{of_total(s.qa_submitted, s.qa_expected, 'subject')} submitted for {position.qa_term}"
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
            f"{counted(s.open_concerns, 'open concern')} ({s.persistent} persistent, "
            f"{s.severe} severe)",
        ),
    ]
    return render_card(
        "digest_school",
        title=f"Weekly digest — {s.name}",
        subtitle=week_of(position.today),
        reasons=" · ".join(s.reasons),
        facts=facts,
    )
