"""The Teams tab's single sign-on: a Teams SSO token in, the person's signed
dashboard link out.

The tab asks Teams for a token (`authentication.getAuthToken()`): a JWT Entra ID
issued for Waypoint's app registration, naming the person (`oid`) and their
organisation (`tid`). Waypoint checks it as any API checks an Entra access token:
RS256 signed by one of Entra's published keys (bot/dashboard/sso_keys.py), issued by
the token's own tenant, for this app (its id, or its `api://` URI), and in date. The
`oid` and `tid` then name the person exactly as a chat message's sender does
(storage/directory.py `who_is`), so the link carries the same person, roles and
schools as the dashboard button in chat.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dashboard.sso_keys import KeysUnavailable, SigningKeys, UnknownKey
from storage.directory import Actor, who_is

log = logging.getLogger("waypoint.dashboard.sso")

# Clocks drift: a token a few seconds from its edges is still taken.
LEEWAY_SECONDS = 60
MAX_TOKEN_LENGTH = 16 * 1024
DELEGATED_SCOPE = "access_as_user"
_REQUIRED = ["exp", "nbf", "iat", "iss", "aud", "tid", "oid"]

__all__ = ["KeysUnavailable", "NotKnown", "SsoRefused", "SsoUser", "person_for", "sso_user"]


class SsoRefused(Exception):
    """The token is not one Waypoint accepts (HTTP 401); the message says why, for
    the log, never naming the person."""


@dataclass(frozen=True)
class SsoUser:
    """Who Entra ID vouches for: the organisation and the person's object id."""

    tenant_id: str
    object_id: str


@dataclass(frozen=True)
class NotKnown:
    """A valid token for someone Waypoint cannot serve (HTTP 403); `message` says
    why and how to get access."""

    message: str


def issuers_for(tenant_id: str) -> frozenset[str]:
    """The issuers of a tenant's tokens: v2.0 and v1 (which one depends on the app
    registration's accessTokenAcceptedVersion)."""
    return frozenset(
        {
            f"https://login.microsoftonline.com/{tenant_id}/v2.0",
            f"https://sts.windows.net/{tenant_id}/",
        }
    )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def sso_user(token: str, *, keys: SigningKeys, audiences: Collection[str]) -> SsoUser:
    """The person a Teams SSO token vouches for; SsoRefused when it is not valid
    for Waypoint, KeysUnavailable when Entra's keys cannot be read just now."""
    if not audiences:
        raise SsoRefused("single sign-on is not configured (no MicrosoftAppId)")
    if len(token) > MAX_TOKEN_LENGTH:
        raise SsoRefused("token too long")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise SsoRefused(f"not a JWT: {error}") from error
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str) or not kid:
        raise SsoRefused("not an RS256 token with a key id")
    try:
        key = await keys.key_for(kid)
    except UnknownKey as error:
        raise SsoRefused("signed with a key Entra ID does not publish") from error
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=list(audiences),
            leeway=LEEWAY_SECONDS,
            options={"require": _REQUIRED},
        )
    except jwt.PyJWTError as error:
        raise SsoRefused(f"{type(error).__name__}: {error}") from error
    tenant_id, object_id = claims["tid"], claims["oid"]
    if not isinstance(tenant_id, str) or not isinstance(object_id, str):
        raise SsoRefused("tid and oid must be strings")
    # Anyone can own a tenant: a token issued by one tenant must not speak for another.
    if claims["iss"] not in issuers_for(tenant_id):
        raise SsoRefused("issuer is not the token's own tenant")
    # A token Teams gets for a signed-in person carries the scope the app exposes
    # (README: access_as_user); an app-only token has none and speaks for no one.
    scopes = claims.get("scp", "")
    if not isinstance(scopes, str) or DELEGATED_SCOPE not in scopes.split():
        raise SsoRefused(f"no delegated {DELEGATED_SCOPE} scope")
    return SsoUser(tenant_id=tenant_id, object_id=object_id)


async def person_for(session: AsyncSession, user: SsoUser) -> Actor | NotKnown:
    """The Waypoint person an SSO user is, read as chat reads a message's sender."""
    who = await who_is(session, tenant_id=user.tenant_id, aad_object_id=user.object_id)
    if isinstance(who, Actor):
        return who
    if who is None:
        return NotKnown(
            "Waypoint isn't set up for your organisation yet. Your trust's Waypoint "
            "administrator can add your trust and its people; if you don't know who "
            "that is, ask your IT team."
        )
    return NotKnown(
        f"Waypoint doesn't know you yet at {who.trust_name}, so it has no dashboard "
        "for you. Ask your school's office or your trust's IT team to have you added "
        "to Waypoint with your roles and schools."
    )
