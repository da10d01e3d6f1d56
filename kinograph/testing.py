"""Test helpers for plugin authors (a pytest plugin, enabled when kinograph is installed).

Fixtures (no install needed: your plugin module is registered in-process):

- ``kinograph_registry``: a :class:`PluginHarness` with the built-in packs, also installed as the
  process-wide registry for the test.
- ``register_plugin``: ``register_plugin(module, name="my-plugin") -> PluginInfo``; fails the
  test when the plugin reports a problem (bad hook, conflicting node type, bad port type).
- ``run_node``: ``run_node(type_id, params=None, **inputs) -> outputs`` runs one node directly.
- ``graph_outputs``: ``graph_outputs(graph_or_path, "node.port", ...) -> {"node.port": value}``
  runs a graph and returns the outputs you name; stream outputs come back as one array.
- ``run_graph_file``: ``run_graph_file(graph_or_path, **options) -> RunResult``.

Helpers for frames: :func:`frames_from_array`, :func:`collect_frames`, :func:`collect_chunks`,
:func:`random_frames`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kinograph.api import (
    DEFAULT_CHUNK,
    FRAME_STREAM,
    IMAGES,
    FrameChunk,
    FrameStream,
    Input,
    ModelStore,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    hookimpl,
)
from kinograph.host import (
    Graph,
    PluginInfo,
    Registry,
    RunOptions,
    RunResult,
    Session,
    reset_registry,
    resolve_param_paths,
)

if TYPE_CHECKING:
    import numpy as np

#: Type id of the sink :meth:`PluginHarness.run_graph` adds to collect a stream output.
COLLECT_TYPE = "kinograph.testing.collect_frames"


class _CollectFrames(Node):
    """Output node used by the harness: pulls a stream and returns its frames as one array."""

    type_id = COLLECT_TYPE
    display_name = "Collect frames (tests)"
    category = "Testing"
    output_node = True
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("frames", IMAGES)]

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        return {"frames": collect_frames(frames)}


class _HarnessPlugin:
    """The harness's own nodes, registered like any plugin."""

    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [_CollectFrames]


