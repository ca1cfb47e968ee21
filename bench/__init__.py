"""Waypoint's benchmarks: every figure a ratio against a baseline run beside it.

`make bench` (or `python -m bench`) runs them all and writes bench/results/latest.json;
tests/test_bench_smoke.py runs each one's code path at a tiny size under `make test`.
"""
