"""Every role x every command and card verb x own school / another school / another trust.

The expected table below is written from the issues and DESIGN.md, not read from
the code: the allowed requests must succeed; every other one must be refused with
a plain answer, leave an audit event "refused" for the person who asked, and
change nothing else in the store.

"Own school" is school one of trust A, where every school-level person works
(trust-wide roles reach it too); "another school" is school two of trust A;
"another trust" is trust B, whose schools and people have the same names and
URNs. Card verbs name their target by id (a tampered card can carry anything);
typed commands name schools, and a name is only ever looked up in the asker's
own trust, so for them "another trust" is the name of a school only trust B has,
which must simply not be found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialogs.catalogue import build_registry
from tests.reliability import (
    BOOKKEEPING,
    ONLY_B,
    ROLES,
    SCHOOLS,
    SUBJECT,
    TRUST_NAME,
    TRUST_WIDE,
    Answer,
    World,
    WriteLog,
    action_update,
    audit_events,
    build_world,
    categorise_form,
    close_form,
    coaching_form,
    concern_form,
    qa_form,
    review_form,
    served,
    update_form,
    visit_form,
    write_log,
)

SCOPES = ("own", "other_school", "other_trust")
ALL = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
# Governors read their school's category, visits and actions; nothing a school's
# staff do (issue 15).
ALL_STAFF = ALL - {"governor"}
STAFF = frozenset({"teacher", "coach", "subject_lead", "head", "attendance_lead", "sia"})
LOGGERS = frozenset({"coach", "head", "trust_lead"})
ADVISERS = frozenset({"sia", "trust_lead"})
ACTIONS = frozenset({"head", "sia", "trust_lead"})
# A school's notes of visit: its head, governors and adviser; trust leads any school's.
VISIT_READERS = frozenset({"head", "governor", "sia", "trust_lead"})
FOLLOWERS = frozenset({"head", "attendance_lead"})
LEAD = frozenset({"trust_lead"})


def table(own: frozenset[str], other_school: frozenset[str] = NOBODY) -> dict[str, frozenset[str]]:
    """Who may, per scope. Nobody reaches another trust."""
    return {"own": own, "other_school": other_school, "other_trust": NOBODY}


def own_only(own: frozenset[str]) -> dict[str, frozenset[str]]:
    """Commands that name no school: the asker's own data, or nothing."""
    return {"own": own}


