"""Serving until SIGTERM, then shutting down without cutting a turn or holding a claim.

On SIGTERM (or SIGINT) a replica, in this order:
1. fails its health check at once: GET /healthz answers 503 "shutting down";
2. takes no new turn: POST /api/messages answers 503 with Retry-After (and closes
   the connection), which Teams retries; a load balancer that has not yet seen the
   failed health check may still send one here, and a 503 is answered at once;
3. stops its digest scheduler and outbox sender: no row is claimed any more, a row
   claimed but not yet handed to the connector goes back to due at once (not left
   for the reclaim, bot/sender.py), a send already on the wire may finish;
4. lets the turns in flight finish, up to SHUTDOWN_GRACE seconds in all;
5. then aiohttp's own shutdown (AppRunner.cleanup): the listening socket closes, idle
   keep-alive connections close, the app's on_shutdown and on_cleanup run (the store
   is closed), and a turn still running after CUT_AFTER more seconds is cut.
The process then exits 0.

Why not `web.run_app`'s own signal handling: it closes the listening socket first,
so a health check could only be refused, never answered, and a request already
accepted by the kernel but not yet by aiohttp is reset. Here the socket stays open
while the turns in flight finish (at most SHUTDOWN_GRACE), answering 503 to all
but them, and aiohttp's runner does the rest as run_app would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

from aiohttp import web

from bot.inbound import error_response

log = logging.getLogger("waypoint.shutdown")

# Seconds after SIGTERM that the turns in flight (and a send on the wire, and the
# scheduler's tick) get to finish; then they are cut.
SHUTDOWN_GRACE = 10.0
# Seconds aiohttp's shutdown waits for a request still running after the grace.
CUT_AFTER = 0.5
# What a turn refused while shutting down tells the caller: try again in a second
# (by then the load balancer sends it to another replica).
RETRY_AFTER_SECONDS = 1


class Lifecycle:
    """One serving process's turns in flight, its background jobs and its shutdown."""

    def __init__(self, grace: float = SHUTDOWN_GRACE) -> None:
        self.grace = grace
        self.shutting_down = False
        # Set to stop the background jobs (the scheduler and the outbox sender).
        self.stop = asyncio.Event()
        self.background: list[asyncio.Task[None]] = []
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopped: asyncio.Future[None] | None = None

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Around one turn: counted while it runs."""
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def shut_down(self) -> None:
        """Steps 1 to 4 (see the module): refuse from now, stop the background jobs
        and wait for the turns in flight, all within the grace."""
        self.shutting_down = True
        log.info(
            "shutting down: %d turn(s) in flight, given up to %.0f s",
            self._in_flight,
            self.grace,
        )
        await asyncio.gather(self._turns_done(), self.stop_background())

    async def _turns_done(self) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), self.grace)
        except TimeoutError:
            log.warning("shutting down: %d turn(s) still running are cut", self._in_flight)

    async def stop_background(self) -> None:
        """Stop the scheduler and the sender (once, whoever asks first): up to the
        grace for a send on the wire or a tick under way, then cut."""
        if self._stopped is None:
            self._stopped = asyncio.ensure_future(self._stop_background())
        await asyncio.shield(self._stopped)

    async def _stop_background(self) -> None:
        self.stop.set()
        if not self.background:
            return
        _, running = await asyncio.wait(self.background, timeout=self.grace)
        for task in running:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)


def refusal() -> web.Response:
    """What a turn gets once the replica is shutting down."""
    response = error_response(503, "ShuttingDown", "this replica is shutting down")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.force_close()
    return response


async def serve_until_signalled(
    app: web.Application, lifecycle: Lifecycle, *, host: str, port: int
) -> None:
    """Serve `app` until SIGTERM or SIGINT, then shut down as the module says."""
    # Taken first: a SIGTERM while starting up shuts down once started.
    signalled = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, signalled.set)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=CUT_AFTER)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await signalled.wait()
        await lifecycle.shut_down()
    finally:
        await runner.cleanup()
    log.info("shut down")
