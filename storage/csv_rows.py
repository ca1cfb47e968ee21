"""Reading a CSV file that someone saved from a spreadsheet, row by checked row.

Used by every CSV a trust hands Waypoint: schools and people (storage.imports) and
term dates (storage.term_dates). Each of those says what its columns are and what a
row may say (a pydantic model); this module reads the file, checks the header,
turns each line into a model and collects every problem on the way, so that a file
is either taken whole or rejected with all its problems at once:
`ImportRejected` lists them as "line N: reason", N being the physical line in the
file (the header is line 1).

Spreadsheets are forgiven their habits: a UTF-8 byte order mark, CRLF line endings,
spaces around values and column names, column names in any case and order, blank
lines and empty cells past the last column. Everything else about the layout is
strict: a missing, unknown, unnamed or repeated column rejects the file, and so does
a file without even a header, since it is almost certainly the wrong file. A header
and no rows is a valid, empty file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

RowT = TypeVar("RowT", bound=BaseModel)


@dataclass(frozen=True)
class RowError:
    """A problem with the file, at its physical line (the header is line 1)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(Exception):
    """The file was not imported, because of these problems; nothing was written."""

    def __init__(self, errors: Iterable[RowError]) -> None:
        self.errors: list[RowError] = sorted(errors, key=lambda error: error.line)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class CsvLine:
    """A data line of the file: its physical line number, and its cells by column name."""

    number: int
    cells: dict[str, str]


def read_csv_file(path: Path) -> str:
    """The text of a CSV file saved as UTF-8, with or without a byte order mark.

    Raises UnicodeDecodeError for anything else, such as Excel's plain "CSV", which is
    Windows-1252: the fix is to save the file as "CSV UTF-8 (comma delimited)".
    """
    return path.read_text(encoding="utf-8-sig")


def quoted(values: Iterable[str]) -> str:
    """Values as a problem names them: each quoted, separated by commas."""
    return ", ".join(repr(value) for value in values)


def csv_lines(csv_text: str, columns: Sequence[str]) -> tuple[list[CsvLine], list[RowError]]:
    """The data lines of the file by column name, and the lines that do not fit the header.

    Header problems reject the file at once (`ImportRejected`): without a trustworthy
    header no row can be read.
    """
    # A Mac and a Windows spreadsheet can spell "Zoë" with different code points;
    # one form keeps names comparable and a re-import a no-op.
    text = unicodedata.normalize("NFC", csv_text.removeprefix("\ufeff"))
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    lines: list[CsvLine] = []
    errors: list[RowError] = []
    ended = 0
    try:
        for cells in reader:
            # A quoted value may span lines: a row starts just after the previous one ended.
            number, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip().casefold() for cell in cells]
                problems = _header_problems(header, columns)
                if problems:
                    raise ImportRejected(RowError(number, problem) for problem in problems)
                continue
            # Spreadsheets often pad rows with empty cells past the last column.
            if len(cells) < len(header) or any(cell.strip() for cell in cells[len(header) :]):
                errors.append(
                    RowError(
                        number, f"has {len(cells)} values but the header has {len(header)} columns"
                    )
                )
                continue
            lines.append(CsvLine(number, dict(zip(header, cells[: len(header)], strict=True))))
    except csv.Error as error:
        raise ImportRejected([RowError(ended + 1, f"cannot be read as CSV: {error}")]) from error
    if header is None:
        raise ImportRejected(
            [RowError(1, f"the file is empty: it needs the header line {','.join(columns)}")]
        )
    return lines, errors


def _header_problems(header: list[str], columns: Sequence[str]) -> list[str]:
    expected = ",".join(columns)
    if len(header) == 1 and any(separator in header[0] for separator in (";", "\t")):
        return [f"columns must be separated by commas: the header should be {expected}"]
    problems = [f"column {place} has no name" for place, name in enumerate(header, 1) if not name]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        problems.append(f"column {quoted(repeated)} appears more than once")
    unknown = [name for name in dict.fromkeys(header) if name and name not in columns]
    if unknown:
        problems.append(f"unknown column {quoted(unknown)} (the header should be {expected})")
    missing = [name for name in columns if name not in header]
    if missing:
        problems.append(f"missing column {quoted(missing)} (the header should be {expected})")
    return problems


def parse_rows(
    lines: list[CsvLine], model: type[RowT]
) -> tuple[list[tuple[int, RowT]], list[RowError]]:
    """Each line as a `model`, beside its line number, and the problems of the lines
    that are not one."""
    rows: list[tuple[int, RowT]] = []
    errors: list[RowError] = []
    for line in lines:
        try:
            rows.append((line.number, model.model_validate(line.cells)))
        except ValidationError as error:
            errors.extend(RowError(line.number, reason) for reason in _reasons(error))
    return rows, errors


def _reasons(error: ValidationError) -> list[str]:
    """Pydantic's findings in the words of someone fixing a spreadsheet."""
    reasons = []
    for detail in error.errors():
        location = detail["loc"]
        column = str(location[0]) if location else None
        # An item of a `;` list is named by its value, its position means nothing to anyone.
        named = f"{column} {detail['input']!r}" if len(location) > 1 else column
        context = detail.get("ctx", {})
        kind = detail["type"]
        if kind in ("missing", "string_too_short"):
            reasons.append(f"{column} is required")
        elif kind == "string_too_long":
            reasons.append(f"{named} is longer than {context['max_length']} characters")
        elif kind == "value_error":
            reason = str(context["error"])
            reasons.append(f"{column}: {reason}" if column else reason)
        else:
            reasons.append(f"{named}: {detail['msg']}" if column else detail["msg"])
    return reasons


def repeats(
    rows: list[tuple[int, RowT]], column: str, value_of: Callable[[RowT], str]
) -> list[RowError]:
    """A problem for each row whose `value_of` an earlier row already has."""
    first_line: dict[str, int] = {}
    errors = []
    for line, row in rows:
        value = value_of(row)
        if value in first_line:
            errors.append(
                RowError(line, f"{column}: {value!r} is already on line {first_line[value]}")
            )
        else:
            first_line[value] = line
    return errors
