"""The headers every dashboard page carries: one Content-Security-Policy for the
dashboard, its Teams tab and its configuration page.

Scripts, styles, images and fetches come from Waypoint itself and nowhere else (no
CDN, no inline script), and only Teams may frame the pages. The frame-ancestors are
the hosts Microsoft lists for Teams tabs ("Prerequisites" for tabs on Microsoft
Learn): teams.microsoft.com and its subdomains, the Microsoft 365 app's
(*.microsoft365.com, *.office.com, where Teams personal tabs also open) and
*.cloud.microsoft, where the web clients are moving; the same list as the dashboard
page's (bot/dashboard/web.py).
"""

from __future__ import annotations

TEAMS_FRAME_ANCESTORS = (
    "'self'",
    "https://teams.microsoft.com",
    "https://*.teams.microsoft.com",
    "https://*.microsoft365.com",
    "https://*.office.com",
    "https://*.cloud.microsoft",
)

_POLICY: dict[str, str] = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": " ".join(TEAMS_FRAME_ANCESTORS),
}


def content_security_policy(**directives: str) -> str:
    """The dashboard's policy; a page needing more of one directive passes it
    (`img_src="'self' data:"` sets img-src), never widening script-src lightly."""
    policy = dict(_POLICY)
    policy.update({name.replace("_", "-"): value for name, value in directives.items()})
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def page_headers(**directives: str) -> dict[str, str]:
    """Headers for a dashboard page: its CSP, no MIME sniffing, and no Referer, since
    a dashboard address carries a signed link."""
    return {
        "Content-Security-Policy": content_security_policy(**directives),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
