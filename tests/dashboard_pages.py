"""Reading the dashboard page as a person (or a screen reader) would: its tables,
row by row, and the sections it shows."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.sections: list[str] = []
        self.inline_scripts: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "table":
            self._table = named.get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "section" and named.get("id"):
            self.sections.append(str(named["id"]))
        elif tag == "script":
            self._script = named

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        script = self._script
        if (
            script is not None
            and "src" not in script
            and script.get("type") != "application/json"
            and data.strip()
        ):
            self.inline_scripts.append(data)


def read_page(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def rows_by_first_cell(table: list[list[str]]) -> dict[str, list[str]]:
    """A table's body rows keyed by their first cell (a school, a category, a week)."""
    return {row[0]: row[1:] for row in table[1:]}


def path_of(url: str) -> str:
    """A link's path and query, to follow it with the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