# Who may do what, from the issues and DESIGN.md:
# - coaching (issue 3): coaches, heads and trust leads log sessions for teachers of
#   their own schools (trust leads: any school); a session is read by its coach and
#   its coachee only and changed by its coach within 7 days; coverage: heads for
#   their school, trust leads any.
# - QA (issue 4): a subject lead submits for the subjects they lead at their own
#   schools; a summary is read by its author, the school's head and trust leads;
#   status: heads for their school, trust leads any (a subject lead: their own).
#   Advisers read status, summaries and coaching coverage of their schools (issue 15).
# - attendance (issue 5): anyone on a school's staff raises a concern for that
#   school; its attendance leads and head see, update and close it; everyone else
#   who reaches the school sees counts.
# - category (issue 6): a school's staff read its category, trust-wide roles any;
#   trust leads categorise; advisers (their schools) and trust leads record visits;
#   heads, advisers (their schools) and trust leads work the actions.
# - visits (issue 15): a school's notes of visit are read by its head, its governors
#   and its adviser, and by trust leads for any school; nobody else.
# - standards reviews (issue 15): trust leads record them, for any school of the trust.
# - digests (issue 7): the trust digest and its report for trust leads, the school
#   digest for heads.
# - governors (issue 15): their school's category, notes of visit and actions, and
#   nothing of coaching, QA, attendance (counts neither) or digests.
# Admins load data (DESIGN.md "who uses it"): they reach every school, so they read
# categories and counts, but they record no school-improvement decisions.
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "cmd:help": own_only(ALL),
    "cmd:commands": own_only(ALL),
    # The schools one works with, and nobody else's: a trust lead's and admin's are
    # the trust's, anyone else's those where they hold a role.
    "cmd:schools": own_only(ALL),
    "cmd:whoami": own_only(ALL),
    # A link to one's own dashboard: what it shows is scoped when it is opened.
    "cmd:dashboard": own_only(ALL),
    "cmd:log_coaching": own_only(LOGGERS),
    "cmd:my_coaching": own_only(ALL_STAFF),
    "cmd:coaching_coverage": table(frozenset({"head", "sia", "trust_lead"}), LEAD),
    "cmd:category": table(ALL, TRUST_WIDE),
    "cmd:categorise": table(LEAD, LEAD),
    "cmd:review": table(LEAD, LEAD),
    "cmd:visit": table(ADVISERS, LEAD),
    "cmd:actions": table(ACTIONS | {"governor"}, LEAD),
    "cmd:qa": own_only(frozenset({"subject_lead"})),
    "cmd:qa_status": table(frozenset({"head", "sia", "trust_lead", "subject_lead"}), LEAD),
    "cmd:prep_visit": table(ADVISERS, LEAD),
    "prep.start": table(ADVISERS, LEAD),
    "cmd:raise_concern": own_only(STAFF),
    "cmd:attendance_concerns": table(ALL_STAFF, TRUST_WIDE),
    "coaching.school": table(LOGGERS, LEAD),
    "coaching.save": table(LOGGERS, LEAD),
    "coaching.edit": table(frozenset({"coach"})),
    "coaching.view": table(frozenset({"coach", "teacher"})),
    "category.show": table(ALL, TRUST_WIDE),
    "category.history": table(ALL, TRUST_WIDE),
    "categorise.start": table(LEAD, LEAD),
    "categorise.save": table(LEAD, LEAD),
    "review.start": table(LEAD, LEAD),
    "review.save": table(LEAD, LEAD),
    "visit.start": table(ADVISERS, LEAD),
    "visit.save": table(ADVISERS, LEAD),
    "cmd:visits": table(VISIT_READERS, LEAD),
    "visit.notes": table(VISIT_READERS, LEAD),
    "visit.show": table(VISIT_READERS, LEAD),
    "actions.show": table(ACTIONS | {"governor"}, LEAD),
    "actions.update": table(ACTIONS, LEAD),
    "actions.done": table(ACTIONS, LEAD),
    "qa.open": table(frozenset({"subject_lead"})),
    "qa.save": table(frozenset({"subject_lead"})),
    "qa.status": table(frozenset({"head", "sia", "trust_lead"}), LEAD),
    # Previous / Next name no school: each reader pages through their own scope.
    "qa.status_page": own_only(frozenset({"head", "sia", "trust_lead", "subject_lead"})),
    "qa.show": table(frozenset({"subject_lead", "head", "sia", "trust_lead"}), LEAD),
    "attendance.save": table(STAFF),
    "attendance.open": table(FOLLOWERS),
    "attendance.edit": table(FOLLOWERS),
    "attendance.closing": table(FOLLOWERS),
    "attendance.update": table(FOLLOWERS),
    "attendance.close": table(FOLLOWERS),
    "attendance.list": table(ALL_STAFF, TRUST_WIDE),
    "cmd:digest": own_only(frozenset({"trust_lead", "head"})),
    "cmd:digest_report": own_only(LEAD),
    "digest.page": own_only(LEAD),
    "digest.show": own_only(LEAD),
}
# The target of each scope: (trust, school key).
TARGET = {"own": ("A", "one"), "other_school": ("A", "two"), "other_trust": ("B", "one")}
SCHOOL_NAMES = {"one": SCHOOLS["one"][1], "two": SCHOOLS["two"][1], "only_b": ONLY_B[1]}
# What a school is called when typed: another trust's only by a name trust A lacks.
TYPED = {"own": "oakfield primary", "other_school": "st marys", "other_trust": "zephyr academy"}
CATEGORY_NAMES = {("A", "one"): "Refinement", ("A", "two"): "Recovery", ("B", "one"): "Repair"}


