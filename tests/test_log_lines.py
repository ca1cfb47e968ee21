"""Log lines Waypoint writes cannot be forged or flooded by a value from outside."""

from __future__ import annotations

import json
import logging
import sys

from bot.logs import TURN_ID, JsonFormatter, TextFormatter, correlation_id


def test_a_forged_line_break_in_a_logged_value_stays_on_its_record_line() -> None:
    """An activity's type (anyone's to set) is logged with every turn: a newline in it
    must not start a line that reads as a record of Waypoint's own."""
    forged = "message\n2026-12-09 10:00:00,000 ERROR waypoint.audit: admin exported\u2028x\r"
    record = logging.LogRecord(
        "waypoint.turns", logging.INFO, __file__, 1, "turn type=%s", (forged,), None
    )
    try:
        raise ValueError(f"bad value {forged}")
    except ValueError:
        failed = logging.LogRecord(
            "waypoint.turns", logging.ERROR, __file__, 2, "failed: %s", (forged,), sys.exc_info()
        )
    for formatter in (TextFormatter(), JsonFormatter()):
        line = formatter.format(record)
        assert "\n" not in line and "\r" not in line and "\u2028" not in line, line
        assert "admin exported" in line  # shown, escaped, on the record's own line
        # With a traceback: every line after the first is the traceback's, indented
        # (text) or inside the one JSON line.
        first, *rest = formatter.format(failed).split("\n")
        assert "ERROR waypoint.audit" not in "\n".join(
            line for line in rest if not line.startswith("    ")
        )
        assert all(line.startswith("    ") for line in rest), rest
        if isinstance(formatter, JsonFormatter):
            assert rest == [] and json.loads(first)["level"] == "error"
    long = logging.LogRecord("w", logging.INFO, __file__, 1, "%s", ("x" * 100_000,), None)
    assert len(TextFormatter().format(long)) < 3000
    assert len(JsonFormatter().format(long)) < 3000


def test_a_json_line_carries_the_turn_id_and_an_error_without_its_message() -> None:
    """What someone typed can be quoted by an error's message (a validation error
    quotes its input): in JSON (production) an error is its types and frames only."""
    typed = "Pupil PQ7733 said something private"
    try:
        try:
            int(typed)
        except ValueError as inner:
            raise RuntimeError(f"could not read {typed!r}") from inner
    except RuntimeError:
        failed = logging.LogRecord(
            "waypoint.turn", logging.ERROR, __file__, 3, "turn failed: %s", ("X",), sys.exc_info()
        )
    token = TURN_ID.set(correlation_id("1700000000123456"))
    try:
        entry = json.loads(JsonFormatter().format(failed))
    finally:
        TURN_ID.reset(token)
    assert entry["turn"] == correlation_id("1700000000123456") != "1700000000123456"
    assert len(entry["turn"]) == 12
    assert "PQ7733" not in json.dumps(entry)
    error = entry["error"]
    # Both exceptions of the chain, by type, with where they were raised.
    assert "builtins.ValueError (message not logged)" in error
    assert "builtins.RuntimeError (message not logged)" in error
    assert "test_a_json_line_carries_the_turn_id" in error and "int(typed)" in error
    # Outside a turn, no id.
    assert "turn" not in json.loads(JsonFormatter().format(failed))
    # Text mode (development) keeps the message, on its own indented lines.
    assert "PQ7733" in TextFormatter().format(failed)
