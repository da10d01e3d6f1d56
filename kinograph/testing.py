"""Test helpers for plugin authors (a pytest plugin, enabled when kinograph is installed).

Fixtures:

- ``kinograph_registry``: a fresh registry with the built-in packs; ``register(module)`` adds
  your plugin in-process, without installing it.
- ``run_node``: run one node on given inputs and get its outputs.
- ``run_graph_file``: run a graph (file or :class:`Graph`) and get the :class:`RunResult`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kinograph.core.context import RunContext
from kinograph.core.errors import NodeFailure
from kinograph.core.graph import Graph
from kinograph.core.node import Node
from kinograph.core.registry import Registry, reset_registry
from kinograph.core.scheduler import RunOptions, RunResult, Session


class PluginHarness:
    """A registry for tests: built-in packs plus the plugins you register."""

    def __init__(self, builtins: bool = True) -> None:
        from kinograph.plugins import BUILTIN_PLUGINS

        self.registry = Registry()
        if builtins:
            self.registry.load_builtins(BUILTIN_PLUGINS)
        self.session = Session(self.registry)

    def register(self, plugin: Any, name: str = "test-plugin") -> Any:
        """Register a plugin module or object; raise if it reported any problem."""
        info = self.registry.register_plugin(plugin, name)
        if info.errors:
            raise AssertionError(f"plugin {name!r} has problems: {info.error}")
        return info

    def graph(self, path: str | Path | None = None) -> Graph:
        return Graph.load(path, self.registry) if path else Graph(self.registry)

    def run(self, graph: Graph | str | Path, **options: Any) -> RunResult:
        if not isinstance(graph, Graph):
            graph = self.graph(graph)
        options.setdefault("use_cache", False)
        options.setdefault("device", "cpu")
        return self.session.run(graph, RunOptions(**options))

    def run_node(self, type_id: str, params: dict[str, Any] | None = None, **inputs: Any) -> dict[str, Any]:
        """Run one node directly (validated params, a real context on the CPU) and return its outputs."""
        cls: type[Node] | None = self.registry.node(type_id)
        if cls is None:
            raise AssertionError(f"no node type {type_id!r} is registered")
        node = cls(cls.Params.model_validate(params or {}))
        ctx = RunContext(type_id.rsplit(".", 1)[-1], device="cpu")
        outputs = node.run(ctx, **inputs)
        if not isinstance(outputs, dict):
            raise NodeFailure(f"{type_id}.run returned {type(outputs).__name__}, expected dict")
        return outputs


@pytest.fixture
def kinograph_registry() -> Iterator[PluginHarness]:
    """A :class:`PluginHarness`, also installed as the process-wide registry for the test."""
    harness = PluginHarness()
    reset_registry(harness.registry)
    yield harness
    reset_registry(None)


@pytest.fixture
def run_node(kinograph_registry: PluginHarness) -> Any:
    """``run_node(type_id, params, **inputs) -> outputs``."""
    return kinograph_registry.run_node


@pytest.fixture
def run_graph_file(kinograph_registry: PluginHarness) -> Any:
    """``run_graph_file(path_or_graph, **options) -> RunResult`` (cache off, CPU)."""
    return kinograph_registry.run
