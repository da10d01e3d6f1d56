"""The scheduler: checks a graph, plans its run and executes the plan.

:class:`Session` keeps caches and loaded models between runs. One run goes
``validate the snapshot -> plan (run_plan) -> execute (executor)``; the recorder keeps the
result and the events in step. Read :mod:`kinograph.core.run_plan` for *what* a run does and
:mod:`kinograph.core.executor` for *how*.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kinograph.core.cache import StreamCache, ValueCache
from kinograph.core.context import MODELS, CancelToken, ModelStore
from kinograph.core.devices import check_device_spec, resolve_device
from kinograph.core.errors import GraphError
from kinograph.core.events import EventBus, Subscriber
from kinograph.core.executor import Caches, Executor
from kinograph.core.graph import Graph, GraphSnapshot
from kinograph.core.incremental import Basis, LiveGraph, options_key, prepare_rerun
from kinograph.core.paths import cache_dir
from kinograph.core.plan import Plan, make_plan
from kinograph.core.recorder import Recorder
from kinograph.core.registry import Registry, get_registry
from kinograph.core.results import Failure, RunOptions, RunResult, RunStatus
from kinograph.core.run_plan import RunPlan, plan_run
from kinograph.core.validation import parse_params, structure_problems, validate

__all__ = ["Failure", "RunOptions", "RunResult", "Session", "run_graph"]


class Session:
    """Runs graphs in one process, keeping caches and loaded models between runs."""

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        values: ValueCache | None = None,
        streams: StreamCache | None = None,
        models: ModelStore | None = None,
    ) -> None:
        self.registry = registry or get_registry()
        self.values = values if values is not None else ValueCache()
        self.streams = streams if streams is not None else StreamCache(cache_dir() / "streams")
        self.models = models if models is not None else MODELS
        #: editable graphs this session ran, with what their last run established
        self._live: weakref.WeakKeyDictionary[Graph, LiveGraph] = weakref.WeakKeyDictionary()

    def run(
        self,
        graph: Graph | GraphSnapshot,
        options: RunOptions | None = None,
        subscribers: Iterable[Subscriber] = (),
        cancel: CancelToken | None = None,
    ) -> RunResult:
        """Run a graph (a snapshot is taken first). Invalid graphs raise :class:`GraphError`.

        Running the same editable :class:`Graph` again after param edits runs only what the
        edits affect (see :mod:`kinograph.core.incremental`); a snapshot always runs whole.
        """
        options = options or RunOptions()
        check_device_spec(options.device)
        live = self._live_graph(graph) if isinstance(graph, Graph) else None
        rerun = prepare_rerun(live, self.registry, options, self.values) if live is not None else None
        caches = Caches(self.values, self.streams, self.models)
        if rerun is not None:
            recorder = Recorder(EventBus(list(subscribers)), rerun.snapshot, rerun.result)
            executor = Executor(
                rerun.plan, rerun.snapshot, self.registry.ports, caches, options, recorder, cancel or CancelToken(),
                given=rerun.given,
            )
            result = executor.execute()
            basis: Basis | None = rerun.basis
        else:
            # The snapshot is what runs, so it is what gets checked: later edits cannot slip in.
            snapshot = graph.snapshot() if isinstance(graph, Graph) else graph
            snapshot = dataclasses.replace(snapshot, registry=self.registry)
            # An unknown type may be an output node from a missing plugin: never skip it silently.
            problems = structure_problems(snapshot, unknown_types=options.targets is None)
            if problems:
                raise GraphError(problems)
            recorder = Recorder(EventBus(list(subscribers)), snapshot, RunResult())
            order, parsed, plan = self._plan(snapshot, options, recorder)
            recorder.result.plan = list(plan.order)
            recorder.result.keys = plan.keys  # computed only if a cache or a reader asks
            if options.device not in ("auto", "cpu"):
                resolve_device(options.device)  # fail before anything runs
            executor = Executor(plan, snapshot, self.registry.ports, caches, options, recorder, cancel or CancelToken())
            result = executor.execute()
            basis = Basis(snapshot, options_key(options), order, parsed, plan, result)
        if live is not None:
            live.settle(basis if result.status != RunStatus.CANCELLED else None)
        return result

    def _live_graph(self, graph: Graph) -> LiveGraph:
        live = self._live.get(graph)
        if live is None:
            live = self._live[graph] = LiveGraph(weakref.ref(graph))
        return live

    def plan(self, snapshot: GraphSnapshot, options: RunOptions, recorder: Recorder | None = None) -> RunPlan:
        """Check the snapshot and decide what its run would do (cached outputs are taken)."""
        return self._plan(snapshot, options, recorder)[2]

    def _plan(
        self, snapshot: GraphSnapshot, options: RunOptions, recorder: Recorder | None
    ) -> tuple[Plan, dict[str, Any], RunPlan]:
        order = make_plan(snapshot, self.registry, options.targets)
        parsed = parse_params(snapshot, order.order)  # read once, for validation and the plan
        if options.validate:
            problems = validate(snapshot, set(order.order), cycles=False, parsed=parsed)  # make_plan named cycles
            if problems:
                raise GraphError(problems)

        def lookup(node_id: str, ports: dict[str, tuple[str, bool]]) -> dict[str, Any]:
            if self.values.empty and not any(streaming for _, streaming in ports.values()):
                return {}  # nothing in memory yet (say, a fresh process), and streams are on disk

            def warn(message: str) -> None:
                if recorder is not None:
                    recorder.warn(node_id, message)

            return self.take_cached(ports, warn)

        return order, parsed, plan_run(snapshot, self.registry, options, lookup, order, parsed)

    def take_cached(self, ports: dict[str, tuple[str, bool]], warn: Any) -> dict[str, Any]:
        """A node's outputs found in the caches, taken now so an eviction cannot lose them."""
        found: dict[str, Any] = {}
        for port, (key, streaming) in ports.items():
            if streaming:
                stream = self.streams.replay(key, warn=warn) if self.streams.has(key) else None
                if stream is not None:
                    found[port] = stream
            else:
                present, value = self.values.get(key)
                if present:
                    found[port] = value
        return found


def run_graph(
    graph: Graph | str | Path,
    *,
    session: Session | None = None,
    subscribers: Iterable[Subscriber] = (),
    cancel: CancelToken | None = None,
    **options: Any,
) -> RunResult:
    """Run a graph (or graph file) with :class:`RunOptions` given as keywords."""
    if not isinstance(graph, Graph):
        graph = Graph.load(graph, session.registry if session else None)
    return (session or Session(graph.registry)).run(graph, RunOptions(**options), subscribers, cancel)
