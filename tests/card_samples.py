"""Realistic values for every card template, and where a person's own text lands in them.

`SAMPLES[name]` lists value dicts shaped exactly as the dialogs pass them to
`render_card(name, **values)`: one or more per template, covering its branches
(empty lists, errors shown, buttons or none). `TYPED[name]` lists the paths in
those values that carry text someone typed: form answers sent back with an error,
notes, descriptions, and names an admin imported. The card tests put hostile text
and arbitrary text at those paths.

A template without an entry in both maps fails tests/test_cards.py: add one when
you add a template.

A path is a tuple of keys; "*" means every item of a list or every value of a dict.
"""

from __future__ import annotations

import copy
from typing import Any

from dialogs.actions import ActionVerb
from dialogs.attendance.verbs import AttendanceVerb
from dialogs.category import CategoryVerb
from dialogs.coaching.verbs import CoachingVerb
from dialogs.digest_cards import DigestVerb
from dialogs.qa.verbs import QaVerb
from dialogs.review import ReviewVerb
from dialogs.visits.verbs import VisitVerb

Path = tuple[str | int, ...]

FORM_ID = "4f1c2a9be07d4c35a1d9f0b3c8e2d716"
OAKFIELD = "Oakfield Primary"
ERRORS_NOTE = "Please check the fields marked below; nothing has been saved yet."


def _coverage_row(school: str, two: str, six: str, detail: str) -> Any:
    return {"school": school, "two_weeks": two, "six_weeks": six, "detail": detail}


_SESSION = {
    "id": 41,
    "date": "Thu 19 Nov 2026",
    "status": "Held",
    "coach": "Priya Shah",
    "coachee": "Liam Doherty",
    "strand": "Retrieval practice",
    "action_step": "Cold-call three pupils before taking hands up",
    "next_session": "Thu 3 Dec 2026",
}

_ACTION_ROWS = [
    # A head's row: done and a note, no rating.
    {
        "id": 12,
        "description": "Embed the phonics catch-up programme in Year 2",
        "detail": (
            "Owner: Marcus Bell · RAG: red (2 Oct, Nadia Okafor) → amber (13 Nov, Nadia Okafor)"
        ),
        "due": "Overdue: was due 6 November 2026",
        "due_value": "2026-11-06",
        "overdue": True,
        "rag": "amber",
        "progress": "Progress, 20 Nov, Marcus Bell: Year 2 groups started; training booked.",
        "can_mark_done": True,
        "can_note": True,
        "can_reschedule": True,
        "can_rate": False,
    },
    # An adviser's row: a rating too.
    {
        "id": 13,
        "description": "Share the attendance action plan with governors",
        "detail": "Owner: nobody yet · RAG: not rated",
        "due": "Due 4 December 2026",
        "due_value": "2026-12-04",
        "overdue": False,
        "rag": None,
        "progress": "",
        "can_mark_done": True,
        "can_note": True,
        "can_reschedule": True,
        "can_rate": True,
    },
    # Done, awaiting the adviser's rating: the adviser rates it.
    {
        "id": 14,
        "description": "Publish the reading spine on the website",
        "detail": "Owner: Marcus Bell · RAG: amber (13 Nov, Nadia Okafor)",
        "due": "Done, awaiting the adviser's rating",
        "due_value": "2026-11-27",
        "overdue": False,
        "rag": "amber",
        "progress": "",
        "can_mark_done": False,
        "can_note": False,
        "can_reschedule": False,
        "can_rate": True,
    },
]
# A governor's rows: read only.
_GOVERNOR_ROWS = [
    row | {"can_mark_done": False, "can_note": False, "can_reschedule": False, "can_rate": False}
    for row in _ACTION_ROWS
]

