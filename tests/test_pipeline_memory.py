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


RSS_CHILD = r"""
import json, sys
from kinograph.host import Graph, RunOptions, Session
frames, out = int(sys.argv[1]), sys.argv[2]
g = Graph()
g.add_node("kinograph.frames.test_pattern", "src", {"width": 320, "height": 240, "frames": frames, "chunk": 4})
g.add_node("kinograph.frames.interpolate", "interpolate",
           {"factor": 2, "method": "flow", "preset": "ultrafast", "backend": "torch"})
g.add_node("kinograph.video.write", "write", {"path": out, "preset": "ultrafast"})
g.connect("src.frames", "interpolate.frames")
g.connect("interpolate.frames", "write.frames")
result = Session().run(g, RunOptions(device="cpu", use_cache=False))
assert result.ok, result.failures
assert "torch" in sys.modules
# VmHWM is this process's own peak RSS: torch tensors live outside tracemalloc's view.
print(json.dumps(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))))
"""


def torch_pipeline_peak_kb(tmp_path: Path, frames: int) -> int:
    import json
    import subprocess
    import sys

    out = tmp_path / f"torch_{frames}.mp4"
    proc = subprocess.run([sys.executable, "-c", RSS_CHILD, str(frames), str(out)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return int(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc")
def test_torch_backend_memory_is_flat_in_process_rss(tmp_path: Path) -> None:
    short = torch_pipeline_peak_kb(tmp_path, 12)
    long = torch_pipeline_peak_kb(tmp_path, 48)
    # 48 frames in and 96 out would hold about 33 MB if a stage kept them; allow 15 MB of noise.
    assert long - short < 15 * 1024, f"peak RSS {long} kB for 48 frames vs {short} kB for 12"
