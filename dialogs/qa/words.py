"""How QA windows, submissions and summaries read on a card."""

from __future__ import annotations

from datetime import tzinfo

from cards.render import render_card
from dialogs.turn import Reply
from dialogs.words import full_day, short_day
from storage.academic_calendar import QaClosed, QaOpen
from storage.directory import Actor
from storage.models import QaSummary
from storage.qa import EVIDENCE, JUDGEMENTS, SummaryLine


def closed_text(period: QaClosed) -> str:
    text = "No term is open for QA summaries today."
    if period.previous is not None:
        text += (
            f" The window for {period.previous.term.title} closed on "
            f"{full_day(period.previous.closes)}."
        )
    if period.next is not None:
        text += (
            f" The next window, for {period.next.term.title}, opens on "
            f"{full_day(period.next.opens)}."
        )
    return text


def window_text(period: QaOpen) -> str:
    closes = full_day(period.window.closes)
    if period.days_left == 0:
        return f"The window for {period.term.title} closes today, {closes}."
    days = "1 day" if period.days_left == 1 else f"{period.days_left} days"
    return f"The window for {period.term.title} is open until {closes}: {days} left."


def submitted_line(line: SummaryLine, actor: Actor, zone: tzinfo) -> str:
    who = "you" if line.author_id == actor.person_id else (line.author_name or "someone")
    day = short_day(line.submitted_at.astimezone(zone).date())
    return f"{who} submitted on {day} (version {line.version})"


def summary_card(
    row: QaSummary,
    school_name: str,
    *,
    zone: tzinfo,
    title: str,
    subtitle: str | None,
    author: str | None,
) -> Reply:
    facts = [
        ("Subject", row.subject),
        ("School", school_name),
        ("Term", f"{row.term_name} {row.academic_year}"),
        ("Version", str(row.version)),
        ("Judgement", JUDGEMENTS.get(row.judgement, row.judgement)),
        ("Evidence", ", ".join(EVIDENCE.get(e, e) for e in row.evidence)),
        ("Submitted", short_day(row.submitted_at.astimezone(zone).date())),
    ]
    if author:
        facts.insert(3, ("Submitted by", author))
    sections = [
        ("Strengths", row.strengths),
        ("Areas for development", row.areas_for_development),
        ("Actions", row.actions),
        ("CPD delivered", row.cpd or "None recorded"),
    ]
    card = render_card("qa_summary", title=title, subtitle=subtitle, facts=facts, sections=sections)
    return Reply(card=card)
