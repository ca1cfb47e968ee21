"""Logging as text or JSON lines. Log records carry ids and counts, never typed text.

Whatever does reach a log line is made safe there: a value that came from outside
(an activity's type, an error's text) cannot start a line of its own, so a forged
"\\n2026-01-01 INFO ..." never reads as a record Waypoint wrote, and a huge value
cannot flood the log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from types import TracebackType

from bot.settings import LogFormat

# Longest message kept; a traceback gets more room, its frames being many lines.
MESSAGE_LIMIT = 2000
TRACEBACK_LIMIT = 20_000
# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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
        if record.exc_info:
            error = "\n".join(_traceback_lines(self.formatException(record.exc_info)))
            entry["error"] = error[:TRACEBACK_LIMIT]
        # ensure_ascii: JSON escapes every control character and line separator, so a
        # record is one line whatever it holds.
        return json.dumps(entry, ensure_ascii=True)


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