class PluginHarness:
    """A registry for tests: the built-in packs plus the plugins you register.

    Runs use their own model store (``self.models``), so "loads once" can be checked per test;
    pass ``models=`` to share one between harnesses (e.g. a module-scoped store of big models).
    """

    def __init__(self, builtins: bool = True, models: ModelStore | None = None) -> None:
        self.registry = Registry()
        if builtins:
            self.registry.load_builtins()
        self.models = models if models is not None else ModelStore()
        self.session = Session(self.registry, models=self.models)
        #: the context of the last :meth:`run_node` call (warnings, temp_dir...)
        self.last_context: RunContext | None = None
        #: (done, total) reported by the last :meth:`run_node` call
        self.progress: list[tuple[int, int | None]] = []

    # -- plugins --

    def register(self, plugin: Any, name: str = "test-plugin") -> PluginInfo:
        """Register a plugin module or object; raise AssertionError if it reported any problem."""
        info = self.registry.register_plugin(plugin, name)
        if info.errors:
            raise AssertionError(f"plugin {name!r} has problems: {info.error}")
        return info

    # -- graphs --

    def graph(self, path: str | Path | None = None) -> Graph:
        """A new empty graph, or the graph file at ``path`` (old node versions are migrated)."""
        return Graph.load(path, self.registry) if path else Graph(self.registry)

    def graph_from_json(self, text: str, base_dir: str | Path | None = None) -> Graph:
        """A graph from JSON text (relative paths resolve against ``base_dir``)."""
        return Graph.from_json(text, self.registry, Path(base_dir) if base_dir else None)

    def run(self, graph: Graph | str | Path, **options: Any) -> RunResult:
        """Run a graph (cache off, CPU unless given) and return the :class:`RunResult`."""
        if not isinstance(graph, Graph):
            graph = self.graph(graph)
        options.setdefault("use_cache", False)
        options.setdefault("device", "cpu")
        return self.session.run(graph, RunOptions(**options))

    def run_graph(self, graph: Graph | str | Path, *ports: str, **options: Any) -> dict[str, Any]:
        """Run a graph and return the named outputs (``"node.port"``) by name.

        Only what the named outputs need runs (output nodes elsewhere in the graph do not).
        Stream outputs are collected into one ``[N, H, W, 3]`` array. With no ports named, the
        output nodes run and every value output the run kept is returned. A failed run raises AssertionError listing every
        failure, so a test shows what went wrong.
        """
        if not isinstance(graph, Graph):
            graph = self.graph(graph)
        # Work on a copy: the collectors added below must not change the caller's graph.
        graph = Graph.from_json(graph.to_json(), self.registry, graph.base_dir)
        collectors: dict[str, str] = {}
        for ref in ports:
            node_id, _, port = ref.partition(".")
            cls = graph.node_class(node_id)
            if cls is None or cls.output(port) is None:
                raise AssertionError(f"{ref!r}: no such node output in the graph")
            port_type = self.registry.ports.get(cls.output(port).type)
            if port_type is not None and port_type.streaming:
                self._ensure_collector()
                sink = graph.add_node(COLLECT_TYPE, graph.new_id(f"collect_{node_id}"))
                graph.connect(ref, f"{sink.id}.frames")
                collectors[ref] = sink.id
        if ports:
            targets = [ref.partition(".")[0] for ref in ports if ref not in collectors]
            options.setdefault("targets", targets + list(collectors.values()))
        result = self.run(graph, **options)
        if not result.ok:
            lines = [f"{f.node_id} ({f.type}): {f.message}" for f in result.failures]
            raise AssertionError(f"run {result.status}:\n" + "\n".join(lines or ["(no failure recorded)"]))
        if not ports:
            return {
                f"{node_id}.{port}": value
                for node_id, values in result.outputs.items()
                if node_id not in collectors.values()
                for port, value in values.items()
            }
        found: dict[str, Any] = {}
        for ref in ports:
            node_id, _, port = ref.partition(".")
            if ref in collectors:
                node_id, port = collectors[ref], "frames"
            values = result.outputs.get(node_id, {})
            if port not in values:
                raise AssertionError(f"{ref!r} produced no value (state: {result.states.get(node_id)})")
            found[ref] = values[port]
        return found

    def _ensure_collector(self) -> None:
        # Registered on first use only, so plugin listings in tests stay as the test made them.
        if self.registry.node(COLLECT_TYPE) is None:
            self.register(_HarnessPlugin(), "kinograph.testing")

    # -- single nodes --

    def context(self, node_id: str = "node", device: str = "cpu") -> RunContext:
        """A real :class:`RunContext` like the scheduler gives, recording progress here."""
        self.progress = []
        return RunContext(
            node_id,
            device=device,
            models=self.models,
            on_progress=lambda done, total: self.progress.append((done, total)),
        )

    def params(self, type_id: str, params: dict[str, Any] | None = None, version: int | None = None) -> NodeParams:
        """Validated params for a node type, defaults included (a bad default fails here, never
        in ``run()``); ``version`` older than the node's migrates them first.

        Raises pydantic's ``ValidationError`` naming each param that is wrong.
        """
        cls = self.node_class(type_id)
        values = dict(params or {})
        if version is not None and version < cls.version:
            values = cls.migrate_params(version, values)
        # NodeParams validates defaults too (validate_default), so every field is checked here.
        return cls.Params.model_validate(values)

    def preview(self, type_name: str, value: Any) -> dict[str, Any] | None:
        """What the editor's viewer would draw for ``value`` of port type ``type_name``.

        ``{"kind": "image" | "curves" | "error", ...}`` (see ``kinograph_previews``), or None
        when no plugin gives that type a preview.
        """
        return self.registry.preview(type_name, value)

    def node_class(self, type_id: str) -> type[Node]:
        cls: type[Node] | None = self.registry.node(type_id)
        if cls is None:
            known = ", ".join(sorted(self.registry.nodes))
            raise AssertionError(f"no node type {type_id!r} is registered (known: {known})")
        return cls

    def run_node(
        self,
        type_id: str,
        params: dict[str, Any] | None = None,
        *,
        device: str = "cpu",
        base_dir: str | Path | None = None,
        **inputs: Any,
    ) -> dict[str, Any]:
        """Run one node directly (validated params, a real context) and return its outputs.

        Input paths in ``params`` resolve against ``base_dir`` (default: the current folder), as
        the scheduler resolves them against the graph's folder. Stream outputs come back as
        :class:`FrameStream`; pass them to :func:`collect_frames`.
        """
        cls = self.node_class(type_id)
        validated = self.params(type_id, params)
        resolve_param_paths(validated, Path(base_dir or Path.cwd()))
        ctx = self.context(type_id.rsplit(".", 1)[-1], device)
        self.last_context = ctx
        outputs = cls(validated).run(ctx, **inputs)
        if not isinstance(outputs, dict):
            raise NodeFailure(f"{type_id}.run returned {type(outputs).__name__}, expected dict")
        return outputs


