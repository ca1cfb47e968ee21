"""Action.Execute (`adaptiveCard/action`) invokes: what Teams sends, what it expects back."""

from __future__ import annotations

from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes
from pydantic import BaseModel, ConfigDict, Field

from cards.render import ADAPTIVE_CARD
from dialogs.turn import Reply


class ExecuteAction(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = "Action.Execute"
    verb: str = Field(min_length=1, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict)


class ExecuteValue(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: ExecuteAction


def invoke_body(reply: Reply) -> dict[str, Any]:
    if reply.card is not None:
        return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": reply.card}
    return {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": reply.text or "",
    }


def error_body(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "InternalError" if status >= 500 else "BadRequest", "message": message},
    }


async def invoke_response(context: TurnContext, status: int, body: dict[str, Any]) -> None:
    """Answer an invoke. Universal Actions carry their outcome in the body's
    statusCode, so a handled adaptiveCard/action is HTTP 200 whatever it says."""
    http_status = 200 if context.activity.name == "adaptiveCard/action" else status
    await context.send_activity(
        Activity(
            type=ActivityTypes.invoke_response,
            value=InvokeResponse(status=http_status, body=body),
        )
    )