_COACHEES = [
    {"title": "Liam Doherty — Oakfield Primary", "value": "15"},
    {"title": "Hannah Greene — Oakfield Primary", "value": "16"},
    {"title": "Zoë Fairbairn — Oakfield Primary", "value": "14"},
]
_STRANDS = [
    {"title": "Retrieval practice", "value": "1"},
    {"title": "Explicit vocabulary instruction", "value": "2"},
    {"title": "Oracy", "value": "3"},
]
_STAGES = [
    {"title": "Expect", "value": "expect"},
    {"title": "Monitor", "value": "monitor"},
    {"title": "Listen and understand", "value": "listen"},
    {"title": "Facilitate support", "value": "facilitate"},
    {"title": "Formalise support", "value": "formalise"},
    {"title": "Enforce", "value": "enforce"},
]
_EVIDENCE = {
    "deep_dive": "Deep dive",
    "learning_walk": "Learning walk",
    "book_look": "Book look",
    "pupil_voice": "Pupil voice",
}
_JUDGEMENTS = {"green": "Green: secure", "amber": "Amber: developing", "red": "Red: a concern"}
_CATEGORIES = [
    {"title": "Excellence: The school is highly effective.", "value": "excellence"},
    {"title": "Refinement: The school is good with pockets to refine.", "value": "refinement"},
    {"title": "Recovery: The school needs focused support.", "value": "recovery"},
]

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "actions": [
        {
            "verbs": ActionVerb,
            "title": "Your open actions",
            "rows": _ACTION_ROWS,
            "empty": "Nothing open: no action is waiting at your schools.",
            "view": {},
            "note": "Marked done: Publish the reading spine on the website",
            "error": None,
            "more": "Showing the first 2 of 7; mark some done to see the rest.",
        },
        {
            "verbs": ActionVerb,
            "title": "Your school's actions",
            "rows": _GOVERNOR_ROWS,
            "empty": "Nothing open: no action is waiting at your school.",
            "view": {},
            "note": None,
            "error": None,
            "more": "",
        },
        {
            "verbs": ActionVerb,
            "title": f"Open actions: {OAKFIELD}",
            "rows": [],
            "empty": f"{OAKFIELD} has no open actions.",
            "view": {"school_id": 2},
            "note": None,
            "error": "That action no longer exists.",
            "more": "",
        },
    ],
    "attendance_close_form": [
        {
            "verbs": AttendanceVerb,
            "title": "Close concern: 40213, Oakfield Primary",
            "outcomes": [
                {"title": "Attendance improved", "value": "improved"},
                {"title": "Left the school", "value": "left"},
                {"title": "Other", "value": "other"},
            ],
            "values": {"outcome": "other", "note": "Family moved out of area; CME checks done."},
            "errors": {"outcome": "Choose the outcome."},
            "data": {"verb": AttendanceVerb.close, "form_id": FORM_ID, "concern_id": 8},
        }
    ],
    "attendance_concern": [
        {
            "verbs": AttendanceVerb,
            "title": "Attendance concern raised",
            "subtitle": None,
            "note": "Kerry Walsh (attendance lead) will get a notice in Teams. Ravi Shah "
            "(attendance lead) will get a notice when they open Waypoint. The notice "
            "carries no pupil details.",
            "good": True,
            "concern": {
                "facts": [
                    ("Pupil", "40213"),
                    ("School", OAKFIELD),
                    ("Year group", "Year 4"),
                    ("Attendance this year", "86.5%"),
                    ("Unauthorised sessions", "6 in the last 10 school weeks"),
                    ("Concern", "Persistent absence"),
                    ("Vulnerable groups", "SEN support, EAL"),
                    ("Stage", "Listen and understand"),
                    ("Status", "Open"),
                    ("Next review", "Review due today"),
                    ("Raised", "Fri 20 Nov 2026 by Kerry Walsh"),
                ],
                "flags": [
                    ("Persistent absence", "Yes: attendance is 90% or below"),
                    ("Severe absence", "No: attendance is above 50%"),
                    ("Penalty notice", "Not yet: fewer than 10 unauthorised sessions"),
                ],
                "done_so_far": "Phone call home; first-day calling in place.",
            },
            "entries": [
                {
                    "heading": "Fri 20 Nov 2026 09:12 · Kerry Walsh · Raised at stage Monitor",
                    "text": "",
                },
                {
                    "heading": "Mon 23 Nov 2026 15:40 · Kerry Walsh · Action on Mon 23 Nov 2026",
                    "text": "Met parent; agreed a morning routine and a weekly check-in.",
                },
            ],
            "can_follow": True,
            "is_open": True,
            "concern_id": 8,
        },
        {
            "verbs": AttendanceVerb,
            "title": "Attendance concern",
            "subtitle": None,
            "note": "Closed concerns are kept for the retention period, then anonymised.",
            "good": False,
            "concern": {
                "facts": [("Pupil", "JS"), ("Status", "Closed Mon 2 Nov 2026: Other")],
                "flags": [("Persistent absence", "No: attendance is above 90%")],
                "done_so_far": "",
            },
            "entries": [],
            "can_follow": False,
            "is_open": False,
            "concern_id": 9,
        },
    ],
    "attendance_counts": [
        {
            "title": "Attendance concerns: Waypoint Demo Trust",
            "intro": "Open concerns, counted. Pupil details are for the school's attendance "
            "leads and head.",
            "totals": [
                ("Open concerns", "7"),
                ("Persistent absence", "5"),
                ("Severe absence", "1"),
                ("Consider a penalty notice", "2"),
            ],
            "sections": [
                ("By school", [(OAKFIELD, "4"), ("Brontë Academy", "3")]),
                ("By stage", [("Monitor", "3"), ("Facilitate support", "4")]),
            ],
        }
    ],
    "attendance_form": [
        {
            "verbs": AttendanceVerb,
            "schools": [
                {"title": OAKFIELD, "value": "2"},
                {"title": "Brontë Academy", "value": "3"},
            ],
            "year_groups": [
                {"title": "Reception", "value": "R"},
                {"title": "Year 4", "value": "4"},
            ],
            "concern_types": [
                {"title": "Persistent absence", "value": "persistent"},
                {"title": "Lateness", "value": "lateness"},
            ],
            "vulnerable_groups": [
                {"title": "SEN support", "value": "sen_support"},
                {"title": "EAL", "value": "eal"},
            ],
            "stages": _STAGES,
            "values": {
                "school": "2",
                "pupil_ref": "40213",
                "year_group": "4",
                "attendance_percent": "86.5",
                "unauthorised_sessions": "6",
                "concern_type": "persistent",
                "vulnerable": "sen_support,eal",
                "done_so_far": "Phone call home; first-day calling in place.",
                "stage": "monitor",
            },
            "errors": {"pupil_ref": "Use the MIS id or initials, never a name."},
            "data": {"verb": AttendanceVerb.save, "form_id": FORM_ID},
        },
        {
            "verbs": AttendanceVerb,
            "schools": [{"title": OAKFIELD, "value": "2"}],
            "year_groups": [{"title": "Year 4", "value": "4"}],
            "concern_types": [{"title": "Persistent absence", "value": "persistent"}],
            "vulnerable_groups": [{"title": "EAL", "value": "eal"}],
            "stages": _STAGES,
            "values": {"stage": "monitor", "school": "2"},
            "errors": {},
            "data": {"verb": AttendanceVerb.save, "form_id": FORM_ID},
        },
    ],
    "attendance_list": [
        {
            "verbs": AttendanceVerb,
            "title": "Open attendance concerns",
            "summary": "3 open, the most overdue review first.",
            "rows": [
                {
                    "id": 8,
                    "heading": "40213 · Year 4",
                    "detail": "Oakfield Primary · Listen and understand · raised Fri 20 Nov 2026",
                    "review": "Review overdue by 2 days (Fri 20 Nov 2026)",
                    "overdue": True,
                },
                {
                    "id": 9,
                    "heading": "JS · Reception",
                    "detail": "Brontë Academy · Monitor · raised Mon 16 Nov 2026",
                    "review": "Review due today",
                    "overdue": False,
                },
            ],
        }
    ],
    "attendance_notice": [
        {
            "verbs": AttendanceVerb,
            "school": OAKFIELD,
            "raised": "Fri 20 Nov 2026 at 09:12",
            "concern_id": 8,
        }
    ],
    "attendance_update_form": [
        {
            "verbs": AttendanceVerb,
            "title": "Update concern: 40213, Oakfield Primary",
            "stages": _STAGES,
            "values": {
                "stage": "facilitate",
                "action": "Home visit; attendance contract agreed with parent.",
                "action_on": "2026-11-20",
                "next_review_on": "2026-12-04",
            },
            "errors": {"next_review_on": "Choose a review date after today."},
            "today": "2026-11-22",
            "data": {"verb": AttendanceVerb.update, "form_id": FORM_ID, "concern_id": 8},
        }
    ],
    "categorise_form": [
        {
            "verbs": CategoryVerb,
            "values": {
                "school_id": "2",
                "category": "refinement",
                "decided_on": "2026-11-18",
                "attendees": "Headteacher, Chair of Governors, Director of Education, SIA",
                "rationale": "Strong early reading; maths outcomes below national at KS2.",
                "form_id": FORM_ID,
            },
            "errors": {"rationale": "Give the reasons for this category."},
            "schools": [
                {"title": OAKFIELD, "value": "2"},
                {"title": "Brontë Academy", "value": "3"},
            ],
            "categories": _CATEGORIES,
            "form_id": FORM_ID,
        }
    ],
    "category": [
        {
            "verbs": CategoryVerb,
            "intro": None,
            "school": OAKFIELD,
            "category": "Refinement",
            "needs_attention": False,
            "facts": [
                ("Since", "18 November 2026"),
                ("Improvement target", "Improve to Excellence within 12–18 months"),
                ("Target date", "18 May 2028"),
                ("Last change", "Reinforcement → Refinement on 18 November 2026"),
            ],
            "descriptor": "The school is good, with pockets of practice to refine.",
            "lists": [
                ("Support it brings", "- Termly SIA visit\n- Subject network meetings"),
                ("Challenge it brings", "- Standards meeting each term"),
            ],
            "decision": {
                "attendees": "Headteacher, Chair of Governors, Director of Education, SIA",
                "rationale": "Strong early reading; maths outcomes below national at KS2.",
            },
            "note": None,
            "history": {"school_id": 2},
            "buttons": [],
        },
        {
            "verbs": CategoryVerb,
            "intro": "Oakfield Primary's category has been updated: Recovery confirmed",
            "school": OAKFIELD,
            "category": "Recovery",
            "needs_attention": True,
            "facts": [("Since", "18 November 2026")],
            "descriptor": "",
            "lists": [("Support it brings", "")],
            "decision": None,
            "note": "“Stabilise” is no longer in the trust's framework.",
            "history": None,
            "buttons": [{"title": "My actions", "command": "actions"}],
        },
    ],
    "category_history": [
        {
            "title": f"{OAKFIELD}: category history",
            "decisions": [
                {
                    "heading": "18 November 2026: Refinement",
                    "attendees": "Headteacher, Chair of Governors, Director of Education, SIA",
                    "rationale": "Strong early reading; maths outcomes below national at KS2.",
                },
                {
                    "heading": "20 July 2025: Reinforcement",
                    "attendees": "Not recorded",
                    "rationale": "Phonics outcomes improving; leadership capacity developing.",
                },
            ],
        },
        {"title": f"{OAKFIELD}: category history", "decisions": []},
    ],
    "choose_school": [
        {
            "title": "Which school do you mean?",
            "text": "More than one school is close to “st”.",
            "choices": [
                {"title": "St Mary's C of E Primary", "value": "1"},
                {"title": "Kingsbridge Secondary", "value": "6"},
            ],
            "data": {"verb": CategoryVerb.show},
        }
    ],
    "coaching_coverage": [
        {
            "title": "Coaching coverage — Waypoint Demo Trust",
            "target": 80,
            "rows": [
                _coverage_row(
                    OAKFIELD, "50%", "75%", "4 teachers · 1.5 sessions per teacher · 10% cancelled"
                ),
                _coverage_row(
                    "Brontë Academy", "20%", "40%", "5 teachers · 0.6 sessions per teacher"
                ),
            ],
            "total": _coverage_row(
                "Waypoint Demo Trust",
                "33%",
                "56%",
                "9 teachers · 1 session per teacher · 6% cancelled",
            ),
            "strands": [("Retrieval practice", 5), ("Oracy", 2)],
        },
        {
            "title": f"Coaching coverage — {OAKFIELD}",
            "target": 80,
            "rows": [_coverage_row(OAKFIELD, "—", "—", "No teachers listed")],
            "total": None,
            "strands": [],
        },
    ],
    "coaching_form": [
        {
            "verbs": CoachingVerb,
            "title": "Log a coaching session",
            "note": None,
            "coachees": _COACHEES,
            "strands": _STRANDS,
            "values": {"held_on": "2026-11-22", "status": "held"},
            "errors": {},
            "data": {"verb": CoachingVerb.save, "form_id": FORM_ID},
            "today": "2026-11-22",
        },
        {
            "verbs": CoachingVerb,
            "title": "Edit coaching session",
            "note": "Changes are saved over the session you logged.",
            "coachees": _COACHEES,
            "strands": _STRANDS,
            "values": {
                "coachee": "15",
                "held_on": "2026-11-19",
                "strand": "1",
                "status": "held",
                "action_step": "",
                "notes": "Good pace; questioning to stretch the top group.",
                "next_session_on": "2026-12-03",
            },
            "errors": {"action_step": "Write the one action step you agreed."},
            "data": {"verb": CoachingVerb.save, "form_id": FORM_ID, "session_id": 41},
            "today": "2026-11-22",
        },
    ],
    "coaching_mine": [
        {
            "verbs": CoachingVerb,
            "name": "Priya Shah",
            "current": _SESSION | {"coach": "Siân Llewelyn", "coachee": "Priya Shah"},
            "received": [_SESSION | {"coach": "Siân Llewelyn", "coachee": "Priya Shah"}],
            "coached": [_SESSION, _SESSION | {"id": 42, "status": "Cancelled", "strand": "—"}],
            "due": [{"name": "Hannah Greene", "last": "Mon 2 Nov 2026", "days": 20}],
            "can_log": True,
        },
        {
            "verbs": CoachingVerb,
            "name": "Liam Doherty",
            "current": None,
            "received": [_SESSION],
            "coached": [],
            "due": [],
            "can_log": False,
        },
    ],
    "coaching_saved": [
        {
            "verbs": CoachingVerb,
            "title": "Coaching session saved",
            "subtitle": None,
            "session": _SESSION,
            "can_edit": True,
            "session_id": 41,
        },
        {
            "verbs": CoachingVerb,
            "title": "Coaching session",
            "subtitle": "This session was saved when you first pressed Save.",
            "session": _SESSION | {"notes": "Good pace; questioning to stretch the top group."},
            "can_edit": False,
            "session_id": 41,
        },
    ],
    "coaching_step": [{"session": _SESSION}],
    "digest_page": [
        {
            "verbs": DigestVerb,
            "title": "All schools — Waypoint Demo Trust",
            "subtitle": "Page 2 of 8 · 75 schools, 14 needing attention (listed first)",
            "schools": [
                {
                    "name": "Oakfield Primary",
                    "reasons": "Recovery category · target date passed: 1 May 2026, not yet "
                    "Reinforcement · 2 overdue actions",
                    "line": "4 open actions · visits 2/6 · coached 55% in 6 weeks · QA 3/5",
                    "attention": True,
                },
                {
                    "name": "Brontë Academy",
                    "reasons": "",
                    "line": "Refinement · 1 open action · visits 1/4 · coached 85% in 6 weeks "
                    "· QA 6/6",
                    "attention": False,
                },
            ],
            "previous": 1,
            "next": 3,
        },
        {
            "verbs": DigestVerb,
            "title": "All schools — Waypoint Demo Trust",
            "subtitle": "Page 1 of 1 · 2 schools, none needing attention",
            "schools": [
                {
                    "name": "Brontë Academy",
                    "reasons": "",
                    "line": "Excellence · 0 open actions · visits 1/4",
                    "attention": False,
                }
            ],
            "previous": None,
            "next": None,
        },
    ],
    "digest_report": [
        {
            "title": "Trust digest 2026-W50: 4 recipients",
            "counts": [
                ("Delivered", "1"),
                ("Not installed yet", "1: Helen Ashworth"),
                ("Blocked or removed", "1: Zoë Fairbairn"),
                ("Failed", "1: Priya Natarajan"),
            ],
            "note": "Not installed yet: sent when they open Waypoint, or replaced by next "
            "week's digest.",
        },
        {
            "title": "Trust digest 2026-W50: 1 recipient",
            "counts": [
                ("Delivered", "1"),
                ("Not installed yet", "0"),
                ("Blocked or removed", "0"),
                ("Failed", "0"),
            ],
            "note": None,
        },
    ],
    "digest_school": [
        {
            "title": "Weekly digest — St Mary's C of E Primary",
            "subtitle": "Week of Thursday 10 December 2026",
            "reasons": "Recovery, 1 overdue action, QA 3/5",
            "facts": [
                ("Category", "Recovery"),
                ("Actions", "4 open, 1 overdue, 2 due in 2 weeks"),
                ("Adviser visits", "2 of 6 this year (2026-27)"),
                ("QA", "3 of 5 submitted for Autumn term 2026-27 (missing: Art, History)"),
                ("Coaching", "40% of teachers in 2 weeks, 75% in 6 weeks"),
                ("Attendance", "3 open concerns (2 persistent, 1 severe)"),
            ],
        }
    ],
    "digest_trust": [
        {
            "verbs": DigestVerb,
            "title": "Weekly digest — Waypoint Demo Trust",
            "subtitle": "Week of Monday 7 December 2026 · 6 schools",
            "chart": {
                "bars": [
                    {"name": "Excellence", "count": 1, "colour": "categoricalGreen"},
                    {"name": "Refinement", "count": 2, "colour": "categoricalLightBlue"},
                    {"name": "Reinforcement", "count": 1, "colour": "categoricalPurple"},
                    {"name": "Recovery", "count": 1, "colour": "categoricalMarigold"},
                    {"name": "Repair", "count": 1, "colour": "categoricalRed"},
                ],
            },
            "attention_heading": "Needs attention (3)",
            "attention": [
                {
                    "name": "Ysgol Gymraeg Llwyncelyn",
                    "reasons": "Repair category · 3 overdue actions · 1 red QA judgement (History)",
                    "line": "5 open actions · visits 2/6 · coached 70% in 6 weeks · QA 4/5",
                },
                {
                    "name": "Oakfield Primary",
                    "reasons": "Recovery category · target date passed: 1 May 2026, not yet "
                    "Reinforcement",
                    "line": "2 open actions · visits 3/6 · coached 80% in 6 weeks",
                },
                {
                    "name": "St Mary's C of E Primary",
                    "reasons": "coaching 35% in 6 weeks (target 80%)",
                    "line": "Refinement · 1 open action · visits 1/4 · QA 5/5",
                },
            ],
            "more_attention": None,
            "others_heading": "Other schools (3)",
            "others": [
                {
                    "name": "Brontë Academy",
                    "reasons": "",
                    "line": "Excellence · 0 open actions · visits 1/4 · coached 90% in 6 weeks",
                },
                {
                    "name": "Riverside Primary",
                    "reasons": "",
                    "line": "Refinement · 2 open actions · visits 2/4 · coached 75% in 6 weeks",
                },
            ],
            "more_others": "and 1 more schools: Show all schools",
            "attendance": "7 open across the trust: 5 persistent absence, 1 severe absence.",
            "changes": [
                "Riverside Primary is now Refinement",
                "4 actions done, 2 new",
                "31 coaching sessions held",
            ],
        }
    ],
    "dashboard_link": [
        {
            "title": "Dashboard — Waypoint Demo Trust",
            "text": "Charts and tables for the schools you reach. The button works for 15 "
            "minutes and only for you: type dashboard again for a fresh one.",
            "url": "https://waypoint.example.org/dashboard?link=eyJwIjoxLCJ0IjoxLCJlIjoxNzk2MjU3MDExfQ"
            ".fJxwBpDn6SPlQkWv-a2YhLD9dFVCk8Q87v9Dvwtc-XI",
        }
    ],
    "help": [
        {
            "title": "All commands",
            "intro": "Type one of these (add a school's name where it helps), or press its button.",
            "commands": [
                {
                    "key": "actions",
                    "title": "My actions",
                    "summary": "Open actions, overdue first",
                    "example": "my actions",
                },
                {
                    "key": "category",
                    "title": "Category",
                    "summary": "A school's category, what it brings, and the last change",
                    "example": "category oakfield",
                },
                {
                    "key": "qa_status",
                    "title": "QA status",
                    "summary": "Which subjects have submitted this term's QA summary",
                    "example": "qa status",
                },
            ],
        }
    ],
    "home": [
        {
            "title": "What I can do for you, Marcus",
            "intro": "Here is what needs doing now. Press a job, or type what you need.",
            "jobs": [
                {
                    "key": "actions",
                    "title": "Our actions",
                    "status": "3 actions overdue",
                    "attention": True,
                },
                {
                    "key": "category",
                    "title": "Our category",
                    "status": "Oakfield Primary: Recovery",
                    "attention": False,
                },
                {
                    "key": "qa_status",
                    "title": "QA status",
                    "status": "4 of 6 submitted, 12 days left",
                    "attention": True,
                },
                {
                    "key": "coaching_coverage",
                    "title": "Coaching coverage",
                    "status": "2 teachers due a session",
                    "attention": True,
                },
                {
                    "key": "attendance_concerns",
                    "title": "Attendance concerns",
                    "status": "No open concerns",
                    "attention": False,
                },
                {
                    "key": "visits",
                    "title": "Notes of visit",
                    "status": "Notes of visit, newest first",
                    "attention": False,
                },
            ],
        },
        {
            "title": "Hello, Ada!",
            "intro": "Type what you need, or see all commands.",
            "jobs": [],
        },
    ],
    "schools": [
        {
            "verbs": CategoryVerb,
            "title": "Waypoint Demo Trust: 6 schools",
            "intro": "2 schools with overdue actions, listed first.",
            "schools": [
                {
                    "id": 2,
                    "name": OAKFIELD,
                    "line": "Recovery · 3 actions overdue · 2 open attendance concerns",
                },
                {
                    "id": 6,
                    "name": "Kingsbridge Secondary",
                    "line": "Reinforcement · 1 action overdue",
                },
                {
                    "id": 3,
                    "name": "Brontë Academy",
                    "line": "Excellence · no open actions",
                },
                {
                    "id": 4,
                    "name": "Ysgol Gymraeg Llwyncelyn",
                    "line": "No category yet · 2 open actions, none overdue",
                },
            ],
        }
    ],
    "notice": [
        {
            "title": "Marcus Bell",
            "text": "This is what Waypoint knows about you. Your trust admin can change it.",
            "facts": [
                ("Trust", "Waypoint Demo Trust"),
                ("Roles", "Headteacher"),
                ("Schools", OAKFIELD),
            ],
            "buttons": [{"title": "Help", "command": "help"}],
        },
        {
            "title": "Oakfield Primary has no category yet",
            "text": "No category has been recorded for this school.",
            "facts": [],
            "buttons": [],
        },
    ],
    "prep_visit": [
        {
            "verbs": VisitVerb,
            "title": f"Prep pack: {OAKFIELD}",
            "subtitle": "As it stands on 2 December 2026",
            "school_id": 2,
            "sections": [
                {
                    "heading": "Category",
                    "facts": [
                        ("Category", "Recovery, since 10 July 2026"),
                        ("Improvement target", "Improve to Reinforcement within 1 year"),
                        ("Target date", "10 July 2027"),
                    ],
                    "empty": "",
                },
                {
                    "heading": "Actions in hand",
                    "facts": [
                        ("Embed the phonics catch-up programme", "open; last rated amber"),
                        ("Publish the reading spine", "done, awaiting your rating; not rated yet"),
                    ],
                    "empty": "No open actions.",
                },
                {
                    "heading": "QA: Autumn term 2026-27",
                    "facts": [("History", "Amber"), ("Mathematics", "not yet submitted")],
                    "empty": "No subject leads are set up for this school.",
                },
                {
                    "heading": "Coaching",
                    "facts": [
                        ("Teachers coached, 6 weeks", "67% of 12"),
                        ("Sessions held, 6 weeks", "14"),
                        ("Focus strands", "Retrieval practice, Oracy"),
                    ],
                    "empty": "",
                },
                {
                    "heading": "Attendance concerns (counts only)",
                    "facts": [("Open concerns", "3"), ("Monitor", "2"), ("Formalise support", "1")],
                    "empty": "",
                },
                {"heading": "Last note of visit", "facts": [], "empty": "No note of visit yet."},
            ],
        }
    ],
    "note_of_visit": [
        {
            "verbs": VisitVerb,
            "title": "Note of visit",
            "subtitle": "Oakfield Primary · Visit 2, 2026-27",
            "facts": [
                ("School", OAKFIELD),
                ("Visit", "Visit 2 of 2026-27"),
                ("Date", "12 November 2026"),
                ("Adviser", "Nadia Okafor"),
                ("Next visit", "14 January 2027"),
                ("Recorded", "12 November 2026 at 15:42"),
            ],
            "sections": [
                (
                    "Focus",
                    "Pupil facing work; national data release, attendance and exclusions, "
                    "early reading provision",
                ),
                (
                    "Strengths",
                    "Phonics teaching is consistent across KS1; pupils at risk of falling "
                    "behind are identified within a week.",
                ),
                ("Risks", "Persistent absence of disadvantaged pupils in Years 4 to 6 (14%)."),
            ],
            "steps": [
                {
                    "description": "Embed the phonics catch-up programme in Year 2",
                    "detail": "Owner: Marcus Bell · Due 14 January 2027 · Open · RAG amber",
                },
                {
                    "description": "Share the attendance action plan with governors",
                    "detail": "Owner: nobody yet · Due 14 January 2027 · Done",
                },
            ],
            "ratings": [
                {
                    "description": "Audit the reading spine against the new scheme",
                    "rating": "Green: carried out",
                    "colour": "Default",
                },
                {
                    "description": "Attendance plan for pupils eligible for pupil premium",
                    "rating": "Red: not carried out",
                    "colour": "Attention",
                },
            ],
            "school_id": 2,
        },
        {
            "verbs": VisitVerb,
            "title": "Note of visit",
            "subtitle": "Kingsbridge Secondary · Visit 1, 2026-27",
            "facts": [
                ("School", "Kingsbridge Secondary"),
                ("Visit", "Visit 1 of 2026-27"),
                ("Date", "22 September 2026"),
                ("Adviser", "someone no longer in Waypoint"),
                ("Next visit", "Not set"),
                ("Recorded", "22 September 2026 at 16:05"),
            ],
            "sections": [
                ("Focus", "Agreed with the school: behaviour systems"),
                ("Strengths", "None recorded"),
                ("Risks", "None recorded"),
            ],
            "steps": [],
            "ratings": [],
            "school_id": 6,
        },
    ],
    "qa_form": [
        {
            "verbs": QaVerb,
            "title": "QA summary: Autumn term 2026-27",
            "note": "Open until Fri 18 Dec 2026.",
            "resubmissions": ["You submitted on Mon 16 Nov 2026 — this will be version 2."],
            "targets": [
                {"title": f"Mathematics at {OAKFIELD}", "value": "2:Mathematics"},
                {"title": "Science at Brontë Academy", "value": "3:Science"},
            ],
            "values": {
                "target": "2:Mathematics",
                "strengths": "Fluency practice is daily and well paced.",
                "areas_for_development": "",
                "evidence": "deep_dive,book_look",
                "judgement": "amber",
                "actions": "Reasoning CPD for Years 3–6 in spring.",
                "cpd": "",
            },
            "errors": {"areas_for_development": "Write the areas for development."},
            "evidence": _EVIDENCE,
            "judgements": _JUDGEMENTS,
            "max_text": 4000,
            "data": {"verb": QaVerb.save, "form_id": FORM_ID},
        },
        {
            "verbs": QaVerb,
            "title": "QA summary: Autumn term 2026-27",
            "note": "Open until Fri 18 Dec 2026.",
            "resubmissions": [],
            "targets": [{"title": f"Mathematics at {OAKFIELD}", "value": "2:Mathematics"}],
            "values": {},
            "errors": {},
            "evidence": _EVIDENCE,
            "judgements": _JUDGEMENTS,
            "max_text": 4000,
            "data": {
                "verb": QaVerb.save,
                "form_id": FORM_ID,
                "school_id": 2,
                "subject": "Mathematics",
            },
        },
    ],
    "qa_status": [
        {
            "title": f"QA summaries at {OAKFIELD}: Autumn term 2026-27",
            "note": "Open until Fri 18 Dec 2026. 1 of 2 subjects submitted.",
            "sections": [
                {
                    "heading": "Submitted (1)",
                    "items": [
                        {
                            "text": "Mathematics: Zoë Fairbairn on Mon 16 Nov 2026, Amber",
                            "button": {
                                "title": "View",
                                "data": {"verb": QaVerb.show, "summary_id": 3},
                            },
                        }
                    ],
                    "empty": "",
                },
                {
                    "heading": "Not yet submitted (1)",
                    "items": [{"text": "English: Daniel Okoro", "button": None}],
                    "empty": "Every subject has submitted.",
                },
            ],
        },
        # A page of the trust-wide status: one line per school, Previous / Next in place.
        {
            "title": "QA summaries: Autumn term 2026-27",
            "note": "The window for Autumn term 2026-27 is open until Friday 8 January 2027: "
            "38 days left. Across Waypoint Demo Trust: 61 of 132 submitted.",
            "sections": [
                {
                    "heading": "Schools 21–40 of 45 (page 2 of 3)",
                    "items": [
                        {
                            "text": f"{name}: {done} of {expected} submitted",
                            "button": {
                                "title": "Details",
                                "data": {"verb": QaVerb.status, "school_id": school_id},
                            },
                        }
                        for school_id, (name, done, expected) in enumerate(
                            (
                                ("Brontë Academy", 6, 6),
                                ("Castle Hill Primary", 2, 3),
                                ("Holy Trinity C of E Primary", 0, 2),
                                (OAKFIELD, 1, 2),
                            ),
                            start=21,
                        )
                    ],
                    "empty": "",
                }
            ],
            "pages": {"verb": QaVerb.status_page, "previous": 1, "next": 3},
        },
    ],
    "qa_summary": [
        {
            "title": "QA summary submitted",
            "subtitle": "Thank you. This is version 2 for the term; the latest one counts.",
            "facts": [
                ("Subject", "Mathematics"),
                ("School", OAKFIELD),
                ("Term", "Autumn term 2026-27"),
                ("Judgement", "Amber: developing"),
                ("Evidence", "Deep dive, Book look"),
            ],
            "sections": [
                ("Strengths", "Fluency practice is daily and well paced."),
                ("Areas for development", "Reasoning in upper KS2."),
                ("CPD delivered", "None recorded"),
            ],
        }
    ],
    "review_form": [
        {
            "verbs": ReviewVerb,
            "school": "St Mary's C of E Primary",
            "school_id": 3,
            "facts": [
                ("Category", "Recovery, since 9 July 2026; a review every term"),
                ("Last review", "2 April 2026 (Spring term 2025-26): Recovery confirmed"),
            ],
            "outcomes": [
                {"title": "Category confirmed: Recovery", "value": "confirmed"},
                {"title": "New category: Excellence", "value": "to:excellence"},
                {"title": "New category: Refinement", "value": "to:refinement"},
                {"title": "New category: Reinforcement", "value": "to:reinforcement"},
                {"title": "New category: Repair", "value": "to:repair"},
            ],
            "values": {"held_on": "2026-12-09", "outcome": "confirmed", "trustees": "false"},
            "errors": {},
            "form_id": FORM_ID,
        },
        {
            "verbs": ReviewVerb,
            "school": OAKFIELD,
            "school_id": 2,
            "facts": [
                ("Category", "None recorded yet: choose one below"),
                ("Last review", "None recorded"),
            ],
            "outcomes": [
                {"title": "New category: Excellence", "value": "to:excellence"},
                {"title": "New category: Recovery", "value": "to:recovery"},
            ],
            "values": {
                "held_on": "2026-12-09",
                "attendees": "Headteacher, Chair of Governors, Director of Education, "
                "Revd J. Okafor (trustee)",
                "trustees": "true",
                "outcome": "to:recovery",
                "notes": "",
            },
            "errors": {"notes": "Give the reasons for the new category."},
            "form_id": FORM_ID,
        },
    ],
    "review_reminder": [
        {
            "verbs": ReviewVerb,
            "title": "Standards review due: St Mary's C of E Primary",
            "text": "Recovery brings a standards review every term. Autumn term 2026-27 ends "
            "on Friday 18 December 2026 and no review is recorded for it yet.",
            "facts": [
                ("School", "St Mary's C of E Primary"),
                ("Category", "Recovery, since 9 July 2026"),
                ("Last review", "2 April 2026"),
            ],
            "button": "Record the review",
            "school_id": 3,
        },
        {
            "verbs": ReviewVerb,
            "title": f"Standards meeting due: {OAKFIELD}",
            "text": "Summer term 2026-27 holds the annual standards meeting. The term ends on "
            f"Friday 16 July 2027 and none is recorded for {OAKFIELD} this year.",
            "facts": [
                ("School", OAKFIELD),
                ("Category", "Not categorised yet"),
                ("Last review", "None recorded"),
            ],
            "button": "Record the meeting",
            "school_id": 2,
        },
    ],
    "too_large": [
        {
            "size_kb": 212,
            "limit_kb": 80,
            "smaller": [
                {
                    "type": "Action.Execute",
                    "title": "Back to the digest",
                    "verb": DigestVerb.digest,
                    "data": {"verb": DigestVerb.digest},
                    "id": "smaller",
                    "fallback": {
                        "type": "Action.Submit",
                        "title": "Back to the digest",
                        "data": {"verb": DigestVerb.digest},
                    },
                }
            ],
        },
        {
            "size_kb": 95,
            "limit_kb": 80,
            "smaller": [
                {
                    "type": "Action.Execute",
                    "title": "All notes of visit",
                    "verb": VisitVerb.notes,
                    "data": {"verb": VisitVerb.notes, "school_id": 2},
                    "id": "smaller",
                }
            ],
        },
    ],
    "store_down": [
        {
            "data": {
                "verb": CoachingVerb.save,
                "form_id": FORM_ID,
                "coachee": "15",
                "notes": "Good pace; questioning to stretch the top group.",
            }
        }
    ],
    "visits": [
        {
            "verbs": VisitVerb,
            "title": "Notes of visit: Oakfield Primary",
            "programme": "2 of 6 visits this year (2026-27)",
            "planned": "Visit 3 is planned to cover: Pupil facing work; data drop 1 review, "
            "behaviour, reading at KS2",
            "summary": "Page 1 of 2, newest first: 14 notes in all.",
            "rows": [
                {
                    "id": 31,
                    "heading": "Visit 2 · Thu 12 Nov 2026",
                    "detail": "2026-27 · Nadia Okafor",
                    "focus": "Pupil facing work; national data release, attendance and "
                    "exclusions, early reading provision",
                    "outcome": "2 next steps · 3 earlier actions rated",
                },
                {
                    "id": 27,
                    "heading": "Visit 1 · Tue 22 Sep 2026",
                    "detail": "2026-27 · Nadia Okafor",
                    "focus": "Pupil facing work; safeguarding, website, SIP and SEF, "
                    "curriculum leadership; agree the year's three areas of focus",
                    "outcome": "3 next steps",
                },
                {
                    "id": 19,
                    "heading": "Visit 6 · Wed 8 Jul 2026",
                    "detail": "2025-26 · adviser no longer in Waypoint",
                    "focus": "No focus recorded",
                    "outcome": "0 next steps · 1 earlier action rated",
                },
            ],
            "buttons": [
                {
                    "title": "Older notes",
                    "verb": VisitVerb.notes,
                    "data": {"school_id": 2, "page": 2},
                },
                {"title": "New note of visit", "verb": VisitVerb.start, "data": {"school_id": 2}},
            ],
        },
        {
            "verbs": VisitVerb,
            "title": "Notes of visit: Kingsbridge Secondary",
            "programme": "0 of 4 visits this year (2026-27)",
            "planned": None,
            "summary": "No notes of visit yet.",
            "rows": [],
            "buttons": [],
        },
    ],
    "visit_form": [
        {
            "verbs": VisitVerb,
            "school": OAKFIELD,
            "school_id": 2,
            "programme": "3 of 6 visits recorded in 2026-27. The focus is the trust's plan for "
            "visit 4: change it as needed.",
            "number": 4,
            "values": {
                "visited_on": "2026-11-20",
                "number": "4",
                "focus": "Pupil facing work; inclusion strategy: the non-negotiables",
                "owner_id": "12",
            },
            "errors": {},
            "owners": [
                {"title": "Nobody yet", "value": "nobody"},
                {"title": "Marcus Bell", "value": "12"},
                {"title": "Priya Shah", "value": "13"},
            ],
            "earlier": [
                {
                    "input": "rag_12",
                    "description": "Embed the phonics catch-up programme in Year 2",
                    "detail": "Due 6 November 2026 · Last rated amber",
                },
                {
                    "input": "rag_13",
                    "description": "Share the attendance action plan with governors",
                    "detail": "No due date · Not rated yet",
                },
            ],
            "more_earlier": "3 more open actions can be rated at the next visit.",
            "form_id": FORM_ID,
        },
        {
            "verbs": VisitVerb,
            "school": OAKFIELD,
            "school_id": 2,
            "programme": "3 of 6 visits recorded in 2026-27.",
            "number": None,
            "values": {
                "visited_on": "2026-11-20",
                "number": "four",
                "focus": "Early reading; safeguarding update",
                "strengths": "Phonics teaching is consistent across KS1.",
                "risks": "",
                "next_steps": "Embed catch-up in Year 2\nReview the reading spine",
                "owner_id": "12",
                "next_visit_on": "2026-11-01",
                "due_on": "",
                "form_id": FORM_ID,
            },
            "errors": {"next_visit_on": "The next visit must come after this one."},
            "owners": [{"title": "Nobody yet", "value": "nobody"}],
            "earlier": [],
            "more_earlier": "",
            "form_id": FORM_ID,
        },
    ],
}

