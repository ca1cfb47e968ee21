"""Each activity answered once, whichever replica it reaches (storage/deliveries.py).

Invokes are not deduplicated: they are idempotent and the channel needs their answer.
An activity another replica is answering right now is answered 503 with Retry-After
(`ActivityInFlight`, raised by the adapter after the turn), so the channel's retry
finds it finished, or takes it over if that replica died mid-turn.
"""

from __future__ import annotations

from botbuilder.schema import Activity, ActivityTypes

from storage.deliveries import Claim, claim_delivery, finish_delivery, release_delivery
from storage.engine import Sessions, store_unavailable

# Set in the turn state when the activity is being answered elsewhere.
IN_FLIGHT = "waypoint.in_flight"
RETRY_AFTER_SECONDS = 1


class ActivityInFlight(Exception):
    """Another turn, probably on another replica, is answering this activity now."""


def _key(activity: Activity) -> dict[str, str]:
    return {
        "channel_id": activity.channel_id or "",
        "conversation_id": activity.conversation.id,
        "activity_id": activity.id or "",
    }


async def claim_turn(sessions: Sessions, activity: Activity, token: str) -> Claim | None:
    """None: not deduplicated (an invoke, or an activity without an id). `token`
    names this turn's claim (`storage.deliveries.claim_token`)."""
    if activity.type == ActivityTypes.invoke or not activity.id:
        return None
    return await claim_delivery(sessions, **_key(activity), token=token)


async def finish_turn(sessions: Sessions, activity: Activity, token: str) -> None:
    await finish_delivery(sessions, **_key(activity), token=token)


async def release_turn(sessions: Sessions, activity: Activity, token: str) -> None:
    """Give up the claim of a turn that failed, so the channel's retry is answered."""
    try:
        await release_delivery(sessions, **_key(activity), token=token)
    except Exception as error:
        # With the store gone the claim can't be released; the Retry card (a new
        # activity) is the way back.
        if not store_unavailable(error):
            raise
