"""Streaming memory: writing 4N frames peaks no higher than writing N (nothing grows with length)."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from kinograph.host import Graph, RunOptions

OPTIONS = RunOptions(device="cpu", use_cache=False)


def write_peak(session, out: Path, frames: int) -> int:
    graph = Graph(session.registry)
    graph.add_node("test.source", "source", params={"frames": frames, "size": 128, "chunk": 4})
    graph.add_node("kinograph.video.write", "write", params={"path": str(out), "preset": "ultrafast"})
    graph.connect("source.frames", "write.frames")
    gc.collect()
    tracemalloc.start()
    try:
        result = session.run(graph, OPTIONS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok, result.failures
    return peak


def test_write_video_memory_does_not_grow_with_length(session, tmp_path: Path) -> None:
    n = 15
    write_peak(session, tmp_path / "warmup.mp4", 4)  # imports, encoder set-up
    short = write_peak(session, tmp_path / "short.mp4", n)
    long = write_peak(session, tmp_path / "long.mp4", 4 * n)
    chunk_bytes = 4 * 128 * 128 * 3
    assert short > chunk_bytes  # the measure sees the frames at all
    print(f"write: peak {short} B for {n} frames, {long} B for {4 * n}")
    assert long <= 1.2 * short, f"peak {long} bytes for {4 * n} frames vs {short} for {n}"


def test_animate_and_write_memory_does_not_grow_with_length(session, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(photo)

    def peak(frames: int) -> int:
        graph = Graph(session.registry)
        graph.add_node("kinograph.image.load", "load", params={"path": str(photo)})
        graph.add_node("kinograph.motion.camera_path", "path", params={"steps": frames})
        graph.add_node("kinograph.frames.animate", "animate", params={"width": 128, "height": 96, "chunk": 4})
        graph.add_node("kinograph.video.write", "write", params={"path": str(tmp_path / f"a{frames}.mp4"), "preset": "ultrafast"})
        graph.connect("load.image", "animate.image")
        graph.connect("path.motion", "animate.motion")
        graph.connect("animate.frames", "write.frames")
        gc.collect()
        tracemalloc.start()
        try:
            result = session.run(graph, OPTIONS)
            _, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.ok, result.failures
        return top

    peak(4)
    short, long = peak(15), peak(60)
    assert long <= 1.2 * short, f"peak {long} bytes for 60 frames vs {short} for 15"
