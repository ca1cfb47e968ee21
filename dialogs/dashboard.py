"""`dashboard`: a button that opens the trust dashboard in a browser, through a link
signed for this person (valid fifteen minutes: ask again for a fresh one).

The link is made by the edge (`Turn.dashboard_links`, bot/dashboard/links.py): the
page shows what this person's roles reach, as chat does.
"""

from __future__ import annotations

from cards.render import render_card
from dialogs.registry import Registry
from dialogs.turn import Reply, Turn

# Said when this Waypoint makes no links (credentials without a dashboard secret).
DASHBOARD_OFF = (
    "The dashboard isn't switched on for this Waypoint yet. Your trust's Waypoint "
    "administrator can turn it on (WAYPOINT_DASHBOARD_SECRET and WAYPOINT_PUBLIC_URL)."
)


def register(registry: Registry) -> None:
    # Private: the link opens this person's dashboard for whoever holds it.
    @registry.command(
        "dashboard",
        title="Dashboard",
        summary="Charts of your schools: categories, coaching, QA, actions, attendance",
        phrases=("dashboard", "open dashboard", "show dashboard", "charts"),
        private=True,
    )
    async def dashboard(turn: Turn) -> Reply:
        actor = turn.actor
        url = turn.dashboard_links.link_for(
            person_id=actor.person_id, trust_id=actor.trust_id, now=turn.now
        )
        if url is None:
            return Reply(text=DASHBOARD_OFF)
        card = render_card(
            "dashboard_link",
            title=f"Dashboard — {actor.trust_name}",
            text=(
                "Charts and tables for the schools you reach. The button works for 15 "
                "minutes and only for you: type dashboard again for a fresh one."
            ),
            url=url,
        )
        return Reply(card=card)