@dataclass(frozen=True)
class Probe:
    """How to ask for one thing, and how its success reads."""

    # (world, scope) -> typed text, or verb data for an Action.Execute.
    request: Callable[[World, str], str | dict[str, Any]]
    # Words that show the request was done (any one of them).
    success: Callable[[World, str], tuple[str, ...]]
    # The table a successful request writes to, if it writes.
    writes: str | None = None
    # A dialog's own plain refusal, besides "You don't have access …".
    refusal: str | None = None


def ids(kind: str) -> Callable[[World, str], dict[str, Any]]:
    """Card data naming the scope's record of `kind` by id."""

    def build(world: World, scope: str) -> dict[str, Any]:
        side, school = TARGET[scope]
        found = world.side(side)
        value = {
            "school_id": found.schools,
            "session_id": found.coaching,
            "summary_id": found.summaries,
            "concern_id": found.concerns,
            "action_id": found.actions,
            "visit_id": found.visits,
        }[kind][school]
        return {kind: value}

    return build


def words(*found: str) -> Callable[[World, str], tuple[str, ...]]:
    return lambda world, scope: found


def school_words(*templates: str) -> Callable[[World, str], tuple[str, ...]]:
    """Success words naming the target school, e.g. "Open actions: {school}"."""

    def build(world: World, scope: str) -> tuple[str, ...]:
        name = SCHOOL_NAMES[TARGET[scope][1]]
        return tuple(t.format(school=name) for t in templates)

    return build


def typed(command: str) -> Callable[[World, str], str]:
    return lambda world, scope: f"{command} {TYPED[scope]}"


def form(
    build: Callable[..., dict[str, Any]], **person: str
) -> Callable[[World, str], dict[str, Any]]:
    def request(world: World, scope: str) -> dict[str, Any]:
        side, school = TARGET[scope]
        return build(world.side(side), school=school, **person)

    return request


def coaching_request(world: World, scope: str) -> dict[str, Any]:
    side, school = TARGET[scope]
    data = coaching_form(world.a, coachee="teacher" if school == "one" else "teacher2")
    if side == "B":
        data["coachee"] = str(world.b.people["teacher"])
    return data


def qa_open_request(world: World, scope: str) -> dict[str, Any]:
    side, school = TARGET[scope]
    return {"school_id": world.side(side).schools[school], "subject": SUBJECT}


def category_words(world: World, scope: str) -> tuple[str, ...]:
    return (CATEGORY_NAMES[TARGET[scope]],)


