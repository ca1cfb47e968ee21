"""The `waypoint` command line: serve, migrate, load data."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.logs import configure_logging
from bot.settings import Settings, StartupRefused
from storage.engine import create_engine, session_factory
from storage.frameworks import PRESETS, UnknownFramework
from storage.models import Trust

if TYPE_CHECKING:
    from bot.proactive import OutboxNotifier

T = TypeVar("T")


class CommandFailed(Exception):
    """A command could not do its job; the message is for the person at the terminal."""


def _settings() -> Settings:
    return Settings()


async def _in_transaction(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _run(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return asyncio.run(_in_transaction(url, work))


async def _trust(session: AsyncSession, tenant_id: str) -> Trust:
    from storage.directory import trust_by_tenant

    trust = await trust_by_tenant(session, tenant_id)
    if trust is None:
        raise CommandFailed(f"no trust with tenant id {tenant_id}; add it first")
    return trust


def _read(path: Path, reader: Callable[[Path], T]) -> T:
    try:
        return reader(path)
    except OSError as error:
        raise CommandFailed(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise CommandFailed(f"{path} is not UTF-8 text") from error


@asynccontextmanager
async def _sending(
    settings: Settings,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], OutboxNotifier]]:
    """The store and an outbox sender, for commands that send (cron needs no server)."""
    from bot.connector import Connector, TokenProvider
    from bot.offloop import BlockingWorker
    from bot.proactive import OutboxNotifier
    from bot.sender import OutboxSender

    engine = create_engine(settings.database_url)
    worker = BlockingWorker("waypoint-cli")
    connector = Connector(TokenProvider(settings, worker))
    try:
        sessions = session_factory(engine)
        yield sessions, OutboxNotifier(sessions, OutboxSender(sessions, connector))
    finally:
        await connector.close()
        worker.stop()
        await engine.dispose()


# -- commands ---------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.app import build_waypoint, create_app

    settings = _settings()
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    try:
        settings.check_startup()
    except StartupRefused as refusal:
        print(f"waypoint: {refusal}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    mode = (
        "development mode: anonymous, loopback only"
        if settings.anonymous
        else f"app id {settings.app_id}"
    )
    logging.getLogger("waypoint").info(
        "Waypoint listening on http://%s:%d/api/messages (%s)", settings.host, settings.port, mode
    )
    app = create_app(build_waypoint(settings))
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade_sync

    settings = _settings()
    upgrade_sync(settings.database_url)
    print("store is up to date")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from storage.demo import DEMO_TENANT_ID, load_demo, store_is_empty
    from storage.directory import TrustExists

    settings = _settings()

    async def work(session: AsyncSession) -> str:
        if args.if_empty and not await store_is_empty(session):
            return "the store already holds a trust; demo not loaded"
        trust = await load_demo(session)
        return f"loaded the demo trust {trust.name!r} (tenant {DEMO_TENANT_ID})"

    try:
        print(_run(settings.database_url, work))
    except TrustExists as error:
        raise CommandFailed(f"{error}: the demo trust is loaded already") from error
    return 0


def cmd_trust_add(args: argparse.Namespace) -> int:
    from storage.directory import TrustExists, add_trust

    settings = _settings()

    async def work(session: AsyncSession) -> str:
        trust = await add_trust(
            session, tenant_id=args.tenant_id, name=args.name, framework_key=args.framework
        )
        return f"added trust {trust.name!r} (tenant {trust.tenant_id}, framework {args.framework})"

    try:
        print(_run(settings.database_url, work))
    except (TrustExists, UnknownFramework) as error:
        raise CommandFailed(str(error)) from error
    return 0


def cmd_strands_set(args: argparse.Namespace) -> int:
    from storage.strands import read_strands_file, set_strands

    settings = _settings()
    path = Path(args.file)
    names = _read(path, read_strands_file)

    async def work(session: AsyncSession) -> str:
        trust = await _trust(session, args.tenant_id)
        retired = await set_strands(session, trust_id=trust.id, names=names)
        note = f"; retired (kept on past sessions): {', '.join(retired)}" if retired else ""
        return f"coaching strands: {len(names)} in use{note}"

    try:
        print(_run(settings.database_url, work))
    except ValueError as error:
        raise CommandFailed(f"{path}: nothing changed: {error}") from error
    return 0


def cmd_framework_set(args: argparse.Namespace) -> int:
    from storage.categories import FrameworkInUse, replace_framework
    from storage.frameworks import FrameworkFileError, parse_framework_file

    settings = _settings()
    path = Path(args.file)
    try:
        spec = parse_framework_file(path)
    except FrameworkFileError as error:
        raise CommandFailed(f"{error}\nnothing changed") from error

    async def work(session: AsyncSession) -> str:
        trust = await _trust(session, args.tenant_id)
        await replace_framework(session, trust_id=trust.id, spec=spec)
        names = ", ".join(item.name for item in spec.categories)
        return f"framework {spec.name!r} set for trust {trust.name!r}: {names}"

    try:
        print(_run(settings.database_url, work))
    except FrameworkInUse as error:
        raise CommandFailed(f"{path.name}: nothing changed: {error}") from error
    return 0


def cmd_terms_set(args: argparse.Namespace) -> int:
    from storage.csv_rows import ImportRejected, read_csv_file
    from storage.term_dates import set_terms

    settings = _settings()
    path = Path(args.file)
    csv_text = _read(path, read_csv_file)

    async def work(session: AsyncSession) -> str:
        trust = await _trust(session, args.tenant_id)
        report = await set_terms(session, trust_id=trust.id, csv_text=csv_text)
        return f"terms set for {trust.name!r}: {report or 'no rows, nothing changed'}"

    try:
        print(_run(settings.database_url, work))
    except ImportRejected as rejected:
        raise CommandFailed(f"{path}: nothing changed\n{rejected}") from rejected
    return 0


def cmd_qa_remind(args: argparse.Namespace) -> int:
    from bot.scheduled.qa_reminders import send_qa_reminders
    from storage.directory import trust_today

    settings = _settings()

    async def remind() -> str:
        async with _sending(settings) as (sessions, notifier):
            async with sessions() as session:
                trust = await _trust(session, args.tenant_id)
            run = await send_qa_reminders(
                sessions,
                trust_id=trust.id,
                today=args.today or trust_today(trust, datetime.now(UTC)),
                deliver=notifier.deliver,
            )
            # Send now as well, so a cron job needs no running server.
            await notifier.drain()
            return str(run)

    print(asyncio.run(remind()))
    return 0


def cmd_terms_show(args: argparse.Namespace) -> int:
    from storage.directory import trust_today
    from storage.terms import calendar_around

    settings = _settings()

    async def work(session: AsyncSession) -> str:
        trust = await _trust(session, args.tenant_id)
        today = args.today or trust_today(trust, datetime.now(UTC))
        qa, windows = await calendar_around(session, trust_id=trust.id, day=today)
        lines = [
            f"{trust.name}: QA windows from {qa.weeks_before} weeks before a term ends to "
            f"{qa.weeks_after} weeks after; reminders {qa.reminder_days} days before it ends"
        ]
        lines += [
            f"{w.term.title}: {w.term.starts} to {w.term.ends}, QA window {w.opens} to {w.closes}"
            for w in windows
        ]
        return "\n".join(lines)

    print(_run(settings.database_url, work))
    return 0


def cmd_qa_settings(args: argparse.Namespace) -> int:
    from storage.terms import InvalidQaSettings, set_qa_settings

    settings = _settings()

    async def work(session: AsyncSession) -> str:
        trust = await _trust(session, args.tenant_id)
        qa = await set_qa_settings(
            session,
            trust_id=trust.id,
            weeks_before=args.weeks_before,
            weeks_after=args.weeks_after,
            reminder_days=args.reminder_days,
        )
        return (
            f"{trust.name}: QA window from {qa.weeks_before} weeks before a term ends to "
            f"{qa.weeks_after} weeks after; reminders {qa.reminder_days} days before it ends"
        )

    try:
        print(_run(settings.database_url, work))
    except InvalidQaSettings as error:
        raise CommandFailed(f"nothing changed: {error}") from error
    return 0


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-12-04") from None


def cmd_digest_run(args: argparse.Namespace) -> int:
    from bot.scheduled.digests import compose_week
    from bot.scheduler import digest_due

    settings = _settings()

    async def run() -> str:
        async with _sending(settings) as (sessions, notifier):
            async with sessions() as session:
                trust = await _trust(session, args.tenant_id)
            now = datetime.now(UTC)
            if not args.now and not digest_due(trust, now):
                return "not due yet: the digest goes out at the trust's weekly slot (or use --now)"
            composed = await compose_week(sessions, trust_id=trust.id, now=now)
            # Send as well, so an external scheduler needs no running server.
            await notifier.drain()
            return str(composed)

    print(asyncio.run(run()))
    return 0


def _import(kind: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        from storage.csv_rows import ImportRejected, read_csv_file
        from storage.imports.people import import_people
        from storage.imports.schools import import_schools

        importer = import_schools if kind == "schools" else import_people
        settings = _settings()
        path = Path(args.file)
        csv_text = _read(path, read_csv_file)

        async def work(session: AsyncSession) -> str:
            trust = await _trust(session, args.tenant_id)
            report = await importer(session, trust_id=trust.id, csv_text=csv_text)
            return (
                f"{kind}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged"
            )

        try:
            print(_run(settings.database_url, work))
        except ImportRejected as rejected:
            raise CommandFailed(f"{path}: nothing imported\n{rejected}") from rejected
        return 0

    return command


def cmd_audit(args: argparse.Namespace) -> int:
    from storage.audit_trail import audit_trail
    from storage.directory import trust_zone

    settings = _settings()

    async def work(session: AsyncSession) -> list[str]:
        trust = await _trust(session, args.tenant_id)
        # A day means the school's day: from midnight where the trust is.
        since = (
            datetime.combine(args.since, datetime.min.time(), tzinfo=trust_zone(trust))
            if args.since
            else None
        )
        return [str(line) for line in await audit_trail(session, trust_id=trust.id, since=since)]

    lines = _run(settings.database_url, work)
    print("at\twho\taction\toutcome\tschool\tsubject")
    for line in lines:
        print(line)
    return 0


def cmd_retention_apply(args: argparse.Namespace) -> int:
    from storage.attendance.retention import anonymise_expired
    from storage.directory import trust_today

    settings = _settings()
    now = datetime.now(UTC)

    async def work(session: AsyncSession) -> str:
        trust = await _trust(session, args.tenant_id)
        run = await anonymise_expired(
            session, trust_id=trust.id, today=args.today or trust_today(trust, now), at=now
        )
        return str(run)

    print(_run(settings.database_url, work))
    return 0


def cmd_retention_set(args: argparse.Namespace) -> int:

    settings = _settings()

    async def work(session: AsyncSession) -> str:
        trust = await _trust(session, args.tenant_id)
        trust.attendance_retention_years = args.years
        return (
            f"closed attendance concerns of {trust.name!r} are kept for the academic year "
            f"of closure plus {args.years}"
        )

    print(_run(settings.database_url, work))
    return 0


# -- parser -----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waypoint", description="Waypoint: school improvement in Microsoft Teams"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the bot on /api/messages")
    serve.add_argument("--host", help="address to listen on (default WAYPOINT_HOST)")
    serve.add_argument("--port", type=int, help="port (default WAYPOINT_PORT)")
    serve.set_defaults(run=cmd_serve)

    db = commands.add_parser("db", help="the store").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="create or migrate the store").set_defaults(run=cmd_db_upgrade)

    demo = commands.add_parser("demo", help="load the demo trust")
    demo.add_argument("--if-empty", action="store_true", help="only when the store has no trust")
    demo.set_defaults(run=cmd_demo)

    from manifest.cli import add_manifest_commands

    add_manifest_commands(commands)

    trust = commands.add_parser("trust", help="trusts").add_subparsers(
        dest="trust_command", required=True, metavar="ACTION"
    )
    add = trust.add_parser("add", help="add a trust (one Microsoft Entra tenant)")
    add.add_argument("--tenant-id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--framework", required=True, choices=PRESETS)
    add.set_defaults(run=cmd_trust_add)

    framework = commands.add_parser("framework", help="the trust's categorisation framework")
    framework_actions = framework.add_subparsers(
        dest="framework_command", required=True, metavar="ACTION"
    )
    framework_set = framework_actions.add_parser(
        "set", help="replace the trust's framework from a YAML or JSON file"
    )
    framework_set.add_argument("file")
    framework_set.add_argument("--tenant-id", required=True)
    framework_set.set_defaults(run=cmd_framework_set)

    imports = commands.add_parser("import", help="load schools or people from CSV").add_subparsers(
        dest="import_command", required=True, metavar="WHAT"
    )
    for kind, header in (
        ("schools", "urn,name,phase,hub"),
        ("people", "aad_object_id,email,display_name,roles,schools,subjects"),
    ):
        sub = imports.add_parser(kind, help=f"CSV with header {header}")
        sub.add_argument("file")
        sub.add_argument("--tenant-id", required=True)
        sub.set_defaults(run=_import(kind))

    terms = commands.add_parser("terms", help="the trust's term dates").add_subparsers(
        dest="terms_command", required=True, metavar="ACTION"
    )
    terms_set = terms.add_parser(
        "set", help="set term dates from CSV with header academic_year,term,starts,ends"
    )
    terms_set.add_argument("file")
    terms_set.add_argument("--tenant-id", required=True)
    terms_set.set_defaults(run=cmd_terms_set)
    terms_show = terms.add_parser("show", help="the terms and QA windows around a day")
    terms_show.add_argument("--tenant-id", required=True)
    terms_show.add_argument(
        "--today", type=_iso_date, help="the day to look around (YYYY-MM-DD; default today)"
    )
    terms_show.set_defaults(run=cmd_terms_show)

    qa = commands.add_parser("qa", help="subject-lead QA summaries").add_subparsers(
        dest="qa_command", required=True, metavar="ACTION"
    )
    remind = qa.add_parser(
        "remind", help="remind subject leads whose QA summary is due (run daily)"
    )
    remind.add_argument("--tenant-id", required=True)
    remind.add_argument(
        "--today", type=_iso_date, help="the day to act as (YYYY-MM-DD; default today)"
    )
    remind.set_defaults(run=cmd_qa_remind)
    qa_settings = qa.add_parser(
        "settings", help="the trust's QA window and reminder days (shown; changed if given)"
    )
    qa_settings.add_argument("--tenant-id", required=True)
    qa_settings.add_argument(
        "--weeks-before", type=int, help="window opens N weeks before a term ends"
    )
    qa_settings.add_argument("--weeks-after", type=int, help="window closes N weeks after it ends")
    qa_settings.add_argument("--reminder-days", type=int, help="remind N days before a term ends")
    qa_settings.set_defaults(run=cmd_qa_settings)
    digest = commands.add_parser("digest", help="weekly digests").add_subparsers(
        dest="digest_command", required=True, metavar="ACTION"
    )
    digest_run = digest.add_parser(
        "run", help="compose and send this week's digests when due (an external scheduler)"
    )
    digest_run.add_argument("--tenant-id", required=True)
    digest_run.add_argument("--now", action="store_true", help="compose now, due or not")
    digest_run.set_defaults(run=cmd_digest_run)

    strands = commands.add_parser("strands", help="coaching focus strands").add_subparsers(
        dest="strands_command", required=True, metavar="ACTION"
    )
    strands_set = strands.add_parser("set", help="the trust's strands, one a line, from FILE")
    strands_set.add_argument("file")
    strands_set.add_argument("--tenant-id", required=True)
    strands_set.set_defaults(run=cmd_strands_set)

    audit = commands.add_parser("audit", help="print the trust's audit trail (who, when, what)")
    audit.add_argument("--tenant-id", required=True)
    audit.add_argument(
        "--since", type=_iso_date, help="from this day on (YYYY-MM-DD; default everything)"
    )
    audit.set_defaults(run=cmd_audit)

    retention = commands.add_parser(
        "retention", help="personal data past the trust's retention period"
    ).add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    retention_apply = retention.add_parser(
        "apply", help="anonymise closed attendance concerns past retention (run daily)"
    )
    retention_apply.add_argument("--tenant-id", required=True)
    retention_apply.add_argument(
        "--today", type=_iso_date, help="the day to act as (YYYY-MM-DD; default today)"
    )
    retention_apply.set_defaults(run=cmd_retention_apply)
    retention_set = retention.add_parser(
        "set", help="years closed attendance concerns are kept after their academic year"
    )
    retention_set.add_argument("--tenant-id", required=True)
    retention_set.add_argument(
        "--years", type=int, choices=range(0, 26), metavar="0-25", required=True
    )
    retention_set.set_defaults(run=cmd_retention_set)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except CommandFailed as failure:
        print(f"waypoint: {failure}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
