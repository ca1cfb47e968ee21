"""The cluster run's traffic: Teams-shaped activities through HAProxy, retried as Teams does.

Workers send, in turn: `category oakfield` and `my actions` (Marcus Bell, head of
Oakfield), a coaching save (Priya Shah, a new form id each time), a QA submission
(Zoë Fairbairn, Oakfield's mathematics lead, a new form id each time), and a
redelivery: one activity sent at once straight to two different replicas, as Teams
does when it did not hear back in time. A request that fails (5xx, a dropped
connection, no answer in time) is sent again, the same activity, through HAProxy,
until it is answered; any other failure is recorded as one Teams would not retry.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bench.cluster import Cluster
from bench.store import COACH_AAD, HEAD_AAD, DemoStore
from dialogs.coaching.verbs import CoachingVerb
from dialogs.qa.verbs import QaVerb
from storage.demo import DEMO_TENANT_ID
from tests.support import message

# Zoë Fairbairn, mathematics lead at Oakfield Primary (storage/demo/people.csv).
QA_LEAD_AAD = "a9a31914-baaa-522c-b3ea-beb28952b0f3"
# The trust lead and the six heads: the week's digest readers, who install Waypoint.
DIGEST_READERS = (
    "941439cb-506c-54ee-b18a-69db9cc02d58",
    "4693f02d-cfb3-54f8-a885-812851cf668c",
    HEAD_AAD,
    "79f17999-3a56-5d0d-96cd-b29cd5bd9a9b",
    "24b6a45a-7957-53e2-988d-56c145033963",
    "64f6ad87-5c81-5b12-adc4-a4283072d97b",
    "ac673ce2-b9ac-56ce-81bf-99edbb57920c",
)
WORKERS = 4
KINDS = ("category", "my actions", "coaching save", "QA submission", "redelivery")
TIMEOUT = aiohttp.ClientTimeout(total=20)
MAX_ATTEMPTS = 10


@dataclass
class Sent:
    kind: str
    activity_id: str
    form_id: str | None = None
    redelivered: bool = False
    acknowledged: bool = False


@dataclass
class Failure:
    kind: str
    reason: str
    # "via HAProxy", or "direct" (a redelivery sent straight to a replica).
    route: str
    retried_ok: bool = False


@dataclass
class Load:
    cluster: Cluster
    store: DemoStore
    connector_url: str
    sent: list[Sent] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    # Answers Teams would not retry (4xx): each one is a fault.
    refused: list[str] = field(default_factory=list)
    requests: int = 0
    _session: aiohttp.ClientSession | None = None
    # Failures by activity id, until a retry of that activity is answered.
    _pending: dict[str, list[Failure]] = field(default_factory=dict)
    _redelivery_kinds: Any = field(
        default_factory=lambda: itertools.cycle(("coaching save", "category"))
    )

    # -- activities -------------------------------------------------------------------

    def _activity(
        self, user: str, text: str = "", value: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = message(
            text,
            user=user,
            tenant=DEMO_TENANT_ID,
            service_url=self.connector_url,
            activity_id=uuid.uuid4().hex,
            conversation_id=f"a:cluster-{user[:8]}",
            value=value,
        )
        if value is not None:
            body.pop("text")
        return body

    def _submission(self, kind: str) -> tuple[dict[str, Any], str]:
        form = uuid.uuid4().hex
        today = datetime.now(ZoneInfo("Europe/London")).date()
        if kind == "coaching save":
            value: dict[str, Any] = {
                "verb": CoachingVerb.save,
                "form_id": form,
                "coachee": str(self.store.coachee_id),
                "held_on": today.isoformat(),
                "strand": str(self.store.strand_id),
                "status": "held",
                "action_step": "Open every lesson with three retrieval questions.",
                "notes": "",
                "next_session_on": (today + timedelta(days=14)).isoformat(),
            }
            return self._activity(COACH_AAD, value=value), form
        value = {
            "verb": QaVerb.save,
            "form_id": form,
            "school_id": self.store.school_id,
            "subject": "Mathematics",
            "strengths": "Well sequenced units",
            "areas_for_development": "Fluency in Year 4",
            "evidence": "deep_dive,book_look",
            "judgement": "green",
            "actions": "Retrieval quizzes each week",
            "cpd": "",
        }
        return self._activity(QA_LEAD_AAD, value=value), form

    def _install(self, user: str, index: int) -> dict[str, Any]:
        body = self._activity(user)
        body.pop("text", None)
        body.update(type="installationUpdate", action="add")
        body["conversation"]["id"] = f"a:cluster-chat-{index}"
        return body

    # -- sending -----------------------------------------------------------------------

    async def _post(self, url: str, activity: dict[str, Any]) -> str | None:
        """None when answered 2xx; else why not ("503", "dropped", "timeout", "400")."""
        assert self._session is not None
        self.requests += 1
        try:
            async with self._session.post(url + "/api/messages", json=activity) as response:
                await response.read()
                return None if response.status < 300 else str(response.status)
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError:
            return "dropped"

    async def _deliver(self, sent: Sent, activity: dict[str, Any], url: str) -> None:
        """Send until answered, retrying through HAProxy as Teams retries."""
        for attempt in range(MAX_ATTEMPTS):
            reason = await self._post(url, activity)
            if reason is None:
                sent.acknowledged = True
                for failure in self._pending.pop(sent.activity_id, []):
                    failure.retried_ok = True
                return
            if reason.isdigit() and int(reason) < 500:
                self.refused.append(f"{sent.kind}: HTTP {reason}")
                return
            route = "via HAProxy" if url == self.cluster.url else "direct"
            failure = Failure(sent.kind, reason, route)
            self.failures.append(failure)
            self._pending.setdefault(sent.activity_id, []).append(failure)
            # Backing off as a channel does: long enough, in all, for a claim left by a
            # replica killed mid-turn to pass its lease (storage/deliveries.py).
            await asyncio.sleep(min(0.5 * 2**attempt, 4.0))
            url = self.cluster.url

    async def _one(self, kind: str) -> None:
        if kind in ("coaching save", "QA submission"):
            activity, form = self._submission(kind)
            sent = Sent(kind, activity["id"], form)
            self.sent.append(sent)
            await self._deliver(sent, activity, self.cluster.url)
        elif kind == "redelivery":
            await self._redeliver()
        else:
            text = "category oakfield" if kind == "category" else "my actions"
            activity = self._activity(HEAD_AAD, text)
            sent = Sent(kind, activity["id"])
            self.sent.append(sent)
            await self._deliver(sent, activity, self.cluster.url)

    async def _redeliver(self) -> None:
        """One activity to two different live replicas at once."""
        live = [r for r in self.cluster.replicas if r.alive()]
        if len(live) < 2:
            return
        first, second = random.sample(live, 2)
        save = next(self._redelivery_kinds) == "coaching save"
        if save:
            activity, form = self._submission("coaching save")
            kind = "coaching save"
        else:
            activity, form, kind = self._activity(HEAD_AAD, "category oakfield"), None, "category"
        copies = [Sent(kind, activity["id"], form, redelivered=True) for _ in range(2)]
        self.sent.append(copies[0])
        # The second copy is the same activity: only the first is checked as a send,
        # and both must be acknowledged.
        await asyncio.gather(
            self._deliver(copies[0], activity, first.url),
            self._deliver(copies[1], activity, second.url),
        )
        copies[0].acknowledged = copies[0].acknowledged and copies[1].acknowledged

    async def _worker(self, number: int, until: float) -> None:
        kinds = itertools.cycle(KINDS[number % len(KINDS) :] + KINDS[: number % len(KINDS)])
        while time.monotonic() < until:
            await self._one(next(kinds))
            # A few requests a second per worker: Teams traffic, not a benchmark.
            await asyncio.sleep(0.1)

    async def install_digest_readers(self) -> None:
        """Each digest reader installs Waypoint: their chat is where the digest goes."""
        async with aiohttp.ClientSession(timeout=TIMEOUT) as self._session:
            for index, user in enumerate(DIGEST_READERS):
                reason = await self._post(self.cluster.url, self._install(user, index))
                if reason is not None:
                    raise RuntimeError(f"installing {user} failed: {reason}")
        self._session = None

    async def run(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        async with aiohttp.ClientSession(timeout=TIMEOUT) as self._session:
            await asyncio.gather(*(self._worker(n, until) for n in range(WORKERS)))
        self._session = None
