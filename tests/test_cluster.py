"""The cluster run (tests/cluster.py, `make cluster`): three replicas behind HAProxy on
PostgreSQL, one killed with SIGKILL and one stopped with SIGTERM under load, nothing
lost and nothing twice. About two minutes, so marked slow: `make test` runs it under
CI, where HAProxy and PostgreSQL must be here; elsewhere without them it is skipped.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bench.cluster import HaproxyMissing, haproxy_path
from bench.stores import postgres_problem
from tests.cluster import run_cluster


def _missing() -> str | None:
    try:
        haproxy_path()
    except HaproxyMissing as missing:
        return str(missing)
    return asyncio.run(postgres_problem())


@pytest.mark.slow
def test_a_replica_killed_under_load_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs HAProxy and PostgreSQL for the cluster run: {missing}")
        pytest.skip(missing)
    report = run_cluster(tmp_path)
    for line in report.lines:
        print(f"cluster: {line}")
    for problem in report.problems:
        print(f"cluster: PROBLEM: {problem}")
    assert report.problems == []
