"""Only Teams, only to Teams: which channels, service URLs and callers Waypoint serves.

With credentials, Waypoint hands its Bot Framework token to whatever service URL
it sends to, so it sends only over https to the Teams and Bot Framework hosts on
the allow-list. Without credentials (development) nobody vouches for a request,
so it answers only loopback callers that no proxy or tunnel relayed, and sends
only to loopback service URLs: a forged serviceUrl cannot make it POST elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from bot.settings import Settings, is_loopback

# Headers a reverse proxy or tunnel adds; no local client (Teams' Agents Playground,
# the Emulator, the tests) sends them.
FORWARDING_HEADERS = (
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Server",
    "X-Forwarded-Port",
    "X-Original-Forwarded-For",
    "X-Original-Host",
    "X-Real-IP",
    "X-Client-IP",
    "True-Client-IP",
    "CF-Connecting-IP",
    "Fastly-Client-IP",
    "X-Cluster-Client-IP",
    "X-ProxyUser-Ip",
    "Via",
)


class ChannelPolicy:
    def __init__(self, settings: Settings) -> None:
        self._anonymous = settings.anonymous
        self._channels = settings.allowed_channels
        self._exact = frozenset(h for h in settings.service_url_hosts if not h.startswith("*."))
        # "*.botframework.com" → ".botframework.com": any subdomain, not the bare name.
        self._suffixes = tuple(h[1:] for h in settings.service_url_hosts if h.startswith("*."))

    def allows_channel(self, channel_id: str | None) -> bool:
        return channel_id in self._channels

    def allows_service_url(self, service_url: str) -> bool:
        """Whether Waypoint may send to `service_url` (and, with credentials, its token)."""
        try:
            parts = urlsplit(service_url)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018 (a malformed port raises here)
        except ValueError:
            return False
        if parts.username is not None or parts.password is not None or not host:
            return False
        if self._anonymous:
            return parts.scheme in ("http", "https") and is_loopback(host)
        if parts.scheme != "https":
            return False
        return host in self._exact or host.endswith(self._suffixes)

    def refuses_origin(self, host_header: str | None, headers: Mapping[str, str]) -> str | None:
        """Why an anonymous-mode request must be refused, or None to serve it.

        Anonymous mode trusts whoever calls, so the caller must be on this machine:
        a tunnel or reverse proxy shows itself by the Host it was reached at, or by
        the forwarding headers it adds.
        """
        if not self._anonymous:
            return None
        if not host_header or not is_loopback(_host_name(host_header)):
            return "development mode answers only requests addressed to a loopback host"
        for name in FORWARDING_HEADERS:
            if name in headers:
                return "development mode answers no request relayed by a proxy or tunnel"
        return None


def _host_name(host_header: str) -> str:
    """The host of a Host header, without its port ("[::1]:3978" → "::1")."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host
