"""What every job's tests share.

- World building: `seed_trust` (a trust, two schools, one person per role),
  `add_person`, `add_school`, `install_chat`.
- Over HTTP: `serve` gives a `Served`, the real app on a loopback port spoken to as
  Teams speaks to it (`say`, `submit`, `execute`/`press`); `message` and `execute`
  build the activities themselves.
- At the `Turn -> Reply` seam, no HTTP: `Turns` calls the dialogs as the edge does
  (`say`, `command`, `verb`, `submit` a card), and keeps the notices they send.
- Reading an answer: `card_text`, `shown_in`, `only_card`, `inputs`, `card_inputs`,
  `field_error`, `facts`, `find`, `filled`; and `count_rows` / `stored_rows` for
  what a request stored.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, overload

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import Waypoint, build_waypoint, create_app
from bot.settings import Settings
from cards.markdown import markdown_fields, shown
from cards.render import ADAPTIVE_CARD
from dialogs.catalogue import build_registry
from dialogs.home import unmatched
from dialogs.matcher import Matched, NotUnderstood
from dialogs.registry import Registry
from dialogs.turn import Reply, Turn
from storage.conversations import save_reference
from storage.directory import Actor, actor_for, every_role_at_every_school, trust_by_tenant
from storage.engine import Sessions, create_engine, session_factory
from storage.models import (
    AuditEvent,
    Base,
    Person,
    PersonRole,
    PersonSubject,
    Role,
    School,
    Trust,
)

TENANT = "11111111-1111-4111-8111-111111111111"
OTHER_TENANT = "22222222-2222-4222-8222-222222222222"
HEAD = "aaaaaaaa-0000-4000-8000-000000000001"
TEACHER = "aaaaaaaa-0000-4000-8000-000000000002"
ADMIN = "aaaaaaaa-0000-4000-8000-000000000003"
TRUST_LEAD = "aaaaaaaa-0000-4000-8000-000000000004"
SUBJECT_LEAD = "aaaaaaaa-0000-4000-8000-000000000005"
STRANGER = "aaaaaaaa-0000-4000-8000-0000000000ff"
BOT_ID = "28:waypoint-bot"
# Development mode answers only at loopback service URLs; nothing listens on port 9,
# so a test that expects its replies in the HTTP body never posts anywhere.
SERVICE_URL = "http://127.0.0.1:9/teams/"

_ids = itertools.count(1)
T = TypeVar("T")


@dataclass
class Seeded:
    trust_id: int
    school_ids: dict[str, int] = field(default_factory=dict)
    person_ids: dict[str, int] = field(default_factory=dict)


async def seed_trust(
    sessions: async_sessionmaker[AsyncSession], *, tenant: str = TENANT, name: str = "Test Trust"
) -> Seeded:
    """A trust with two schools and one person in each of several roles."""
    async with sessions.begin() as session:
        trust = Trust(tenant_id=tenant, name=name)
        session.add(trust)
        await session.flush()
        seeded = Seeded(trust_id=trust.id)
        for urn, school_name in (("100001", "Oakfield Primary"), ("100002", "St Mary's C of E")):
            school = School(trust_id=trust.id, urn=urn, name=school_name, phase="primary")
            session.add(school)
            await session.flush()
            seeded.school_ids[urn] = school.id
        people = [
            (HEAD, "Hana Head", ["head"], ["100001"], []),
            (TEACHER, "Tom Teacher", ["teacher"], ["100001"], []),
            (ADMIN, "Ada Admin", ["admin"], [], []),
            (TRUST_LEAD, "Tess Lead", ["trust_lead"], [], []),
            (SUBJECT_LEAD, "Sam Subject", ["subject_lead", "teacher"], ["100002"], ["History"]),
        ]
        for aad, display, roles, urns, subjects in people:
            seeded.person_ids[aad] = await add_person(
                session,
                trust.id,
                aad,
                display,
                roles,
                [seeded.school_ids[u] for u in urns],
                subjects=subjects,
            )
    return seeded


async def add_person(
    session: AsyncSession,
    trust_id: int,
    aad: str,
    name: str,
    roles: Iterable[str],
    school_ids: Iterable[int] = (),
    *,
    subjects: Iterable[str] = (),
    email: str | None = None,
) -> int:
    """A person of the trust with each role at each of these schools (trust-wide
    roles at none), as a people CSV would store them; their id."""
    person = Person(
        trust_id=trust_id,
        aad_object_id=aad,
        # Nothing reads the address: it only has to be there, as the CSV requires it.
        email=email or f"{name.split()[0].lower()}@example.org",
        display_name=name,
    )
    person.roles = role_rows(roles, school_ids)
    person.subjects = [PersonSubject(subject=s) for s in subjects]
    session.add(person)
    await session.flush()
    return person.id


async def install_chat(
    sessions: async_sessionmaker[AsyncSession],
    trust_id: int,
    person_id: int,
    service_url: str,
    conversation_id: str,
) -> None:
    """The person's own chat with Waypoint, as stored when they install the app: where
    their notices, reminders and digests are posted."""
    async with sessions.begin() as session:
        await save_reference(
            session,
            trust_id=trust_id,
            person_id=person_id,
            conversation_id=conversation_id,
            conversation_type="personal",
            channel_id="msteams",
            service_url=service_url,
            bot_id=BOT_ID,
            reference={},
        )


async def add_school(sessions: Sessions, trust_id: int, urn: str, name: str) -> int:
    """A primary school of the trust; its id."""
    async with sessions.begin() as session:
        school = School(trust_id=trust_id, urn=urn, name=name, phase="primary")
        session.add(school)
        await session.flush()
        return school.id


def role_rows(roles: Iterable[str], school_ids: Iterable[int]) -> list[PersonRole]:
    """Each role at each of these schools (trust-wide roles for the trust), as a
    people CSV in the roles-and-schools format would store them."""
    return [
        PersonRole(role=grant.role.value, school_id=grant.school_id)
        for grant in every_role_at_every_school([Role(r) for r in roles], school_ids)
    ]


def message(
    text: str,
    *,
    user: str = HEAD,
    tenant: str = TENANT,
    service_url: str = SERVICE_URL,
    expect_replies: bool = False,
    activity_id: str | None = None,
    conversation_id: str = "a:personal-chat-1",
    value: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message activity shaped as Teams sends it to a bot in a personal chat."""
    body: dict[str, Any] = {
        "type": "message",
        "id": activity_id or f"1700000000{next(_ids):06d}",
        "timestamp": "2026-11-22T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{user}", "name": "Someone", "aadObjectId": user},
        "conversation": {
            "conversationType": "personal",
            "tenantId": tenant,
            "id": conversation_id,
        },
        "recipient": {"id": BOT_ID, "name": "Waypoint"},
        "textFormat": "plain",
        "locale": "en-GB",
        "text": text,
        "channelData": {"tenant": {"id": tenant}},
        "entities": [{"type": "clientInfo", "locale": "en-GB", "country": "GB"}],
    }
    if value is not None:
        body["value"] = value
    if expect_replies:
        body["deliveryMode"] = "expectReplies"
    return body


