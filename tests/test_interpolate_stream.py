"""Interpolate frames as a stream: frame counts and rates, kept frames, audio, graphs,
cancellation, and memory that does not grow with the video's length."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from kinograph.api import (
    FRAME_STREAM,
    NUMBER,
    Cancelled,
    CancelToken,
    FrameChunk,
    FrameStream,
    Input,
    Node,
    NodeParams,
    Output,
    RunContext,
    hookimpl,
)
from kinograph.testing import PluginHarness, collect_frames

TYPE = "kinograph.frames.interpolate"


def panning_frame(index: int, height: int, width: int) -> np.ndarray:
    """Frame ``index`` of a smooth coloured texture panning 3 px right per frame."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    x = xs - 3.0 * index
    r = 128 + 90 * np.sin(x / 7.0) * np.cos(ys / 11.0)
    g = 128 + 90 * np.sin((x + ys) / 13.0)
    b = 128 + 60 * np.cos(x / 5.0 - ys / 17.0)
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


def clip(count: int, height: int = 48, width: int = 64) -> np.ndarray:
    return np.stack([panning_frame(i, height, width) for i in range(count)])


@pytest.fixture(scope="module")
def harness() -> PluginHarness:
    harness = PluginHarness()
    harness.register(TestNodes(), "interpolate-tests")
    return harness


def run(harness: PluginHarness, frames: FrameStream, **params: Any) -> FrameStream:
    return harness.run_node(TYPE, params, frames=frames)["frames"]


@pytest.mark.parametrize("method", ["blend", "flow"])
def test_factor_mode_multiplies_rate_and_count_and_keeps_input_frames(
    harness: PluginHarness, method: str
) -> None:
    source = clip(10)
    out = run(
        harness, FrameStream.from_array(source, fps=24.0, chunk_size=3), factor=3, method=method, chunk=4
    )
    assert out.fps == 72.0 and out.frame_count == 30 and (out.width, out.height) == (64, 48)
    chunks = list(out)
    assert [c.start for c in chunks] == list(range(0, 30, 4))
    assert all(c.count <= 4 for c in chunks)
    frames = np.concatenate([c.pixels for c in chunks])
    assert frames.shape == (30, 48, 64, 3)
    for k in range(10):
        np.testing.assert_array_equal(frames[3 * k], source[k])
    # the tail keeps the duration (audio stays in sync): it holds the last frame
    np.testing.assert_array_equal(frames[28], source[9])
    np.testing.assert_array_equal(frames[29], source[9])
    # in-between frames are new frames, not repeats
    assert not np.array_equal(frames[1], source[0]) and not np.array_equal(frames[1], source[1])


@pytest.mark.parametrize(
    ("in_fps", "out_fps", "expected", "exact"),
    [
        (24.0, 60.0, 25, {0: 0, 5: 2, 10: 4, 20: 8}),  # output j shows input j * 24 / 60
        (30.0, 24.0, 8, {0: 0, 4: 5}),  # slowing down drops frames, still exact where aligned
        (30000 / 1001, 60000 / 1001, 20, {0: 0, 2: 1, 18: 9}),  # NTSC: exactly twice
    ],
)
def test_fps_mode_retimes_to_the_target_rate(
    harness: PluginHarness, in_fps: float, out_fps: float, expected: int, exact: dict[int, int]
) -> None:
    source = clip(10)
    out = run(harness, FrameStream.from_array(source, fps=in_fps), mode="fps", fps=out_fps, method="blend")
    assert out.fps == pytest.approx(out_fps) and out.frame_count == expected
    frames = collect_frames(out)
    assert frames.shape[0] == expected
    for j, k in exact.items():
        np.testing.assert_array_equal(frames[j], source[k])


def test_unknown_length_stays_unknown_and_audio_is_kept(harness: PluginHarness) -> None:
    source = clip(5)
    stream = FrameStream.from_frames(iter(source), fps=25.0, width=64, height=48, audio="/media/take.wav")
    assert stream.frame_count is None
    out = run(harness, stream, factor=4, method="blend")
    assert out.frame_count is None and out.audio == "/media/take.wav" and out.fps == 100.0
    assert collect_frames(out).shape[0] == 20


def test_single_frame_and_empty_streams(harness: PluginHarness) -> None:
    one = clip(1)
    frames = collect_frames(run(harness, FrameStream.from_array(one, fps=10.0), factor=2))
    assert frames.shape[0] == 2 and (frames == one[0]).all()
    empty = FrameStream(lambda: iter(()), fps=10.0, width=64, height=48, frame_count=0)
    out = run(harness, empty, factor=2)
    assert out.frame_count == 0 and list(out) == []


