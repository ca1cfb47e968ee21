"""Every outgoing activity is measured as Teams measures it before it leaves; one too
large for Teams is replaced by a short card saying so, with the smaller views it offered.

Teams' limit (learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages,
"Regarding bot message size limit"): about 100 KB per bot message, counted on the
message payload encoded as UTF-16 (base64 images aside); Microsoft recommends keeping
a message within 80 KB to be sure it is delivered, and one over the limit is refused
with 413 RequestEntityTooLarge (MessageSizeTooBig). Older versions of that page gave
40 KB and 28 KB. So the payload is measured as its JSON in UTF-16
(`teams_size`) against `MAX_MESSAGE_BYTES`.

Every send path goes through here: what is posted or put into a conversation
(bot/connector.py `Connector._call`: turn replies, updates and the outbox's proactive
messages) and what a turn answers in its HTTP body (bot/adapter.py `turn_result_body`:
an invoke's card and `expectReplies` replies).

The smaller view is the card's own to name: a button with `"id": "smaller"` (the
digest page's "Back to the digest", the note of visit's "All notes of visit") is
carried onto the replacement; every replacement also offers Home. The log line says
where, how large, and which card by its buttons' verbs: never what it showed.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from cards.render import ADAPTIVE_CARD, attachment, render_card

log = logging.getLogger("waypoint.size")

# The size Teams is sure to deliver (see above), in bytes of UTF-16.
MAX_MESSAGE_BYTES = 80 * 1024
# The id a card gives the button(s) of its smaller view.
SMALLER = "smaller"
# What an activity loses when it is replaced: whatever showed the answer.
_SHOWN = ("text", "speak", "summary", "attachments", "attachmentLayout", "value", "entities")


def teams_size(payload: Any) -> int:
    """Bytes of `payload`'s JSON in UTF-16, as Teams counts them: two per UTF-16 code
    unit, so a character outside the Basic Multilingual Plane (an emoji) counts four."""
    return len(_json(payload).encode("utf-16-le"))


def _json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, default=str)


def fit_activity(activity: dict[str, Any], *, where: str) -> dict[str, Any]:
    """`activity`, or, if Teams would refuse it as too large, a copy showing only the
    too-large card."""
    size = teams_size(activity)
    if size <= MAX_MESSAGE_BYTES:
        return activity
    cards = _cards(activity)
    fitted = {key: value for key, value in activity.items() if key not in _SHOWN}
    fitted["attachments"] = [attachment(too_large_card(cards, size))]
    _log(where, size, cards)
    return fitted


def activity_json(activity: dict[str, Any], *, where: str) -> str:
    """The JSON to send for `activity` (replaced if too large): measured and sent as
    the same serialisation."""
    text = _json(activity)
    if len(text.encode("utf-16-le")) <= MAX_MESSAGE_BYTES:
        return text
    return _json(fit_activity(activity, where=where))


def fit_result_body(body: Any) -> Any:
    """A turn's HTTP answer with each activity or invoke card in it that Teams would
    refuse replaced: `expectReplies` replies (`{"activities": [...]}`) one by one, an
    invoke answer (`{"statusCode", "type", "value"}`) whole."""
    if not isinstance(body, dict):
        return body
    activities = body.get("activities")
    if isinstance(activities, list):
        fitted = [
            fit_activity(a, where="expectReplies reply") if isinstance(a, dict) else a
            for a in activities
        ]
        return body | {"activities": fitted}
    if "statusCode" in body and "value" in body:
        size = teams_size(body)
        if size <= MAX_MESSAGE_BYTES:
            return body
        value = body.get("value")
        cards = [value] if body.get("type") == ADAPTIVE_CARD and isinstance(value, dict) else []
        _log("invoke answer", size, cards)
        return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": too_large_card(cards, size)}
    return body


def too_large_card(cards: list[dict[str, Any]], size: int) -> dict[str, Any]:
    """What is shown in place of an answer of `size` bytes: the smaller views its
    `cards` offered, and Home."""
    smaller = [copy.deepcopy(action) for card in cards for action in _smaller_actions(card)]
    return render_card(
        "too_large",
        size_kb=-(-size // 1024),
        limit_kb=MAX_MESSAGE_BYTES // 1024,
        smaller=smaller,
    )


def _cards(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for a in activity.get("attachments") or []
        if isinstance(a, dict)
        and a.get("contentType") == ADAPTIVE_CARD
        and isinstance(a.get("content"), dict)
    ]


def _smaller_actions(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action.") and node.get("id") == SMALLER:
            return [node]
        for value in node.values():
            found += _smaller_actions(value)
    elif isinstance(node, list):
        for item in node:
            found += _smaller_actions(item)
    return found


def _verbs(node: Any) -> set[str]:
    """The verbs a card's buttons name: which card it was, without what it showed."""
    verbs: set[str] = set()
    if isinstance(node, dict):
        verb = node.get("verb")
        if isinstance(verb, str) and str(node.get("type", "")).startswith("Action."):
            verbs.add(verb)
        data = node.get("data")
        if isinstance(data, dict) and isinstance(data.get("verb"), str):
            verbs.add(data["verb"])
            if data["verb"] == "run" and isinstance(data.get("command"), str):
                verbs.add(f"run:{data['command']}")
        for value in node.values():
            verbs |= _verbs(value)
    elif isinstance(node, list):
        for item in node:
            verbs |= _verbs(item)
    return verbs


def _log(where: str, size: int, cards: list[dict[str, Any]]) -> None:
    kind = (",".join(sorted(_verbs(cards))) or "no buttons") if cards else "no card"
    log.warning(
        "%s too large for Teams: %d bytes as UTF-16 (limit %d); sent the too-large card "
        "instead (card buttons: %s)",
        where,
        size,
        MAX_MESSAGE_BYTES,
        kind,
    )
