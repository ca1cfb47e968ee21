"""`digest` and `digest report`: this week's digest as the reader will get it, and who
the latest trust digest reached; "Show all schools" and "Back to the digest". The
cards (dialogs/digest_cards.py) are also the ones bot/scheduled/digests.py composes
and queues each week.
"""

from __future__ import annotations

from cards.render import render_card
from dialogs.digest_cards import (
    DigestVerb,
    digest_page_card,
    school_digest_card,
    trust_digest_card,
)
from dialogs.registry import Registry
from dialogs.turn import Reply, Turn
from dialogs.words import counted
from storage.delivery_report import delivery_report, latest_period
from storage.digests import (
    TRUST_DIGEST,
    TrustPosition,
    last_digest_at,
    trust_position,
    week_period,
)
from storage.models import Role

# Issue 7 gives the trust digest to trust leads; a trust admin loads data, not reads it.
TRUST_READERS = frozenset({Role.trust_lead})


def register(registry: Registry) -> None:
    registry.command(
        "digest",
        title="Digest",
        summary="This week's digest: the trust's for trust leads, a school's for its head",
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
    registry.verb(DigestVerb.digest, private=True, roles=TRUST_READERS)(back_to_digest)


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
    """A page of "Show all schools", in place of the card it was asked from."""
    number = turn.data.get("page")
    page_number = number if isinstance(number, int) and number > 0 else 1
    return Reply(card=digest_page_card(await _position_for(turn, None), page_number))


async def back_to_digest(turn: Turn) -> Reply:
    """ "Back to the digest" from a page: this week's trust digest, in place."""
    return Reply(card=trust_digest_card(await _position_for(turn, None)))


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
    card = render_card(
        "digest_report",
        title=f"Trust digest {period}: {counted(result.total, 'recipient')}",
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
