"""Attendance concerns: raise, follow through the support-first stages, close, anonymise.

Pupil data (the reference, the figures, the free text) is for the school's
attendance leads and head, and for trust-wide attendance leads (`may_follow`): each
role counts at its own school only.
Everyone else gets `attendance_counts`, which never reads a pupil reference or a
line of text. Every change made here is written to the audit trail by id, never
by pupil reference.

`rules` (the DfE's thresholds and the labels), `policy` (who), `concerns`
(raising and following through), `queries` (reading), `counts`, `retention`.
"""

from __future__ import annotations

OPEN = "open"
CLOSED = "closed"
ANONYMISED = "anonymised"
SUBJECT = "attendance_concern"