# -- frames --


def frames_from_array(array: np.ndarray, fps: float = 24.0, chunk_size: int = DEFAULT_CHUNK) -> FrameStream:
    """A :class:`FrameStream` over ``[N, H, W, 3]`` uint8 frames, in chunks of ``chunk_size``."""
    return FrameStream.from_array(array, fps=fps, chunk_size=chunk_size)


def collect_chunks(stream: FrameStream) -> list[FrameChunk]:
    """Pull a stream to the end, checking every chunk keeps the frame contract and the order."""
    chunks = []
    expected_start = 0
    for chunk in stream:
        problem = chunk.problem(stream.width, stream.height)
        if problem:
            raise AssertionError(problem)
        if chunk.start != expected_start:
            raise AssertionError(f"chunk starts at frame {chunk.start}, expected {expected_start}")
        expected_start = chunk.stop
        chunks.append(chunk)
    if stream.frame_count is not None and expected_start != stream.frame_count:
        raise AssertionError(f"stream yielded {expected_start} frames but says {stream.frame_count}")
    return chunks


def collect_frames(stream: FrameStream) -> np.ndarray:
    """Pull a stream to the end and return its frames as one ``[N, H, W, 3]`` array."""
    import numpy as np

    chunks = collect_chunks(stream)
    if not chunks:
        return np.zeros((0, stream.height, stream.width, 3), dtype=np.uint8)
    return np.concatenate([c.pixels for c in chunks])


def random_frames(count: int = 8, height: int = 32, width: int = 48, seed: int = 0) -> np.ndarray:
    """Deterministic random ``[count, height, width, 3]`` uint8 frames."""
    import numpy as np

    return np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), dtype=np.uint8)


# -- fixtures --


@pytest.fixture
def kinograph_registry(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PluginHarness]:
    """A :class:`PluginHarness`, also installed as the process-wide registry for the test.

    Unless ``KINOGRAPH_HOME`` is set already, it points at a fresh folder, so caches and
    settings stay out of your home.
    """
    if not os.environ.get("KINOGRAPH_HOME"):
        monkeypatch.setenv("KINOGRAPH_HOME", str(tmp_path_factory.mktemp("kinograph-home")))
    harness = PluginHarness()
    reset_registry(harness.registry)
    yield harness
    reset_registry(None)


@pytest.fixture
def register_plugin(kinograph_registry: PluginHarness) -> Callable[..., PluginInfo]:
    """``register_plugin(module_or_object, name="test-plugin") -> PluginInfo`` (in-process)."""
    return kinograph_registry.register


@pytest.fixture
def run_node(kinograph_registry: PluginHarness) -> Callable[..., dict[str, Any]]:
    """``run_node(type_id, params=None, **inputs) -> outputs``."""
    return kinograph_registry.run_node


@pytest.fixture
def graph_outputs(kinograph_registry: PluginHarness) -> Callable[..., dict[str, Any]]:
    """``graph_outputs(graph_or_path, "node.port", ..., **options) -> {"node.port": value}``."""
    return kinograph_registry.run_graph


@pytest.fixture
def run_graph_file(kinograph_registry: PluginHarness) -> Callable[..., RunResult]:
    """``run_graph_file(path_or_graph, **options) -> RunResult`` (cache off, CPU)."""
    return kinograph_registry.run


__all__ = [
    "COLLECT_TYPE",
    "PluginHarness",
    "collect_chunks",
    "collect_frames",
    "frames_from_array",
    "graph_outputs",
    "kinograph_registry",
    "random_frames",
    "register_plugin",
    "run_graph_file",
    "run_node",
]
