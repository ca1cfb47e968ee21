"""Logging as text or JSON lines. Log records carry ids and counts, never typed text.

In JSON mode (production) every line written during a turn carries the turn's
correlation id (`turn`: a short hash of the activity's id, never of who sent it), and
an error is logged as its types and stack frames only: an exception's message can
quote what someone typed (a validation error quotes its input), so it is left out.

Whatever does reach a log line is made safe there: a value that came from outside
(an activity's type, an error's text) cannot start a line of its own, so a forged
"\\n2026-01-01 INFO ..." never reads as a record Waypoint wrote, and a huge value
cannot flood the log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType

from bot.settings import LogFormat

# Longest message kept; a traceback gets more room, its frames being many lines.
MESSAGE_LIMIT = 2000
TRACEBACK_LIMIT = 20_000
# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The correlation id of the turn being handled (bot/metrics.py sets it for each turn).
TURN_ID: ContextVar[str | None] = ContextVar("waypoint_turn_id", default=None)


def correlation_id(activity_id: str | None) -> str:
    """A short id for one activity's turn: the same for each redelivery of it, and
    telling nothing of who sent it. Without an id, one of its own."""
    if not activity_id:
        return uuid.uuid4().hex[:12]
    return hashlib.sha256(activity_id.encode("utf-8", "replace")).hexdigest()[:12]


def sanitised(value: str, *, limit: int = MESSAGE_LIMIT) -> str:
    """`value` on one line: control characters shown escaped, cut at `limit`."""
    flat = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)
    if len(flat) > limit:
        return f"{flat[:limit]}… ({len(flat) - limit} more characters)"
    return flat


def _traceback_lines(text: str) -> list[str]:
    """A traceback's own lines, each made safe: a forged newline inside an error's
    text becomes an escaped one, the traceback's real line breaks stay."""
    return [sanitised(line, limit=TRACEBACK_LIMIT) for line in text.splitlines()]


class TextFormatter(logging.Formatter):
    """`at level logger: message`, one line each; a traceback's lines indented under it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return self._style.format(_safe_copy(record))

    def formatException(self, ei: ExcInfo) -> str:
        lines = _traceback_lines(super().formatException(ei))
        # Indented, so that no line of a traceback can be taken for a record.
        return "\n".join(f"    {line}" for line in lines)[:TRACEBACK_LIMIT]

    def formatStack(self, stack_info: str) -> str:
        return "\n".join(f"    {line}" for line in _traceback_lines(stack_info))


def _safe_copy(record: logging.LogRecord) -> logging.LogRecord:
    copy = logging.makeLogRecord(record.__dict__)
    copy.message = sanitised(record.getMessage())
    copy.name = sanitised(record.name, limit=200)
    return copy


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": sanitised(record.name, limit=200),
            "message": sanitised(record.getMessage()),
        }
        turn_id = TURN_ID.get()
        if turn_id is not None:
            entry["turn"] = turn_id
        if record.exc_info and record.exc_info[1] is not None:
            error = "\n".join(_traceback_lines(error_outline(record.exc_info[1])))
            entry["error"] = error[:TRACEBACK_LIMIT]
        # ensure_ascii: JSON escapes every control character and line separator, so a
        # record is one line whatever it holds.
        return json.dumps(entry, ensure_ascii=True)


def error_outline(error: BaseException) -> str:
    """A traceback without the exceptions' messages: each exception's type (and those
    it was raised from or during) with its frames and their source lines."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for exception in reversed(chain):
        if parts:
            parts.append("The above exception led to:")
        parts.append("Traceback (most recent call last):")
        parts.extend(
            line.rstrip("\n")
            for frame in traceback.format_list(traceback.extract_tb(exception.__traceback__))
            for line in frame.splitlines()
        )
        kind = type(exception)
        parts.append(f"{kind.__module__}.{kind.__qualname__} (message not logged)")
    return "\n".join(parts)


def configure_logging(log_format: LogFormat, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format is LogFormat.json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp's access log would print every request line; ours is enough.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
