"""Entra ID's signing keys, read off the event loop and cached.

pyjwt's PyJWKClient reads and parses the JSON Web Key Set with urllib, which blocks:
every read runs in a worker thread (asyncio.to_thread), so a slow key endpoint stalls
no conversation, and one read at a time (the others wait for it and use its keys).
The keys are kept for KEYS_LIFETIME. A token naming a key not in the set (Entra
rotates its keys) reads the set again at once, but such reads happen at most once
per REFETCH_COOLDOWN, so tokens with made-up key ids cannot make Waypoint hammer
Entra ID. A read that fails is not tried again for FAILURE_COOLDOWN: meanwhile every
request (and every one that waited for the failed read) answers KeysUnavailable at
once, rather than each asking Entra ID in turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from jwt import PyJWK, PyJWKClient
from jwt.exceptions import PyJWTError

log = logging.getLogger("waypoint.dashboard.sso")

# Microsoft advises reading the keys about daily; a new key is picked up on first use.
KEYS_LIFETIME = 6 * 60 * 60.0
REFETCH_COOLDOWN = 5 * 60.0
FETCH_TIMEOUT = 10.0
FAILURE_COOLDOWN = 30.0


class KeysUnavailable(Exception):
    """The key set could not be read: no token can be checked just now."""


class UnknownKey(Exception):
    """The token names a key Entra ID does not publish."""


class SigningKeys:
    def __init__(
        self,
        url: str,
        *,
        lifetime: float = KEYS_LIFETIME,
        cooldown: float = REFETCH_COOLDOWN,
        timeout: float = FETCH_TIMEOUT,
        failure_cooldown: float = FAILURE_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.url = url
        self._lifetime = lifetime
        self._cooldown = cooldown
        # Reads and parses only: the caching is this class's own (above).
        self._client = PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self._keys: dict[str, PyJWK] = {}
        self._read_at: float | None = None
        self._reread_for_unknown_at: float | None = None
        self._reads = 0
        self._failure_cooldown = failure_cooldown
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> PyJWK:
        """The public key with this id; UnknownKey, or KeysUnavailable when the set
        cannot be read and none is held."""
        now = self._clock()
        if self._read_at is None or now - self._read_at >= self._lifetime:
            try:
                await self._read()
            except KeysUnavailable:
                if not self._keys:
                    raise
                # Keep the keys held; try again after the cooldown, not every request.
                self._read_at = now - self._lifetime + self._cooldown
        key = self._keys.get(kid)
        last = self._reread_for_unknown_at
        if key is None and (last is None or now - last >= self._cooldown):
            self._reread_for_unknown_at = now
            await self._read()
            key = self._keys.get(kid)
        if key is None:
            raise UnknownKey(kid)
        return key

    async def _read(self) -> None:
        reads = self._reads
        self._refuse_while_failing()
        async with self._lock:
            if self._reads != reads:
                return  # read by another request while this one waited
            # A read that failed while this one waited is not repeated at once.
            self._refuse_while_failing()
            try:
                keys = await asyncio.to_thread(self._client.get_signing_keys)
            except (PyJWTError, ValueError) as error:
                self._failed_at = self._clock()
                log.warning("Entra ID signing keys could not be read from %s: %s", self.url, error)
                raise KeysUnavailable(str(error)) from error
            self._keys = {key.key_id: key for key in keys if key.key_id}
            self._read_at = self._clock()
            self._failed_at = None
            self._reads += 1

    def _refuse_while_failing(self) -> None:
        failed = self._failed_at
        if failed is not None and self._clock() - failed < self._failure_cooldown:
            raise KeysUnavailable("the last read failed; trying again shortly")
