"""Every change to a trust's directory moves its `directory_version`, in the same
transaction, whoever writes it.

Each process caches who its people are (storage/directory_cache.py) and trusts its
copy only while the trust's number is the one it was read at. So a missed writer
would be a replica refusing someone their new role, or worse, honouring a removed
one, until it restarts. Rather than asking every writer (imports, each `waypoint`
command, the demo, role grants, and whatever comes next) to remember a bump, the
session does it:

- `before_flush`: any trust, school, person, role, subject or term date the flush adds,
  changes or deletes adds one to its trust's number, in one UPDATE run inside the
  flush's own transaction (so it commits, or rolls back, with the change).
- `do_orm_execute`: a bulk INSERT, UPDATE or DELETE against those tables (the
  imports insert rows in bulk) bypasses the flush; its trust is not known without
  reading the statement's rows, so it moves every trust's number. Bulk directory
  writes are rare (an import, a demo build): each costs every replica one re-read
  per person, never a wrong answer.

Raw SQL (`text()`) against these tables would go unseen: nothing in Waypoint writes
the directory that way, and `tests/test_directory_cache.py` checks the writers it
knows. The listeners are on SQLAlchemy's `Session` class, so every session of every
engine has them, including the command line's and the tests'.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import ColumnElement, event, false, or_, select, true, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage.models import Person, PersonRole, PersonSubject, School, TermDate, Trust

# Set on the stamp's own UPDATE, so the listener does not count it as a change.
_STAMP = "waypoint_directory_stamp"
DIRECTORY_TABLES = frozenset(
    model.__tablename__ for model in (Trust, School, Person, PersonRole, PersonSubject, TermDate)
)


def _changed(session: Session) -> ColumnElement[bool] | None:
    """Which trusts' directories this flush changes; None for none."""
    trusts: set[int] = set()
    people: set[int] = set()
    every = False
    for item in chain(session.new, session.dirty, session.deleted):
        if isinstance(item, Trust):
            # A new trust has no cached people yet.
            if item.id is not None and session.is_modified(item):
                trusts.add(item.id)
        elif isinstance(item, (School, Person, TermDate)):
            if item.trust_id is None:
                every = True
            else:
                trusts.add(item.trust_id)
        elif isinstance(item, (PersonRole, PersonSubject)):
            # A role appended to a person's list has no person id before the flush.
            if item.person_id is None:
                every = True
            else:
                people.add(item.person_id)
    if every:
        return true()
    if not trusts and not people:
        return None
    return or_(
        Trust.id.in_(trusts) if trusts else false(),
        Trust.id.in_(select(Person.trust_id).where(Person.id.in_(people))) if people else false(),
    )


def _bump(session: Session, which: ColumnElement[bool]) -> None:
    session.execute(
        update(Trust).where(which).values(directory_version=Trust.directory_version + 1),
        # Trusts loaded in this session keep their old number: nothing reads it there.
        execution_options={_STAMP: True, "synchronize_session": False},
    )


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    which = _changed(session)
    if which is not None:
        _bump(session, which)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.execution_options.get(_STAMP):
        return
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in DIRECTORY_TABLES:
        _bump(state.session, true())
