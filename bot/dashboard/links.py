"""Signed dashboard links: who may open the dashboard, for fifteen minutes.

A link carries a token naming the person and their trust and when it stops working,
signed with the server's secret (HMAC-SHA256). Whoever holds the link sees what that
person sees, so it is short-lived, and bound to one person and one trust: changing
either number breaks the signature, and a token signed with another server's secret
(or another trust's Waypoint) fails the same way.

Signing uses itsdangerous rather than hand-written hmac code: it is kept, it compares
signatures in constant time, encodes URL-safely, and a salt keeps a dashboard token
from ever verifying as any other token signed with the same secret. Its own timestamp
check reads the system clock, so expiry is carried in the payload and checked against
the `now` the caller passes (tests and the SSO exchange give their own clock).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeSerializer

LINK_LIFETIME = timedelta(minutes=15)
_SALT = "waypoint.dashboard-link.v1"


class BadLink(Exception):
    """A missing, tampered, expired or malformed dashboard link (the page answers 401)."""


@dataclass(frozen=True)
class LinkClaims:
    person_id: int
    trust_id: int


def _serializer(secret: bytes) -> URLSafeSerializer:
    # HMAC-SHA256 (itsdangerous signs with SHA-1 unless told otherwise).
    return URLSafeSerializer(secret, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256})


def sign_dashboard_link(secret: bytes, *, person_id: int, trust_id: int, now: datetime) -> str:
    """A token for this person of this trust, valid for LINK_LIFETIME from `now`."""
    expires = int((now + LINK_LIFETIME).timestamp())
    return str(_serializer(secret).dumps({"p": person_id, "t": trust_id, "e": expires}))


def verify_dashboard_link(secret: bytes, token: str, *, now: datetime) -> LinkClaims:
    """The person and trust a token was signed for; BadLink if it was not signed with
    `secret`, was changed, or has expired."""
    if not token or len(token) > 512:
        raise BadLink("no link")
    try:
        payload: Any = _serializer(secret).loads(token)
    except BadSignature as error:
        raise BadLink("bad signature") from error
    if not isinstance(payload, dict):
        raise BadLink("bad payload")
    person_id, trust_id, expires = payload.get("p"), payload.get("t"), payload.get("e")
    if not all(isinstance(value, int) for value in (person_id, trust_id, expires)):
        raise BadLink("bad payload")
    assert isinstance(person_id, int) and isinstance(trust_id, int)
    assert isinstance(expires, int)
    if now.timestamp() >= expires:
        raise BadLink("expired")
    return LinkClaims(person_id=person_id, trust_id=trust_id)


def dashboard_url(
    base_url: str,
    token: str,
    *,
    school_id: int | None = None,
    hub: str | None = None,
    phase: str | None = None,
    theme: str | None = None,
) -> str:
    """The dashboard page's address for a token, optionally one school's view."""
    query: dict[str, str] = {"link": token}
    if school_id is not None:
        query["school"] = str(school_id)
    if hub:
        query["hub"] = hub
    if phase:
        query["phase"] = phase
    if theme:
        query["theme"] = theme
    return f"{base_url.rstrip('/')}/dashboard?{urlencode(query)}"


@dataclass(frozen=True)
class SignedLinks:
    """The link maker the edge gives each Turn (dialogs.turn.DashboardLinks)."""

    # None when the dashboard is off, or Waypoint does not know its own address.
    secret: bytes | None
    base_url: str | None

    def link_for(self, *, person_id: int, trust_id: int, now: datetime) -> str | None:
        if self.secret is None or self.base_url is None:
            return None
        token = sign_dashboard_link(self.secret, person_id=person_id, trust_id=trust_id, now=now)
        return dashboard_url(self.base_url, token)
