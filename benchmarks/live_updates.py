"""Live updates: re-runs after one-param edits in a process that has imported torch & co.

The editor's run process imports torch, OpenCV and PyAV while warming up. Those objects live as
long as the process, and each full pass of Python's garbage collector walks all of them, so every
few dozen edits one re-run stalls. After its warm-up the run process freezes what it imported
(``gc.freeze()``). This runs 300 edits of a 1,000-node chain twice, each time in a fresh process
that imported the same libraries: once as-is and once frozen. It prints the median, p99 and
worst re-run.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EDITS = 300


def measure(frozen: bool) -> dict[str, float]:
    """Re-run times in this process (call it in a fresh one)."""
    sys.path.insert(0, str(ROOT))
    import av  # noqa: F401  (what the run process holds after its warm-up)
    import cv2  # noqa: F401
    import torch  # noqa: F401

    from benchmarks.scheduler import chain_graph, registry
    from kinograph.host import RunOptions, Session

    if frozen:  # what the run process does after warming up
        gc.collect()
        gc.freeze()
    reg = registry()
    graph, session = chain_graph(reg, 1000), Session(reg)
    session.run(graph, RunOptions(device="cpu"))
    times = []
    for i in range(EDITS):
        graph.set_param(f"n{990 - i % 500}", "value", float(i))  # 10 to 509 nodes downstream
        started = time.perf_counter()
        result = session.run(graph, RunOptions(device="cpu"))
        times.append((time.perf_counter() - started) * 1000)
        assert result.ok, result.failures
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[int(len(times) * 0.99)], 1),
        "worst_ms": round(times[-1], 1),
        "full_collections": gc.get_stats()[2]["collections"],
    }


def run() -> dict[str, Any]:
    results: dict[str, Any] = {"edits": EDITS}
    for variant in ("as_imported", "frozen"):
        done = subprocess.run(
            [sys.executable, __file__, variant], capture_output=True, text=True, check=True, cwd=ROOT
        )
        for key, value in json.loads(done.stdout.strip().splitlines()[-1]).items():
            results[f"{variant}_{key}"] = value
    results["worst_as_imported_vs_frozen"] = round(results["as_imported_worst_ms"] / results["frozen_worst_ms"], 1)
    return results


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(measure(frozen=sys.argv[1] == "frozen")))
        return
    for key, value in run().items():
        print(f"{key:<32} {value}")


if __name__ == "__main__":
    main()