PROBES: dict[str, Probe] = {
    "cmd:help": Probe(lambda w, s: "help", words("What I can do for you")),
    "cmd:commands": Probe(lambda w, s: "all commands", words("All commands")),
    "cmd:schools": Probe(lambda w, s: "list schools", words("Your school", "schools")),
    "cmd:whoami": Probe(lambda w, s: "who am i", words("This is what Waypoint knows about you")),
    "cmd:dashboard": Probe(lambda w, s: "dashboard", words("Charts and tables for the schools")),
    "cmd:log_coaching": Probe(lambda w, s: "log coaching", words("Log a coaching session")),
    "cmd:my_coaching": Probe(
        lambda w, s: "my coaching", words("My coaching", "You have no coaching sessions yet")
    ),
    "cmd:coaching_coverage": Probe(
        typed("coaching coverage"), school_words("Coaching coverage — {school}")
    ),
    "cmd:category": Probe(typed("category"), category_words),
    "cmd:categorise": Probe(typed("categorise"), words("Record a categorisation")),
    "cmd:review": Probe(typed("review"), school_words("Standards review\n{school}")),
    "cmd:visit": Probe(typed("visit"), school_words("Note of visit")),
    "cmd:prep_visit": Probe(typed("prep visit"), school_words("Prep pack: {school}")),
    "prep.start": Probe(ids("school_id"), school_words("Prep pack: {school}")),
    "cmd:actions": Probe(typed("my actions"), school_words("Open actions: {school}")),
    "cmd:qa": Probe(lambda w, s: "submit qa", words("QA summary: Autumn term")),
    "cmd:qa_status": Probe(
        typed("qa status"), school_words("QA summaries at {school}", "Your QA summaries")
    ),
    "cmd:raise_concern": Probe(
        lambda w, s: "raise concern",
        words("Raise an attendance concern"),
        refusal="Concerns are raised by a school's own staff",
    ),
    "cmd:attendance_concerns": Probe(
        typed("concerns"),
        school_words("Open attendance concerns: {school}", "Attendance concerns: {school}"),
    ),
    "coaching.save": Probe(
        coaching_request,
        words("Coaching session saved"),
        writes="coaching_session",
        refusal="Choose a teacher from your own schools.",
    ),
    "coaching.school": Probe(ids("school_id"), words("Log a coaching session")),
    "coaching.edit": Probe(ids("session_id"), words("Edit coaching session")),
    "coaching.view": Probe(ids("session_id"), words("Coaching session")),
    "category.show": Probe(ids("school_id"), category_words),
    "category.history": Probe(ids("school_id"), school_words("{school}: category history")),
    "categorise.start": Probe(ids("school_id"), words("Record a categorisation")),
    "categorise.save": Probe(
        form(categorise_form),
        words("Categorisation recorded"),
        writes="school_categorisation",
        refusal="Choose a school of your trust.",
    ),
    "review.start": Probe(ids("school_id"), school_words("Standards review\n{school}")),
    "review.save": Probe(
        form(review_form), words("Standards review recorded"), writes="standards_review"
    ),
    "visit.start": Probe(ids("school_id"), school_words("Note of visit")),
    "visit.save": Probe(form(visit_form), words("Note of visit saved"), writes="visit"),
    "cmd:visits": Probe(typed("visits"), school_words("Notes of visit: {school}")),
    "visit.notes": Probe(ids("school_id"), school_words("Notes of visit: {school}")),
    # The seeded note's strengths, in full.
    "visit.show": Probe(ids("visit_id"), words("ALPHA strengths")),
    "actions.show": Probe(ids("school_id"), school_words("Open actions: {school}")),
    "actions.update": Probe(form(action_update), words("Updated:"), writes="school_action"),
    "actions.done": Probe(ids("action_id"), words("Marked done"), writes="school_action"),
    "qa.open": Probe(qa_open_request, words("QA summary: Autumn term")),
    "qa.save": Probe(form(qa_form), words("QA summary submitted"), writes="qa_summary"),
    "qa.status": Probe(ids("school_id"), school_words("QA summaries at {school}")),
    "qa.status_page": Probe(
        lambda w, s: {"page": 1},
        school_words("QA summaries at {school}", "QA summaries: Autumn", "Your QA summaries"),
    ),
    "qa.show": Probe(ids("summary_id"), words(f"QA summary: {SUBJECT}")),
    "attendance.save": Probe(
        form(concern_form), words("Attendance concern raised"), writes="attendance_concern"
    ),
    "attendance.open": Probe(ids("concern_id"), words("Attendance concern")),
    "attendance.edit": Probe(ids("concern_id"), words("Update concern:")),
    "attendance.closing": Probe(ids("concern_id"), words("Close concern:")),
    "attendance.update": Probe(
        form(update_form), words("Concern updated"), writes="attendance_concern"
    ),
    "attendance.close": Probe(
        form(close_form), words("Concern closed"), writes="attendance_concern"
    ),
    "attendance.list": Probe(
        ids("school_id"),
        school_words("Open attendance concerns: {school}", "Attendance concerns: {school}"),
    ),
    "cmd:digest": Probe(
        lambda w, s: "digest",
        words(f"Weekly digest — {TRUST_NAME}", f"Weekly digest — {SCHOOLS['one'][1]}"),
    ),
    "cmd:digest_report": Probe(
        lambda w, s: "digest report", words("No trust digest has been sent yet")
    ),
    "digest.page": Probe(lambda w, s: {"page": 1}, words(f"All schools — {TRUST_NAME}")),
    "digest.show": Probe(lambda w, s: {}, words(f"Weekly digest — {TRUST_NAME}")),
}
# Writes that change what later requests find go last, closing last of all.
ORDER = [k for k in PROBES if PROBES[k].writes is None] + [
    "coaching.save",
    "categorise.save",
    "review.save",
    "visit.save",
    "qa.save",
    "attendance.save",
    "attendance.update",
    "actions.update",
    "actions.done",
    "attendance.close",
]


