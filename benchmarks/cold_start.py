"""Cold start: wall time of `kinograph nodes` and `kinograph --help` in fresh processes (target < 1 s)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any


def wall(args: list[str], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kinograph", *args], capture_output=True, check=True,
                       env={**os.environ})
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> dict[str, Any]:
    baseline = wall(["--version"])
    python_only = statistics.median(
        [_time([sys.executable, "-c", "pass"]) for _ in range(5)]
    )
    return {
        "python_startup_s": round(python_only, 3),
        "kinograph_version_s": round(baseline, 3),
        "kinograph_help_s": round(wall(["--help"]), 3),
        "kinograph_nodes_s": round(wall(["nodes"]), 3),
        "kinograph_nodes_json_s": round(wall(["nodes", "--json"]), 3),
        "target_s": 1.0,
    }


def _time(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<28} {value}")
