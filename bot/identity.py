"""Who sent an activity: the trust by tenant, the person by Entra object id.

The trust comes from `channelData.tenant.id`: botbuilder drops
`conversation.tenantId` when it deserialises, and Teams always sends the former.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession

from storage.directory import Actor
from storage.directory_cache import DirectoryCache, who_is_cached


@dataclass(frozen=True)
class Stranger:
    """Someone Waypoint cannot serve; `message` says why and how to get access."""

    message: str
    trust_id: int | None = None


def tenant_of(activity: Activity) -> str | None:
    data: Any = activity.channel_data
    if isinstance(data, dict):
        tenant = data.get("tenant")
        if isinstance(tenant, dict) and isinstance(tenant.get("id"), str) and tenant["id"]:
            return str(tenant["id"])
    return None


def aad_object_id_of(activity: Activity) -> str | None:
    sender = activity.from_property
    value = getattr(sender, "aad_object_id", None) if sender is not None else None
    return value if isinstance(value, str) and value else None


async def identify(
    session: AsyncSession, activity: Activity, directory: DirectoryCache
) -> Actor | Stranger:
    tenant_id = tenant_of(activity)
    if tenant_id is None:
        return Stranger(
            "Waypoint works inside Microsoft Teams for the staff of a school trust, "
            "and I couldn't tell which organisation this message came from."
        )
    who = await who_is_cached(
        session, directory, tenant_id=tenant_id, aad_object_id=aad_object_id_of(activity)
    )
    if who is None:
        return Stranger(
            "Hello! Waypoint isn't set up for your organisation yet. Your trust's "
            "Waypoint administrator can add your trust and its people; if you don't "
            "know who that is, ask your IT team."
        )
    if isinstance(who, Actor):
        return who
    # Anyone in the tenant can write to the bot: the answer names no one, so it
    # tells a stranger nothing about who runs the trust's Waypoint.
    return Stranger(
        f"Hello! Waypoint doesn't know you yet at {who.trust_name}. Ask your school's "
        "office or your trust's IT team to have you added to Waypoint with your "
        "roles and schools.",
        trust_id=who.trust_id,
    )
