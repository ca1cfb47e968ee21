"""QA compliance: which subjects of each school have submitted a term's summary.

Read by `qa status`, the home card, the visit prep, the digests and the dashboard,
for one school or a whole trust, in one statement (storage/qa.py says who is
expected to submit and what a summary is).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import CompoundSelect, Integer, String, cast, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import Term
from storage.models import Person, PersonRole, PersonSubject, QaSummary, Role, School
from storage.qa import SchoolCompliance, SummaryLine


async def compliance(
    session: AsyncSession,
    *,
    trust_id: int,
    term: Term,
    school_ids: Collection[int] | None = None,
) -> list[SchoolCompliance]:
    """Submitted against expected per school, for the whole trust or some schools,
    in one statement whatever the number of schools: the schools, who leads which
    subject at each (`led_subjects`) and the term's summaries (`latest_summaries`),
    as rows of one UNION ALL told apart by their kind (a turn's statements are most
    of its cost, issue 18)."""
    rows = (await session.execute(_compliance_rows(trust_id, term, school_ids))).all()
    schools = {
        row.school_id: SchoolCompliance(row.school_id, row.name)
        for row in rows
        if row.kind == "school"
    }
    for row in rows:
        if row.kind == "lead":
            names = schools[row.school_id].expected.setdefault(row.name, [])
            if row.person not in names:
                names.append(row.person)
        elif row.kind == "summary" and row.school_id in schools:
            submitted = schools[row.school_id].submitted
            line = SummaryLine(
                row.summary_id,
                row.school_id,
                row.name,
                row.version,
                row.author_id,
                row.person,
                row.submitted_at,
                row.judgement,
            )
            # The latest version is the one shown.
            if row.name not in submitted or submitted[row.name].version < line.version:
                submitted[row.name] = line
    return list(schools.values())


def _compliance_rows(
    trust_id: int, term: Term, school_ids: Collection[int] | None
) -> CompoundSelect[*tuple[Any, ...]]:
    """(kind, school_id, name, person, then a summary's id, version, author_id,
    submitted_at and judgement): a school with its name; a lead with the subject
    and their name; a summary with its subject and its author's name. Ordered so
    that schools come by name, then id (pages keep their order), and each school's
    subjects and their leads by name."""
    no_number = cast(null(), Integer)
    no_text = cast(null(), String)
    no_summary = (
        no_number.label("summary_id"),
        no_number.label("version"),
        no_number.label("author_id"),
        cast(null(), QaSummary.submitted_at.type).label("submitted_at"),
        no_text.label("judgement"),
    )
    schools = select(
        literal("school").label("kind"),
        School.id.label("school_id"),
        School.name.label("name"),
        no_text.label("person"),
        *no_summary,
    ).where(School.trust_id == trust_id)
    leads = (
        select(literal("lead"), School.id, PersonSubject.subject, Person.display_name, *no_summary)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .join(School, School.id == PersonRole.school_id)
        .join(PersonSubject, PersonSubject.person_id == Person.id)
        .where(
            Person.trust_id == trust_id,
            School.trust_id == trust_id,
            PersonRole.role == Role.subject_lead.value,
        )
    )
    summaries = (
        select(
            literal("summary"),
            QaSummary.school_id,
            QaSummary.subject,
            Person.display_name,
            QaSummary.id,
            QaSummary.version,
            QaSummary.author_id,
            QaSummary.submitted_at,
            QaSummary.judgement,
        )
        .outerjoin(Person, Person.id == QaSummary.author_id)
        .where(
            QaSummary.trust_id == trust_id,
            QaSummary.academic_year == term.academic_year,
            QaSummary.term == term.number,
        )
    )
    if school_ids is not None:
        ids = list(school_ids)
        schools = schools.where(School.id.in_(ids))
        leads = leads.where(School.id.in_(ids))
        summaries = summaries.where(QaSummary.school_id.in_(ids))
    rows = union_all(schools, leads, summaries)
    columns = rows.selected_columns
    return rows.order_by(columns.kind, columns.name, columns.person, columns.school_id)