def test_params_are_bounded(harness: PluginHarness) -> None:
    with pytest.raises(ValueError, match="factor"):
        harness.params(TYPE, {"factor": 17})
    with pytest.raises(ValueError, match="method"):
        harness.params(TYPE, {"method": "magic"})


def test_progress_and_cancellation_are_checked_per_chunk(harness: PluginHarness) -> None:
    out = run(
        harness, FrameStream.from_array(clip(6), fps=24.0, chunk_size=2), factor=2, method="blend", chunk=4
    )
    collect_frames(out)
    assert harness.progress == [(4, 12), (8, 12), (12, 12)]

    token = CancelToken()
    ctx = RunContext("interpolate", cancel=token)
    cls = harness.node_class(TYPE)
    node = cls(cls.Params(method="flow", chunk=2))
    stream = node.run(ctx, frames=FrameStream.from_array(clip(12), fps=24.0, chunk_size=2))["frames"]
    pulled = iter(stream)
    next(pulled)
    token.cancel()
    with pytest.raises(Cancelled):
        for _ in pulled:
            pass


# -- graphs: test-only source and sink nodes --


class PanSource(Node):
    """Streams ``frames`` textured frames, making each chunk on demand (nothing kept)."""

    type_id = "interpolate_tests.pan_source"
    outputs = [Output("frames", FRAME_STREAM)]

    class Params(NodeParams):
        frames: int = 16
        width: int = 64
        height: int = 48
        chunk: int = 4

    def run(self, ctx: RunContext) -> dict[str, Any]:
        p = self.params

        def chunks() -> Iterator[FrameChunk]:
            for start in range(0, p.frames, p.chunk):
                n = min(p.chunk, p.frames - start)
                yield FrameChunk(
                    start, np.stack([panning_frame(start + i, p.height, p.width) for i in range(n)])
                )

        return {"frames": FrameStream(chunks, fps=24.0, width=p.width, height=p.height, frame_count=p.frames)}


class CountFrames(Node):
    """Output node that counts frames and checks their order, keeping nothing else."""

    type_id = "interpolate_tests.count"
    output_node = True
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("count", NUMBER)]

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        count = 0
        for chunk in frames:
            assert chunk.start == count
            count += chunk.count
        return {"count": count}


class TestNodes:
    __test__ = False  # a plugin object, not a test class

    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [PanSource, CountFrames]


def interpolate_graph(harness: PluginHarness, frames: int, **params: Any) -> Any:
    graph = harness.graph()
    graph.add_node(PanSource.type_id, "source", {"frames": frames})
    graph.add_node(TYPE, "interpolate", params)
    graph.add_node(CountFrames.type_id, "count")
    graph.connect("source.frames", "interpolate.frames")
    graph.connect("interpolate.frames", "count.frames")
    return graph


def test_graph_run_interpolates_a_stream(harness: PluginHarness) -> None:
    graph = interpolate_graph(harness, 12, factor=2, method="flow", backend="torch")
    result = harness.run(graph)
    assert result.ok, result.failures
    assert result.outputs["count"]["count"] == 24
    # the graph round-trips through its file format with every param
    again = harness.graph_from_json(graph.to_json())
    assert again.nodes["interpolate"].params["backend"] == "torch"
    assert harness.run(again).outputs["count"]["count"] == 24


def peak_bytes(harness: PluginHarness, frames: int) -> int:
    graph = interpolate_graph(harness, frames, factor=4, method="flow", backend="opencv", chunk=8)
    gc.collect()
    tracemalloc.start()
    try:
        result = harness.run(graph)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok and result.outputs["count"]["count"] == 4 * frames
    return peak


def test_memory_does_not_grow_with_video_length(harness: PluginHarness) -> None:
    # frames big enough that pixels dominate the peak, few enough to stay quick
    harness.run(interpolate_graph(harness, 4, factor=4))  # warm-up: imports and caches
    short = peak_bytes(harness, 12)
    long = peak_bytes(harness, 48)
    assert long <= 1.2 * short, f"peak {long} bytes for 48 frames vs {short} for 12"


@pytest.mark.parametrize(("in_fps", "out_fps"), [(24.0, 48.0), (24.0, 60.0), (30.0, 24.0), (25.0, 10.0)])
def test_pairs_that_need_an_in_between_frame_are_known_ahead(in_fps: float, out_fps: float) -> None:
    # the node works out flow ahead only for pairs with an output strictly between them
    from kinograph.plugins.interpolation.timing import split_position, timing_for

    timing = timing_for(in_fps, "fps", 2, out_fps)
    between = set()
    for j in range(timing.output_count(40)):
        index, t = split_position(timing.position(j))
        if t > 0:
            between.add(index + 1)
    assert [i for i in range(1, 40) if timing.has_between(i)] == sorted(i for i in between if i < 40)
