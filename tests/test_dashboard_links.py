"""Signed dashboard links: what a token says, for how long, and that nothing else
verifies (the API dash-sso's exchange also signs with)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.dashboard.links import (
    BadLink,
    LinkClaims,
    SignedLinks,
    dashboard_url,
    sign_dashboard_link,
    verify_dashboard_link,
)

SECRET = b"a-dashboard-secret-of-forty-bytes-0123456"
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def test_a_link_names_its_person_and_trust_for_fifteen_minutes() -> None:
    token = sign_dashboard_link(SECRET, person_id=7, trust_id=3, now=NOW)
    for later in (timedelta(0), timedelta(minutes=14, seconds=59)):
        assert verify_dashboard_link(SECRET, token, now=NOW + later) == LinkClaims(7, 3)
    with pytest.raises(BadLink):
        verify_dashboard_link(SECRET, token, now=NOW + timedelta(minutes=15))


def test_a_changed_or_foreign_token_does_not_verify() -> None:
    token = sign_dashboard_link(SECRET, person_id=7, trust_id=3, now=NOW)
    other = sign_dashboard_link(SECRET, person_id=8, trust_id=3, now=NOW)
    payload, signature = token.split(".")
    for bad in (
        "",
        "x" * 600,
        "not.a.token",
        other.split(".")[0] + "." + signature,
        payload + "." + signature[::-1],
        sign_dashboard_link(
            b"another-secret-of-forty-bytes-0123456789", person_id=7, trust_id=3, now=NOW
        ),
    ):
        with pytest.raises(BadLink):
            verify_dashboard_link(SECRET, bad, now=NOW)


def test_the_url_carries_the_token_and_an_optional_school() -> None:
    url = dashboard_url("https://waypoint.example.org/", "TOKEN", school_id=12, theme="dark")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "waypoint.example.org",
        "/dashboard",
    )
    assert parse_qs(parts.query) == {"link": ["TOKEN"], "school": ["12"], "theme": ["dark"]}
    made = SignedLinks(SECRET, "http://127.0.0.1:3978").link_for(person_id=7, trust_id=3, now=NOW)
    assert made is not None
    (token,) = parse_qs(urlsplit(made).query)["link"]
    assert verify_dashboard_link(SECRET, token, now=NOW) == LinkClaims(7, 3)
    assert SignedLinks(None, "http://x").link_for(person_id=7, trust_id=3, now=NOW) is None
