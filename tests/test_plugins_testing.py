"""kinograph.testing: the pytest plugin plugin authors use (fixtures and frame helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import numpy as np
import pytest

from kinograph.api import (
    FRAME_STREAM,
    NUMBER,
    FrameChunk,
    FrameStream,
    Input,
    Node,
    NodeParams,
    Output,
    RunContext,
    hookimpl,
)
from kinograph.core.registry import get_registry
from kinograph.testing import COLLECT_TYPE, PluginHarness, collect_chunks, collect_frames, frames_from_array


class Brighten(Node):
    """Adds a constant to every pixel; reports progress and warns on clipping."""

    type_id = "harness.brighten"
    version = 2
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("frames", FRAME_STREAM), Output("offset", NUMBER)]

    class Params(NodeParams):
        offset: int = 10

    @classmethod
    def migrate_params(cls, from_version: int, params: dict[str, Any]) -> dict[str, Any]:
        return {"offset": params.get("amount", 5) * 2} if from_version < 2 else params

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        offset = self.params.offset
        ctx.progress(1, 1)
        if offset > 200:
            ctx.warn(f"offset {offset} clips most pixels to white")

        def chunks() -> Iterator[FrameChunk]:
            for chunk in frames:
                out = np.clip(chunk.pixels.astype(np.int16) + offset, 0, 255).astype(np.uint8)
                yield FrameChunk(chunk.start, out)

        return {"frames": frames.derive(chunks), "offset": offset}


class Explode(Node):
    type_id = "harness.explode"
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("frames", FRAME_STREAM)]

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        raise ValueError("exploded on purpose")


class GoodPlugin:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [Brighten, Explode]


class BadNode(Node):
    type_id = "no_namespace"


class BadPlugin:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [BadNode]


def test_fixtures_come_from_the_installed_pytest_plugin() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("kinograph") == "kinograph.testing"


def test_registered_plugin_is_the_process_registry(kinograph_registry: PluginHarness, register_plugin: Any) -> None:
    info = register_plugin(GoodPlugin(), "good")
    assert info.node_types == ["harness.brighten", "harness.explode"]
    assert get_registry() is kinograph_registry.registry
    assert get_registry().node("harness.brighten") is Brighten


def test_register_plugin_fails_on_a_plugin_problem(register_plugin: Any) -> None:
    with pytest.raises(AssertionError, match=r"plugin 'bad' has problems: node BadNode \(test_plugins_testing\): type_id 'no_namespace'"):
        register_plugin(BadPlugin(), "bad")


def test_run_node_runs_with_a_real_context(kinograph_registry: PluginHarness, register_plugin: Any) -> None:
    register_plugin(GoodPlugin(), "good")
    frames = np.full((5, 6, 8, 3), 100, dtype=np.uint8)
    outputs = kinograph_registry.run_node("harness.brighten", {"offset": 250}, frames=frames_from_array(frames, chunk_size=2))
    assert outputs["offset"] == 250
    assert np.array_equal(collect_frames(outputs["frames"]), np.full_like(frames, 255))
    assert kinograph_registry.last_context is not None
    assert kinograph_registry.last_context.warnings == ["offset 250 clips most pixels to white"]
    assert kinograph_registry.progress == [(1, 1)]


def test_params_migrate_from_an_old_version(kinograph_registry: PluginHarness, register_plugin: Any) -> None:
    register_plugin(GoodPlugin(), "good")
    assert kinograph_registry.params("harness.brighten", {"amount": 7}, version=1).offset == 14
    with pytest.raises(Exception, match="amount"):
        kinograph_registry.params("harness.brighten", {"amount": 7})


def test_graph_outputs_collects_streams_and_values(kinograph_registry: PluginHarness, register_plugin: Any, graph_outputs: Any) -> None:
    register_plugin(GoodPlugin(), "good")
    graph = kinograph_registry.graph()
    graph.add_node("kinograph.frames.test_pattern", "pattern", {"width": 32, "height": 16, "frames": 5, "chunk": 2})
    graph.add_node("harness.brighten", "bright", {"offset": 3})
    graph.connect("pattern.frames", "bright.frames")
    before = graph.to_json()
    outputs = graph_outputs(graph, "pattern.frames", "bright.frames", "bright.offset")
    assert outputs["bright.offset"] == 3
    pattern, bright = outputs["pattern.frames"], outputs["bright.frames"]
    assert pattern.shape == (5, 16, 32, 3)
    assert np.array_equal(bright, np.clip(pattern.astype(int) + 3, 0, 255).astype(np.uint8))
    assert graph.to_json() == before  # the collectors went into a copy
    assert COLLECT_TYPE in kinograph_registry.registry.nodes


def test_graph_outputs_reports_failures(kinograph_registry: PluginHarness, register_plugin: Any, graph_outputs: Any) -> None:
    register_plugin(GoodPlugin(), "good")
    graph = kinograph_registry.graph()
    graph.add_node("kinograph.frames.test_pattern", "pattern", {"width": 16, "height": 16, "frames": 2})
    graph.add_node("harness.explode", "boom")
    graph.connect("pattern.frames", "boom.frames")
    with pytest.raises(AssertionError, match=r"boom \(harness.explode\): .*exploded on purpose"):
        graph_outputs(graph, "boom.frames")
    with pytest.raises(AssertionError, match=r"'boom\.nothing': no such node output"):
        graph_outputs(graph, "boom.nothing")


def test_collect_chunks_checks_the_frame_contract() -> None:
    def gap() -> Iterator[FrameChunk]:
        yield FrameChunk(0, np.zeros((2, 4, 4, 3), dtype=np.uint8))
        yield FrameChunk(3, np.zeros((2, 4, 4, 3), dtype=np.uint8))

    with pytest.raises(AssertionError, match="chunk starts at frame 3, expected 2"):
        collect_chunks(FrameStream(gap, fps=24.0, width=4, height=4))

    def floats() -> Iterator[FrameChunk]:
        yield FrameChunk(0, np.zeros((2, 4, 4, 3), dtype=np.float32))

    with pytest.raises(AssertionError, match="expected uint8"):
        collect_chunks(FrameStream(floats, fps=24.0, width=4, height=4))
    short = FrameStream.from_array(np.zeros((3, 4, 4, 3), dtype=np.uint8), fps=24.0)
    short.frame_count = 5
    with pytest.raises(AssertionError, match="yielded 3 frames but says 5"):
        collect_chunks(short)


def test_models_are_per_harness() -> None:
    first, second = PluginHarness(builtins=False), PluginHarness(builtins=False)
    first.models.get("model", object)
    assert "model" in first.models and "model" not in second.models
    assert first.registry.node("kinograph.frames.test_pattern") is None
