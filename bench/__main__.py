"""python -m bench [--smoke] [--only turns,digests,delivery,footprint,dashboard] [--out PATH]"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.results import RESULTS, Results, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check the code paths")
    parser.add_argument("--only", default="", help="comma-separated sections to run")
    parser.add_argument("--out", type=Path, default=None, help="where to write the JSON results")
    args = parser.parse_args(argv)
    wanted = {s for s in args.only.split(",") if s}
    results = Results(smoke=args.smoke)
    out = args.out or (RESULTS / ("smoke.json" if args.smoke else "latest.json"))
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="waypoint-bench-") as temp:
        work = Path(temp)
        for name, run in sections(args.smoke):
            if wanted and name not in wanted:
                continue
            started, load_before = time.perf_counter(), os.getloadavg()[0]
            print(f"bench: {name} …", file=sys.stderr, flush=True)
            try:
                run(results, work / name)
            except Exception:
                # The other sections still run, and what was measured is kept.
                traceback.print_exc()
                failed.append(name)
                results.notes.append(f"{name} failed: see the run's output")
            print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            # How busy the machine was: what else ran moves every throughput figure.
            results.notes.append(
                f"{name}: load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
                f"on {os.cpu_count()} cores"
            )
            results.write(out)
    print(table(results))
    for note in results.notes:
        print(f"- {note}")
    print(f"\nresults: {out}")
    return 1 if failed else 0


Section = tuple[str, Callable[[Results, Path], None]]


def sections(smoke: bool) -> list[Section]:
    """Each section's name and how to run it, at full or smoke size."""
    from bench import dashboard, delivery, digests, footprint, turns

    def size(module: Any) -> Any:
        return module.SMOKE if smoke else module.FULL

    return [
        ("turns", lambda r, w: turns.run_turns(r, w, size(turns))),
        ("digests", lambda r, w: digests.run_digests(r, w, size(digests))),
        ("delivery", lambda r, w: delivery.run_delivery(r, w, size(delivery))),
        ("footprint", lambda r, w: footprint.run_footprint(r, w, size(footprint))),
        ("dashboard", lambda r, w: dashboard.run_dashboard(r, w, size(dashboard))),
    ]


if __name__ == "__main__":
    sys.exit(main())
