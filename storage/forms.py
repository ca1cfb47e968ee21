"""Store a card form's record once, however often the card arrives.

Every form card carries a form id of its own (a uuid4, made when the card is
drawn). Teams redelivers activities, people double-click, and two replicas can
receive the same submit at once: the record a form makes is stored the first
time and found again every other time. Form ids are unique per trust (every
form table has a unique (trust_id, form_id)), and this is the one place that
relies on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base


class FormTaken(Exception):
    """The form id is already stored, for another person, school or record.

    Form ids are Waypoint's own (uuid4): only a tampered or mixed-up card carries
    one of another record. Nothing is stored, and the other record is not shown.
    """


R = TypeVar("R", bound=Base)


@dataclass(frozen=True)
class Stored(Generic[R]):
    row: R
    # False when this form had been stored already (a double click, a redelivery,
    # another replica a moment ago): the row is the one stored then.
    created: bool


def insert_for(session: AsyncSession) -> Any:
    """The INSERT construct of the session's dialect (ON CONFLICT is dialect SQL)."""
    bind = session.get_bind()
    return pg_insert if bind.dialect.name == "postgresql" else sqlite_insert


async def store_once(
    session: AsyncSession,
    model: type[R],
    values: Mapping[str, Any],
    *,
    same: Sequence[str],
) -> Stored[R]:
    """Store the row a form makes, or find the one this form stored before.

    `values` holds the row's columns, `trust_id` and `form_id` among them. `same`
    names the columns a genuine resend agrees on (who submitted it, for which
    school): a stored row that differs in any of them raises FormTaken.

    One INSERT … ON CONFLICT (trust_id, form_id) DO NOTHING: a new form costs one
    statement, a resend two, and a race between replicas cannot store it twice.
    Any other conflict (a visit number taken, say) raises IntegrityError for the
    caller, which owns the transaction.
    """
    statement = (
        insert_for(session)(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["trust_id", "form_id"])
        .returning(model)
    )
    row = await session.scalar(statement)
    if row is not None:
        return Stored(row, created=True)
    stored = await stored_by_form(
        session, model, trust_id=values["trust_id"], form_id=values["form_id"]
    )
    if stored is None:
        # ON CONFLICT waits for the conflicting transaction and skips only a committed
        # row, which this statement then sees: not reached unless the store misbehaves.
        raise RuntimeError(
            f"{model.__tablename__}: form {values['form_id']} neither stored nor found"
        )
    if any(getattr(stored, column) != values[column] for column in same):
        raise FormTaken()
    return Stored(stored, created=False)


async def stored_by_form(
    session: AsyncSession, model: type[R], *, trust_id: int, form_id: str
) -> R | None:
    """What this form stored, if it has been stored.

    A form that creates a record never needs to ask (`store_once` answers). A form
    that changes one does: whether it is valid depends on the record's state, which
    the form itself changed if it was applied before (a double click would
    otherwise read "nothing to change").
    """
    table = model.__table__
    return await session.scalar(
        select(model).where(table.c.trust_id == trust_id, table.c.form_id == form_id)
    )
