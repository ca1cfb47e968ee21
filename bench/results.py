"""Figures, each with its baseline and ratio; the table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One measured figure. `ratio` is value / baseline, both from the same run."""

    section: str
    name: str
    value: float | None
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    target: str | None = None
    met: bool | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}


@dataclass
class Results:
    smoke: bool = False
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def section(self, name: str) -> list[Figure]:
        return [f for f in self.figures if f.section == name]

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "smoke": self.smoke,
            "machine": machine(),
            "figures": [f.as_dict() for f in self.figures],
            "notes": self.notes,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n")


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if abs(value) >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def _ratio(figure: Figure) -> str:
    ratio = figure.ratio
    if ratio is None:
        return "—"
    return f"{ratio:.3f}" if ratio < 10 else f"{ratio:.1f}"


def _met(figure: Figure) -> str:
    return {True: "met", False: "MISSED", None: ""}[figure.met]


def table(results: Results) -> str:
    """The results as a Markdown table (the README keeps the last one)."""
    rows = [
        "| figure | value | baseline | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    for f in results.figures:
        baseline = f"{f.baseline_name}: {_number(f.baseline, f.unit)}" if f.baseline_name else "—"
        name = f.name + (f" ({f.note})" if f.note else "")
        rows.append(
            f"| {name} | {_number(f.value, f.unit)} | {baseline} | {_ratio(f)} "
            f"| {f.target or ''} | {_met(f)} |"
        )
    return "\n".join(rows)


def machine() -> dict[str, Any]:
    """nproc, CPU model and memory of the machine the figures came from."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    except OSError:
        wrk = ""
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk.split("Copyright")[0].strip(),
    }
