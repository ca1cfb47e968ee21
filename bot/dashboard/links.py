"""Signed dashboard links (DASHBOARD_SPEC.md's API).

A stand-in so the SSO exchange can be built and tested: helper dash-web owns this
module, and its version replaces this one when its branch is merged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

LINK_LIFETIME = timedelta(minutes=15)


class BadLink(Exception):
    """A missing, tampered, expired or malformed dashboard link."""


@dataclass(frozen=True)
class LinkClaims:
    person_id: int
    trust_id: int


def _mac(secret: bytes, payload: bytes) -> str:
    digest = hmac.new(secret, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_dashboard_link(secret: bytes, *, person_id: int, trust_id: int, now: datetime) -> str:
    expires = int((now + LINK_LIFETIME).timestamp())
    payload = json.dumps({"p": person_id, "t": trust_id, "e": expires}).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_mac(secret, payload)}"


def verify_dashboard_link(secret: bytes, token: str, *, now: datetime) -> LinkClaims:
    body, _, mac = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        claims = json.loads(payload)
    except ValueError as error:
        raise BadLink("malformed") from error
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise BadLink("bad signature")
    if now.timestamp() >= claims["e"]:
        raise BadLink("expired")
    return LinkClaims(person_id=claims["p"], trust_id=claims["t"])


def dashboard_url(base_url: str, token: str, *, school_id: int | None = None) -> str:
    query = {"link": token} | ({"school": str(school_id)} if school_id is not None else {})
    return f"{base_url.rstrip('/')}/dashboard?{urlencode(query)}"
