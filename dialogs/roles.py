"""What roles are called in Waypoint's answers: one holder ("Headteacher") and many
("heads", in "it is for heads, trust leads")."""

from __future__ import annotations

ROLE_NAMES = {
    "teacher": "Teacher",
    "coach": "Coach",
    "subject_lead": "Subject lead",
    "head": "Headteacher",
    "attendance_lead": "Attendance lead",
    "sia": "School improvement adviser",
    "trust_lead": "Trust lead",
    "admin": "Trust admin",
    "governor": "Governor",
}

ROLE_LABELS = {
    "teacher": "teachers",
    "coach": "coaches",
    "subject_lead": "subject leads",
    "head": "heads",
    "attendance_lead": "attendance leads",
    "sia": "school improvement advisers",
    "trust_lead": "trust leads",
    "admin": "trust admins",
    "governor": "governors",
}