def execute(
    verb: str,
    data: dict[str, Any] | None = None,
    *,
    user: str = HEAD,
    tenant: str = TENANT,
    service_url: str = SERVICE_URL,
) -> dict[str, Any]:
    """An `adaptiveCard/action` invoke, as Teams sends an Action.Execute."""
    body = message("", user=user, tenant=tenant, service_url=service_url)
    body.pop("text")
    body.update(
        type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data or {}},
            "trigger": "manual",
        },
    )
    return body


def cards_in(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for activity in activities
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def card_text(card: dict[str, Any]) -> str:
    """Every string shown on a card, joined: what a person would read (Markdown
    escapes, which the renderer draws as the characters they escape, undone)."""
    card = copy.deepcopy(card)
    for holder, key in markdown_fields(card):
        holder[key] = shown(holder[key])
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "title", "value", "label", "placeholder") and isinstance(
                    value, str
                ):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(found)


def in_store(url: str, work: Callable[[Sessions], Awaitable[T]]) -> T:
    """`work` run on the store at `url`, from a test with no event loop of its own (the
    command-line tests, whose `waypoint ...` runs its own)."""

    async def run() -> T:
        engine = create_engine(url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def count_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Rows per table: to show that a request changed nothing."""
    async with sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


@dataclass
class Connector:
    """A loopback Bot Connector: records what the bot posts into conversations."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def app(self) -> web.Application:
        async def post_activity(request: web.Request) -> web.Response:
            body = await request.json()
            self.posted.append(
                {
                    "path": request.path,
                    "conversation": request.match_info["conversation"],
                    "activity": body,
                    "authorization": request.headers.get("Authorization"),
                }
            )
            return web.json_response({"id": f"reply-{len(self.posted)}"})

        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", post_activity)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", post_activity)
        return app


@asynccontextmanager
async def loopback_connector() -> AsyncIterator[Connector]:
    connector = Connector()
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    connector.url = str(server.make_url("/"))
    try:
        yield connector
    finally:
        await server.close()


