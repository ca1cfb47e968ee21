"""The layering the import contracts cannot see: dialogs ask storage functions for
everything, and never query through a session themselves.

`make lint` runs the import contracts ([tool.importlinter] in pyproject.toml):
storage/ and cards/ import nothing of bot/ or dialogs/, botbuilder stays in bot/,
and dialogs/ never imports sqlalchemy. A dialog holds a session only to pass it to
storage functions (one transaction per turn); this test sees a dialog that calls
the session's query methods itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERYING = frozenset(
    {"execute", "scalar", "scalars", "get", "add", "add_all", "delete", "merge", "flush", "refresh"}
)


def session_queries(source: str) -> list[int]:
    """Lines where `session.<query method>(…)` is called."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in QUERYING
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "session"
    ]


def test_no_dialog_queries_through_a_session() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "dialogs").rglob("*.py"))
        for line in session_queries(path.read_text())
    ]
    assert found == []


def test_the_check_sees_a_query_in_a_dialog() -> None:
    source = "async def f(session):\n    return await session.get(School, 1)\n"
    assert session_queries(source) == [2]
    assert session_queries("async def f(session):\n    await record(session)\n") == []


# One module, one job: past this a module is doing several (migrations and tests,
# which are long lists of steps and cases, aside).
MAX_MODULE_LINES = 400
SOURCE = ("bot", "dialogs", "storage", "cards", "manifest", "bench")


def test_no_source_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in SOURCE
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
