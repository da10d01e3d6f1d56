"""Interpolate + write: the whole pipeline's peak memory does not grow with the video's length."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from kinograph.host import Graph, RunOptions


def pipeline_peak(session, out: Path, frames: int, method: str) -> int:  # type: ignore[no-untyped-def]
    graph = Graph(session.registry)
    graph.add_node("test.source", "source", {"frames": frames, "size": 96, "chunk": 4})
    graph.add_node("kinograph.frames.interpolate", "interpolate", {"factor": 2, "method": method, "preset": "ultrafast"})
    graph.add_node("kinograph.video.write", "write", {"path": str(out), "preset": "ultrafast"})
    graph.connect("source.frames", "interpolate.frames")
    graph.connect("interpolate.frames", "write.frames")
    gc.collect()
    tracemalloc.start()
    try:
        result = session.run(graph, RunOptions(device="cpu", use_cache=False))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok, result.failures
    return peak


@pytest.mark.parametrize("method", ["flow", "blend"])
def test_interpolate_and_write_memory_is_flat(session, tmp_path: Path, method: str) -> None:  # type: ignore[no-untyped-def]
    n = 12
    pipeline_peak(session, tmp_path / "warm.mp4", 4, method)
    short = pipeline_peak(session, tmp_path / "short.mp4", n, method)
    long = pipeline_peak(session, tmp_path / "long.mp4", 4 * n, method)
    assert short > 96 * 96 * 3 * 4  # the measure sees at least a chunk
    assert long <= 1.2 * short, f"{method}: peak {long} B for {4 * n} frames vs {short} B for {n}"
