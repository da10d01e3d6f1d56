"""Cache speed-up: a cold run, then re-runs after changing only the writer's crf, in one process.

Only the writer should run again (everything upstream from the value cache, the stream from
the disk stream cache). Target: a re-run takes at most 1.2x the writer's own time in the cold
run, with every check on: before each re-run the cache forgets which files already passed, so
each re-run checks and hashes the whole entry, as a fresh ``kinograph run --cache-streams`` does.
The full check of the entry is also timed on its own.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RERUNS = 3


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["KINOGRAPH_HOME"] = folder
        from kinograph.core.cache_checks import forget_checked
        from kinograph.host import Graph, RunOptions, Session

        graph = Graph.load(Path(__file__).resolve().parent.parent / "graphs" / "image_to_video.json")
        graph.set_param("animate", "width", 640)
        graph.set_param("animate", "height", 360)
        graph.set_param("write", "path", str(Path(folder) / "out.mp4"))
        session = Session()
        options = RunOptions(device="cpu", stream_cache="outputs")
        started = time.perf_counter()
        cold = session.run(graph, options)
        cold_total = time.perf_counter() - started
        assert cold.ok, cold.failures
        reruns = []
        crf = graph.nodes["write"].params["crf"]
        for step in range(RERUNS):
            graph.set_param("write", "crf", crf + 1 + step)
            forget_checked()
            started = time.perf_counter()
            warm = session.run(graph, options)
            reruns.append(time.perf_counter() - started)
            assert warm.ok, warm.failures
            assert not warm.warnings, warm.warnings
        rerun = statistics.median(reruns)
        key = warm.keys["interpolate"] + "-frames"
        forget_checked()
        started = time.perf_counter()
        stream = session.streams.replay(key)
        check = time.perf_counter() - started
        assert stream is not None
        cached_bytes = session.streams.used()
        writer_cold = cold.seconds["write"]
        return {
            "cold_run_s": round(cold_total, 3),
            "rerun_s_median_of_3": round(rerun, 3),
            "writer_own_s_in_cold_run": round(writer_cold, 3),
            "rerun_vs_writer_ratio": round(rerun / writer_cold, 3),
            "rerun_states": ",".join(f"{k}={v}" for k, v in warm.states.items()),
            "speedup_vs_cold": round(cold_total / rerun, 2),
            "cached_stream_mb": round(cached_bytes / 1024**2, 1),
            "full_check_of_entry_s": round(check, 3),
            "full_check_mb_per_s": round(cached_bytes / 1024**2 / check),
            "full_check_share_of_rerun": round(check / rerun, 3),
            "target_ratio": 1.2,
        }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<28} {value}")
