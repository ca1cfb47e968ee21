"""`make screenshots`: the main cards in Teams' light and dark themes, at desktop width
(`<card>-<theme>.png`) and at Teams' narrowest, about 320 px (`<card>-narrow-<theme>.png`).

Each card is rendered from its first sample in tests/card_samples.py by the official
renderer with Teams' host config and container CSS, in Debian's Chromium.

    python -m tests.card_screenshots docs/cards
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cards.render import render_card
from tests.card_samples import SAMPLES
from tests.cards_check import RENDERER, renderer_view
from tests.official import TOOLS, missing_browser_tools

# What a person meets first, in the order the README shows them.
MAIN_CARDS = (
    "home",
    "help",
    "schools",
    "coaching_form",
    "coaching_saved",
    "actions",
    "category",
    "visits",
    "note_of_visit",
    "qa_status",
    "coaching_coverage",
    "digest_trust",
    "digest_page",
    "digest_report",
    "attendance_concern",
)


def write_screenshots(out_dir: Path) -> None:
    cards = [
        {"id": name, "card": renderer_view(render_card(name, **SAMPLES[name][0]))}
        for name in MAIN_CARDS
    ]
    with tempfile.TemporaryDirectory(prefix="waypoint-shots-") as directory:
        path = Path(directory) / "cards.json"
        path.write_text(json.dumps(cards), encoding="utf-8")
        subprocess.run(
            ["node", str(RENDERER), "screenshots", str(path), str(out_dir.resolve())],
            cwd=TOOLS,
            check=True,
            timeout=300,
        )


def main(argv: list[str]) -> int:
    problem = missing_browser_tools()
    if problem:
        print(f"screenshots: {problem}", file=sys.stderr)
        return 1
    write_screenshots(Path(argv[0] if argv else "docs/cards"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
