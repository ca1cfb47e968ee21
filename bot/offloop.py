"""A thread with its own event loop for SDK coroutines that block.

botbuilder's token validation fetches OpenID metadata with synchronous
`requests` from inside `async def`s; awaited on the serving loop, one slow
fetch would stall every conversation. They run here instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class BlockingWorker:
    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def run(self, coro: Coroutine[Any, Any, T], *, within: float) -> T:
        """Run `coro` on the worker's loop; TimeoutError after `within` seconds."""
        future = asyncio.run_coroutine_threadsafe(coro, self._ensure_started())
        try:
            async with asyncio.timeout(within):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            if not thread.is_alive():
                loop.close()
