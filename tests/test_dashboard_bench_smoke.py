"""The dashboard benchmark (bench/dashboard.py) at a tiny size, so its code cannot rot.
No speed is asserted (`make bench` measures it): only that it read every school of the
synthetic trust and reported its figures, as tests/test_bench_smoke.py does for the
other sections."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench import dashboard
from bench.results import Results
from bench.stores import postgres_problem


def test_the_dashboard_benchmark_reads_the_synthetic_trust_at_tiny_size(tmp_path: Path) -> None:
    results = Results(smoke=True)
    dashboard.run_dashboard(results, tmp_path, dashboard.SMOKE)
    stores = ["sqlite"] + ([] if asyncio.run(postgres_problem()) else ["postgresql"])
    for store in stores:
        read = next(
            f for f in results.section("dashboard") if f.name.endswith(store) and f.unit == "s"
        )
        assert read.detail["schools_shown"] == dashboard.SMOKE.schools[-1]
        counted = next(
            f for f in results.section("dashboard") if f.unit == "statements" and store in f.name
        )
        assert counted.value and counted.value == counted.baseline