TYPED: dict[str, tuple[Path, ...]] = {
    "actions": (
        ("rows", "*", "description"),
        ("rows", "*", "detail"),
        ("rows", "*", "progress"),
        ("title",),
        ("note",),
    ),
    "attendance_close_form": (("values", "*"), ("title",)),
    "attendance_concern": (
        ("concern", "facts", "*", 1),
        ("concern", "done_so_far"),
        ("entries", "*", "text"),
        ("entries", "*", "heading"),
    ),
    "attendance_counts": (("title",), ("sections", "*", 1, "*", 0)),
    "attendance_form": (("values", "*"), ("schools", "*", "title")),
    "attendance_list": (("rows", "*", "heading"), ("rows", "*", "detail")),
    "attendance_notice": (("school",),),
    "attendance_update_form": (("values", "*"), ("title",)),
    "categorise_form": (("values", "*"), ("schools", "*", "title"), ("categories", "*", "title")),
    "category": (
        ("school",),
        ("category",),
        ("facts", "*", 1),
        ("descriptor",),
        ("lists", "*", 1),
        ("decision", "*"),
    ),
    "category_history": (
        ("title",),
        ("decisions", "*", "heading"),
        ("decisions", "*", "attendees"),
        ("decisions", "*", "rationale"),
    ),
    "choose_school": (("choices", "*", "title"), ("text",)),
    "coaching_coverage": (("title",), ("rows", "*", "school"), ("strands", "*", 0)),
    "coaching_form": (("values", "*"), ("coachees", "*", "title"), ("strands", "*", "title")),
    "coaching_mine": (
        ("current", "action_step"),
        ("current", "coach"),
        ("coached", "*", "coachee"),
        ("received", "*", "strand"),
        ("due", "*", "name"),
    ),
    "coaching_saved": (("session", "*"),),
    "coaching_step": (("session", "action_step"), ("session", "coach"), ("session", "strand")),
    "digest_page": (
        ("schools", "*", "name"),
        ("schools", "*", "reasons"),
        ("schools", "*", "line"),
    ),
    "digest_report": (("counts", "*", 1),),
    "digest_school": (("title",), ("facts", "*", 1)),
    "digest_trust": (
        ("attention", "*", "name"),
        ("attention", "*", "reasons"),
        ("others", "*", "name"),
        ("changes", "*"),
        ("chart", "bars", "*", "name"),
    ),
    # The trust's name, as an admin imported it.
    "dashboard_link": (("title",),),
    "help": (("title",), ("commands", "*", "summary")),
    "home": (("title",), ("jobs", "*", "status")),
    "schools": (("title",), ("schools", "*", "name"), ("schools", "*", "line")),
    "notice": (("title",), ("facts", "*", 1)),
    "prep_visit": (
        ("title",),
        ("sections", "*", "facts", "*", 0),
        ("sections", "*", "facts", "*", 1),
    ),
    "note_of_visit": (
        ("subtitle",),
        ("facts", "*", 1),
        ("sections", "*", 1),
        ("steps", "*", "description"),
        ("steps", "*", "detail"),
        ("ratings", "*", "description"),
    ),
    "qa_form": (("values", "*"), ("targets", "*", "title"), ("resubmissions", "*")),
    "qa_status": (("sections", "*", "items", "*", "text"), ("title",)),
    "qa_summary": (("facts", "*", 1), ("sections", "*", 1)),
    "review_form": (("values", "*"), ("school",), ("facts", "*", 1), ("outcomes", "*", "title")),
    "review_reminder": (("title",), ("text",), ("facts", "*", 1)),
    "store_down": (("data", "*"),),
    # The smaller view's button comes from the card replaced, as it was drawn there.
    "too_large": (("smaller", "*", "title"),),
    "visits": (
        ("title",),
        ("planned",),
        ("rows", "*", "detail"),
        ("rows", "*", "focus"),
    ),
    "visit_form": (
        ("values", "*"),
        ("school",),
        ("owners", "*", "title"),
        ("earlier", "*", "description"),
    ),
}


def substitute(values: dict[str, Any], path: Path, text: str) -> dict[str, Any]:
    """A deep copy of `values` with `text` at every place `path` names."""
    result = copy.deepcopy(values)
    _put(result, path, text)
    return result


def with_text(values: dict[str, Any], paths: tuple[Path, ...], text: str) -> dict[str, Any]:
    result = values
    for path in paths:
        result = substitute(result, path, text)
    return result


def _put(node: Any, path: Path, text: str) -> Any:
    """`node` with `text` placed along `path` (tuples are rebuilt, the rest changed in place)."""
    if not path:
        return text
    key, rest = path[0], path[1:]
    if isinstance(node, dict):
        keys = list(node) if key == "*" else [key] if key in node else []
        for name in keys:
            node[name] = _put(node[name], rest, text)
        return node
    if isinstance(node, list | tuple):
        indexes = range(len(node)) if key == "*" else [key] if isinstance(key, int) else []
        items = list(node)
        for index in indexes:
            if index < len(items):
                items[index] = _put(items[index], rest, text)
        return tuple(items) if isinstance(node, tuple) else _replace_list(node, items)
    return node


def _replace_list(node: list[Any], items: list[Any]) -> list[Any]:
    node[:] = items
    return node