@asynccontextmanager
async def serve_waypoint(
    engine: AsyncEngine, settings: Settings | None = None
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], Waypoint]]:
    """The real aiohttp app on a loopback port, over the given store."""
    waypoint = build_waypoint(settings or Settings(), engine=engine)
    # Tests compose digests when they mean to; the weekly tick would do it mid-test.
    waypoint.scheduler = False
    app = create_app(waypoint)
    # The test owns the engine; the app must not dispose it on shutdown.
    app.on_cleanup.clear()
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client, waypoint
    finally:
        await client.close()
        await waypoint.notifier.drain()
        await waypoint.connector.close()
        waypoint.worker.stop()


def dumps(body: Any) -> str:
    return json.dumps(body)


# -- the HTTP harness: the real app, spoken to as Teams speaks to it ----------------

Client = TestClient[web.Request, web.Application]
# What every turn writes whatever it does: the redelivery guard and the bot's state.
TURN_BOOKKEEPING = frozenset({"processed_activity", "bot_state"})
Row = TypeVar("Row", bound=Base)


@dataclass
class Served:
    """Waypoint on a loopback port over a seeded store, and the trust it serves.

    `say` is a typed message, `submit` an Action.Submit (a message whose value is the
    card's data merged with its inputs), `execute` an Action.Execute (an
    `adaptiveCard/action` invoke). Messages ask for `expectReplies`, so what Waypoint
    answers comes back in the HTTP body rather than through a Bot Connector.
    """

    client: Client
    waypoint: Waypoint
    sessions: async_sessionmaker[AsyncSession]
    trust_id: int = 0
    # School ids by URN and person ids by Entra object id, as seeding made them.
    schools: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    tenant: str = TENANT

    def at(self, when: datetime) -> None:
        """Stop Waypoint's clock at `when`."""
        self.waypoint.bot.clock = lambda: when

    async def post(self, body: dict[str, Any]) -> ClientResponse:
        """The activity as Teams posts it; the raw answer, whatever its status."""
        return await self.client.post("/api/messages", json=body)

    async def replies(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.post(body)
        assert response.status == 200, await response.text()
        activities: list[dict[str, Any]] = (await response.json())["activities"]
        return activities

    async def say(
        self, text: str, user: str, *, tenant: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        """What Waypoint answers a typed message."""
        return await self.replies(
            message(text, user=user, tenant=tenant or self.tenant, expect_replies=True, **kw)
        )

    async def submit(
        self, data: dict[str, Any], user: str, *, tenant: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        """What Waypoint answers an Action.Submit: `data` is the card's data merged with
        its inputs, its `verb` naming the action."""
        return await self.replies(
            message(
                "", user=user, tenant=tenant or self.tenant, expect_replies=True, value=data, **kw
            )
        )

    async def execute(
        self, verb: str, data: dict[str, Any], user: str, *, tenant: str | None = None
    ) -> dict[str, Any]:
        """The invoke body Waypoint answers an Action.Execute with (statusCode, type,
        value). The data names its verb too, as a card's Action.Submit fallback does."""
        body = execute(verb, {"verb": verb, **data}, user=user, tenant=tenant or self.tenant)
        response = await self.post(body)
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer

    async def press(
        self, verb: str, data: dict[str, Any], user: str, *, tenant: str | None = None
    ) -> Any:
        """What an Action.Execute shows in place of the card: a card (dict) or a text."""
        body = await self.execute(verb, data, user, tenant=tenant)
        assert body["statusCode"] == 200, body
        return body["value"]

    async def install_chat(
        self, user: str, service_url: str, conversation_id: str | None = None
    ) -> None:
        """`install_chat` for one of the served trust's people (`a:<their id>` unless
        named): their notices go to `service_url`."""
        await install_chat(
            self.sessions,
            self.trust_id,
            self.people[user],
            service_url,
            conversation_id or f"a:{user}",
        )

    async def stored(self, model: type[Row]) -> list[Row]:
        """Every row of one table, in the order stored."""
        async with self.sessions() as session:
            key = inspect(model).primary_key
            return list(await session.scalars(select(model).order_by(*key)))

    async def audit(self) -> list[AuditEvent]:
        return await self.stored(AuditEvent)


# A test module's own world: Served with fields of its own (coaching's strands, …).
ServedWorld = TypeVar("ServedWorld", bound=Served)


@overload
def serve(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    seeded: Seeded | None = None,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> AbstractAsyncContextManager[Served]: ...


@overload
def serve(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    seeded: Seeded | None = None,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    kind: type[ServedWorld],
    **extra: Any,
) -> AbstractAsyncContextManager[ServedWorld]: ...


def serve(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    seeded: Seeded | None = None,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    kind: type[Served] = Served,
    **extra: Any,
) -> AbstractAsyncContextManager[Served]:
    """The real app over this store, as a `Served` (or a subclass `kind`, given its own
    fields as `extra`), with the seeded trust's ids and the clock stopped at `now`
    (the machine's clock without it)."""
    return _serve(engine, sessions, seeded, settings, now, kind, extra)


@asynccontextmanager
async def _serve(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    seeded: Seeded | None,
    settings: Settings | None,
    now: datetime | None,
    kind: type[Served],
    extra: dict[str, Any],
) -> AsyncIterator[Served]:
    async with serve_waypoint(engine, settings or Settings(_env_file=None)) as (client, app):
        served = kind(
            client=client,
            waypoint=app,
            sessions=sessions,
            trust_id=seeded.trust_id if seeded else 0,
            schools=dict(seeded.school_ids) if seeded else {},
            people=dict(seeded.person_ids) if seeded else {},
            **extra,
        )
        if now is not None:
            served.at(now)
        yield served


async def stored_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Rows per table, leaving out the bookkeeping every turn does (delivery dedup, state)."""
    rows = await count_rows(sessions)
    return {k: v for k, v in rows.items() if k not in TURN_BOOKKEEPING}


# -- what a reply shows ------------------------------------------------------------


def only_card(activities: list[dict[str, Any]]) -> dict[str, Any]:
    """The card of an answer that is one activity holding one card."""
    assert len(activities) == 1, activities
    [card] = cards_in(activities)
    return card


def shown_in(answer: list[dict[str, Any]] | dict[str, Any]) -> str:
    """Everything a person would read in an answer: the texts and cards of a message's
    activities, or the card or text an Action.Execute's invoke body holds."""
    if isinstance(answer, list):
        return "\n".join([texts(answer), *(card_text(card) for card in cards_in(answer))])
    if answer.get("type") == ADAPTIVE_CARD:
        return card_text(answer["value"])
    return str(answer.get("value"))


def texts(activities: list[dict[str, Any]]) -> str:
    """The texts of an answer's activities, a line each."""
    return "\n".join(a.get("text") or "" for a in activities)


def find(node: Any, **wanted: Any) -> list[dict[str, Any]]:
    """Every element of a card with these properties."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if all(node.get(k) == v for k, v in wanted.items()):
            found.append(node)
        for value in node.values():
            found.extend(find(value, **wanted))
    elif isinstance(node, list):
        for item in node:
            found.extend(find(item, **wanted))
    return found


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A card's inputs by id, whole (choices, value, limits); `card_inputs` has just
    the values."""
    return {
        node["id"]: node
        for node in find(card)
        if str(node.get("type", "")).startswith("Input.") and "id" in node
    }


def field_error(card: dict[str, Any], name: str) -> str | None:
    """The error a form shows for one of its fields, if any: the block `error_<field>`,
    or (the form kit's way) the red text right under the field."""
    shown = find(card, id=f"error_{name}")
    if shown:
        return str(shown[0]["text"])
    for body in _lists(card):
        for above, below in itertools.pairwise(body):
            if (
                isinstance(above, dict)
                and above.get("id") == name
                and isinstance(below, dict)
                and below.get("type") == "TextBlock"
                and below.get("color") == "Attention"
            ):
                return str(below["text"])
    return None


def _lists(node: Any) -> list[list[Any]]:
    """Every list in a card (bodies, columns, items), outermost first."""
    found: list[list[Any]] = []
    if isinstance(node, dict):
        for value in node.values():
            found.extend(_lists(value))
    elif isinstance(node, list):
        found.append(node)
        for item in node:
            found.extend(_lists(item))
    return found


def facts(card: dict[str, Any], block_id: str | None = None) -> dict[str, str]:
    """Title to value of the card's fact sets (of the one with this id, if given)."""
    found: dict[str, str] = {}
    for block in find(card, type="FactSet"):
        if block_id is None or block.get("id") == block_id:
            found.update({f["title"]: f["value"] for f in block["facts"]})
    return found


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    """The data of the card's first action (its verb and form id)."""
    data: dict[str, Any] = card["actions"][0]["data"]
    return dict(data)


# -- the Turn -> Reply seam: dialogs called as the edge calls them, no HTTP ---------


@dataclass
class Notices:
    """A notifier that keeps what would have gone to each person's own chat."""

    sent: list[tuple[int, Reply]] = field(default_factory=list)

    async def notify(
        self,
        *,
        trust_id: int,
        person_id: int,
        reply: Reply,
        kind: str = "notice",
        key: str | None = None,
        session: AsyncSession | None = None,
    ) -> None:
        self.sent.append((person_id, reply))

    def to(self, person_id: int) -> list[Reply]:
        return [reply for to, reply in self.sent if to == person_id]


@dataclass
class Turns:
    """Dialogs at the `Turn -> Reply` seam (dialogs/turn.py): who asks is resolved
    from the store as the edge resolves it, the clock is `now`, and a command or verb
    the person's roles don't allow is refused before its handler runs, as the edge
    refuses it. No HTTP, no botbuilder."""

    sessions: Sessions
    now: datetime
    tenant: str = TENANT
    registry: Registry = field(default_factory=build_registry)
    notices: Notices = field(default_factory=Notices)

    async def actor(self, user: str) -> Actor:
        async with self.sessions() as session:
            trust = await trust_by_tenant(session, self.tenant)
            assert trust is not None, f"no trust for tenant {self.tenant}"
            actor = await actor_for(session, trust=trust, aad_object_id=user)
        assert actor is not None, f"{user} is not a person of {self.tenant}"
        return actor

    async def turn(self, user: str, *, args: str = "", data: dict[str, Any] | None = None) -> Turn:
        return Turn(
            actor=await self.actor(user),
            sessions=self.sessions,
            now=self.now,
            args=args,
            data=dict(data or {}),
            registry=self.registry,
            notifier=self.notices,
        )

    async def command(self, key: str, user: str, args: str = "") -> Reply:
        command = self.registry.get_command(key)
        assert command is not None, f"no command {key!r}"
        turn = await self.turn(user, args=args)
        assert command.allowed(turn.actor), f"{key!r} is not for {user}"
        return await command.handler(turn)

    async def say(self, text: str, user: str) -> Reply:
        """What a typed message is answered, when it matches one command."""
        match = self.registry.match(text)
        assert isinstance(match, Matched), f"{text!r} matched {match}"
        return await self.command(match.command.key, user, match.args)

    async def message(self, text: str, user: str) -> Reply:
        """What any typed message is answered, as the edge answers it: its command; or,
        for a greeting, thanks or anything else, the home card (or a confident "did you
        mean"). Two commands that fit equally are the edge's own question, not this."""
        match = self.registry.match(text)
        if isinstance(match, Matched):
            return await self.command(match.command.key, user, match.args)
        assert isinstance(match, NotUnderstood), f"{text!r} matched {match}"
        return await unmatched(text, match)(await self.turn(user))

    async def verb(self, name: str, data: dict[str, Any], user: str) -> Reply:
        verb = self.registry.get_verb(name)
        assert verb is not None, f"no card verb {name!r}"
        turn = await self.turn(user, data={"verb": name, **data})
        assert verb.allowed(turn.actor), f"{name!r} is not for {user}"
        return await verb.handler(turn)

    async def submit(
        self, card: dict[str, Any], user: str, *, verb: str | None = None, **typed: str
    ) -> Reply:
        """A button of the card pressed (the first, or the one for `verb`) after typing
        `typed` into its inputs: what the handler answers."""
        return await self.verb(*filled(card, verb=verb, **typed), user)


def card_inputs(card: dict[str, Any]) -> dict[str, str]:
    """Each input's value as the card was drawn: what Teams submits if nothing is changed."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                value = node.get("value")
                found[node["id"]] = "" if value is None else str(value)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def card_actions(card: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(verb, data) of every button on a card, as Teams would send it: Action.Execute's
    verb with its data, or an Action.Submit's data (which names the verb)."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            given = node.get("data")
            data: dict[str, Any] = given if isinstance(given, dict) else {}
            if kind == "Action.Execute" and isinstance(node.get("verb"), str):
                found.append((node["verb"], dict(data)))
            elif kind == "Action.Submit" and isinstance(data.get("verb"), str):
                found.append((data["verb"], dict(data)))
            for key, value in node.items():
                # A fallback repeats its Action.Execute as an Action.Submit.
                if key != "fallback":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def filled(
    card: dict[str, Any], *, verb: str | None = None, **typed: str
) -> tuple[str, dict[str, Any]]:
    """(verb, data) as Teams sends them when a button of the card is pressed (its first,
    or the one for `verb`): the button's data merged with each input's value as drawn,
    then with what was typed."""
    buttons = [(name, data) for name, data in card_actions(card) if verb in (None, name)]
    assert buttons, f"no button for {verb or 'any verb'} on the card"
    name, data = buttons[0]
    unknown = set(typed) - set(card_inputs(card))
    assert not unknown, f"the card has no inputs {sorted(unknown)}"
    return name, {**card_inputs(card), **data, **typed}
