"""Sending to the channel's connector (replies, updates) with a pooled aiohttp client.

botbuilder 4.17.1 sends through msrest and synchronous `requests` in a thread
pool, rebuilding its retry policy's ~500 status codes on every call and
spending seconds in retries when the connector is down. Waypoint owns this
path: one aiohttp session, a short bounded retry that honours Retry-After, and
tokens fetched off the event loop. Every send and update goes only to a service
URL the channel policy allows (bot/channel_policy.py): with credentials, https
Teams hosts, since the token goes with it; without, loopback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from bot.channel_policy import ChannelPolicy
from bot.offloop import BlockingWorker
from bot.settings import Settings
from bot.size_guard import activity_json

log = logging.getLogger("waypoint.connector")

RETRYABLE = frozenset({412, 429, 500, 502, 503, 504})
# A reply within a turn retries little: Teams is waiting on the turn.
REPLY_ATTEMPTS = 3
MAX_RETRY_AFTER = 10.0


class ConnectorError(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"connector answered {status}: {message}")
        self.status = status
        self.retry_after = retry_after

    @property
    def recipient_gone(self) -> bool:
        """403/404: the user blocked or removed the app, or the conversation is gone."""
        return self.status in (403, 404)


class ServiceUrlRefused(ConnectorError):
    """Waypoint will not send to this service URL (nothing was sent; never retried)."""

    def __init__(self) -> None:
        super().__init__(0, "the service URL is not on the allow-list")


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ConnectorError):
        return error.status in RETRYABLE
    return isinstance(error, aiohttp.ClientConnectionError | asyncio.TimeoutError)


class _RetryAfterWait:
    """Jittered backoff, but never shorter than the connector's Retry-After."""

    def __init__(self) -> None:
        self._backoff = wait_random_exponential(multiplier=0.2, max=2.0)

    def __call__(self, retry_state: Any) -> float:
        wait = float(self._backoff(retry_state))
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, ConnectorError) and error.retry_after:
            wait = max(wait, min(error.retry_after, MAX_RETRY_AFTER))
        return wait


class TokenProvider:
    """Bearer tokens for calls to the connector; none in anonymous mode."""

    def __init__(self, settings: Settings, worker: BlockingWorker) -> None:
        self.settings = settings
        self._worker = worker
        self._credentials: dict[str, Any] = {}

    async def token(self, audience: str | None) -> str | None:
        if self.settings.anonymous:
            return None
        from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
        from botframework.connector.auth import AuthenticationConstants

        scope = audience or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        credentials = self._credentials.get(scope)
        if credentials is None:
            factory = ConfigurationServiceClientCredentialFactory(self.settings.sdk_configuration())
            credentials = await factory.create_credentials(
                self.settings.app_id,
                scope,
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
                + AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT,
                True,
            )
            self._credentials[scope] = credentials

        async def fetch() -> str:
            # MSAL caches the token and only goes to the network near expiry.
            return str(credentials.get_access_token())

        return await self._worker.run(fetch(), within=15)


class Connector:
    def __init__(self, tokens: TokenProvider, *, timeout: float = 10.0) -> None:
        self._tokens = tokens
        self._policy = ChannelPolicy(tokens.settings)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=100, limit_per_host=50),
            )
        return self._session

    @property
    def sends_tokens(self) -> bool:
        """Whether sends carry the bot's token (the process has credentials)."""
        return not self._tokens.settings.anonymous

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        *,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        reply_to_id: str | None = None,
        audience: str | None = None,
        attempts: int = REPLY_ATTEMPTS,
    ) -> str:
        """POST an activity into a conversation; the id the channel gave it."""
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities"
        if reply_to_id:
            path += f"/{quote(reply_to_id, safe='')}"
        body = await self._call("POST", service_url, path, activity, audience, attempts)
        return str(body.get("id", "")) if isinstance(body, dict) else ""

    async def update(
        self,
        *,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
        audience: str | None = None,
    ) -> None:
        path = (
            f"v3/conversations/{quote(conversation_id, safe='')}"
            f"/activities/{quote(activity_id, safe='')}"
        )
        await self._call("PUT", service_url, path, activity, audience, REPLY_ATTEMPTS)

    async def _call(
        self,
        method: str,
        service_url: str,
        path: str,
        payload: dict[str, Any],
        audience: str | None,
        attempts: int,
    ) -> Any:
        if not self._policy.allows_service_url(service_url):
            raise ServiceUrlRefused()
        url = service_url.rstrip("/") + "/" + path
        # Measured as Teams measures it, and replaced if Teams would refuse it; the
        # bytes measured are the bytes sent.
        body = activity_json(payload, where=f"{method} activity").encode("utf-8")
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=_RetryAfterWait(),
            retry=retry_if_exception(_retryable),
            reraise=True,
        ):
            with attempt:
                headers = {"Content-Type": "application/json; charset=utf-8"}
                token = await self._tokens.token(audience)
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                async with self._client().request(
                    method, url, data=body, headers=headers
                ) as response:
                    if response.status >= 400:
                        raise ConnectorError(
                            response.status,
                            response.reason or "",
                            _retry_after(response.headers.get("Retry-After")),
                        )
                    if response.content_type == "application/json":
                        return await response.json()
                    return None
        return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
