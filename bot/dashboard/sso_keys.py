"""Entra ID's signing keys, read and cached off the event loop.

pyjwt's PyJWKClient reads the JSON Web Key Set with urllib, which blocks: every read
runs in a worker thread (asyncio.to_thread), so a slow key endpoint stalls no
conversation. The client caches the set for KEYS_LIFETIME, and a token naming a key
it does not hold (Entra rotates keys) fetches the set again, at most once per
REFETCH_COOLDOWN, so tokens with made-up key ids cannot make Waypoint hammer Entra.
"""

from __future__ import annotations

import asyncio

from jwt import PyJWK, PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

# Microsoft advises reading the keys about daily; a new key is picked up on first use.
KEYS_LIFETIME = 6 * 60 * 60.0
REFETCH_COOLDOWN = 5 * 60.0
FETCH_TIMEOUT = 10.0


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
    ) -> None:
        self.url = url
        self._client = PyJWKClient(
            url,
            cache_jwk_set=True,
            lifespan=lifetime,
            cooldown_duration=cooldown,
            timeout=timeout,
        )

    async def key_for(self, kid: str) -> PyJWK:
        """The public key with this id; UnknownKey or KeysUnavailable."""
        try:
            return await asyncio.to_thread(self._client.get_signing_key, kid)
        except PyJWKClientConnectionError as error:
            raise KeysUnavailable(str(error)) from error
        except PyJWKClientError as error:
            if str(error).startswith("Unable to find a signing key"):
                raise UnknownKey(str(error)) from error
            # Not a key set (no signing keys, not a JSON object).
            raise KeysUnavailable(str(error)) from error
        except (PyJWKSetError, ValueError) as error:
            raise KeysUnavailable(str(error)) from error
