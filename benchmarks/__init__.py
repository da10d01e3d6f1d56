"""Benchmarks: each module has ``run() -> dict`` and prints ratios measured in one run."""