def test_the_table_covers_every_command_and_verb_waypoint_registers() -> None:
    registry = build_registry()
    registered = {f"cmd:{c.key}" for c in registry.commands()} | {v.name for v in registry.verbs()}
    assert registered == set(EXPECTED) == set(PROBES) == set(ORDER)
    assert len(ORDER) == len(set(ORDER))


def _refused(probe: Probe, answer: Answer) -> bool:
    shown = answer.shown.strip()
    if shown.startswith("You don't have access"):
        return True
    return probe.refusal is not None and probe.refusal in shown


@dataclass
class Run:
    tried: int = 0
    allowed: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)


async def run_cells(world: World, role: str, cells: list[tuple[str, str]], writes: WriteLog) -> Run:
    """Ask for each (action, scope) as `role` of trust A, and judge each answer."""
    sessions = world.sessions
    me = world.a.people[role]
    run = Run()

    def check(ok: object, label: str, answer: Answer, detail: object = "") -> None:
        if not ok:
            run.problems.append(f"{label}: {detail or answer.shown[:200]!r}")

    await writes.take()
    last_event = max((e.id for e in await audit_events(sessions)), default=0)
    for key, scope in cells:
        probe, who = PROBES[key], EXPECTED[key][scope]
        label = f"{role} {key} {scope}"
        request = probe.request(world, scope)
        if isinstance(request, str):
            answer = await world.say(request, role)
        else:
            answer = await world.execute(key, request, role)
        run.tried += 1
        if role in who and probe.writes is not None:
            # Notices a write queued are sent (or found undeliverable) now, so their
            # rows settle before the next request is judged.
            assert world.waypoint is not None
            await world.waypoint.notifier.drain()
        changed = set(await writes.take())
        new_events = await audit_events(sessions, after=last_event)
        last_event = max((e.id for e in new_events), default=last_event)
        check(answer.status == 200, label, answer, f"HTTP {answer.status}")
        # Nothing of trust B ever shows in trust A's answers.
        check(not any(text in answer.shown for text in world.b.texts()), label, answer)
        if role in who:
            run.allowed += 1
            check(not _refused(probe, answer), label, answer)
            check(any(w in answer.shown for w in probe.success(world, scope)), label, answer)
            if probe.writes is not None:
                check(probe.writes in changed, label, answer, f"wrote {changed}")
            check(all(e.outcome != "refused" for e in new_events), label, answer)
            continue
        run.refused += 1
        check(changed <= BOOKKEEPING, label, answer, f"changed {changed - BOOKKEEPING}")
        if scope == "other_trust" and isinstance(request, str):
            # Typed: another trust's school is not found, as if it did not exist.
            found = _refused(probe, answer) or "couldn't find a school" in answer.shown
            check(found, label, answer)
            continue
        check(_refused(probe, answer), label, answer)
        check(new_events, label, answer, "not audited")
        check(
            all(
                (e.outcome, e.person_id, e.trust_id) == ("refused", me, world.a.trust_id)
                for e in new_events
            ),
            label,
            answer,
            [(e.action, e.outcome, e.person_id, e.trust_id) for e in new_events],
        )
    return run


def cells_of(role: str) -> list[tuple[str, str]]:
    return [(key, scope) for key in ORDER for scope in EXPECTED[key]]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("store", ["sqlite"])
async def test_every_role_every_action_every_scope(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], role: str
) -> None:
    await run_matrix(engine, sessions, role)


# The same on PostgreSQL: the dialogs are the same, so it runs with the slow suite.
@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("store", ["postgresql"])
async def test_every_role_every_action_every_scope_on_postgresql(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], role: str
) -> None:
    await run_matrix(engine, sessions, role)


async def run_matrix(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], role: str
) -> None:
    world = await build_world(engine, sessions)
    cells = cells_of(role)
    async with served(world), write_log(engine) as writes:
        run = await run_cells(world, role, cells, writes)
    assert not run.problems, f"{len(run.problems)} of {run.tried} wrong:\n" + "\n".join(
        run.problems
    )
    assert run.tried == len(cells) == run.allowed + run.refused
    assert run.allowed == sum(role in EXPECTED[key][scope] for key, scope in cells)
