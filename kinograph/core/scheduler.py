"""The scheduler: runs a graph snapshot, caching values, streaming frames, isolating failures.

Value nodes run in dependency order. A node that returns a :class:`FrameStream` returns at once;
its work happens as the sinks pull, accounted to it by :func:`kinograph.core.streams.traced`.
Sinks that read one stream run on their own threads, in step (see :mod:`kinograph.core.fan_out`).
"""

from __future__ import annotations

import hashlib
import heapq
import shutil
import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kinograph.core import streams as stream_module
from kinograph.core.cache import StreamCache, ValueCache
from kinograph.core.context import MODELS, CancelToken, ModelStore, RunContext, new_run_folder
from kinograph.core.devices import check_device_spec, choose_device, resolve_device
from kinograph.core.errors import MESSAGE_LIMIT, Cancelled, GraphError, KinographError, UpstreamFailed, shown
from kinograph.core.events import EventBus, Subscriber
from kinograph.core.fan_out import StreamFanOut
from kinograph.core.frames import FrameStream
from kinograph.core.graph import Graph, GraphSnapshot, Link
from kinograph.core.node import Node
from kinograph.core.params import path_fields, resolve_param_paths
from kinograph.core.paths import cache_dir
from kinograph.core.plan import Plan, make_plan
from kinograph.core.registry import Registry, get_registry
from kinograph.core.results import Failure, RunOptions, RunResult
from kinograph.core.streams import StageHooks, traced
from kinograph.core.validation import bypass_source, structure_problems, validate

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
        self.values = values or ValueCache()
        self.streams = streams or StreamCache(cache_dir() / "streams")
        self.models = models or MODELS

    def run(
        self,
        graph: Graph | GraphSnapshot,
        options: RunOptions | None = None,
        subscribers: Iterable[Subscriber] = (),
        cancel: CancelToken | None = None,
    ) -> RunResult:
        """Run a graph (a snapshot is taken first). Invalid graphs raise :class:`GraphError`."""
        options = options or RunOptions()
        check_device_spec(options.device)
        if isinstance(graph, Graph):
            snapshot = graph.snapshot()
            checked = graph
        else:
            snapshot = graph
            checked = Graph.from_json(snapshot.text, self.registry, snapshot.base_dir)
        # An unknown type may be an output node from a missing plugin: never skip it silently.
        problems = structure_problems(checked, unknown_types=options.targets is None)
        if problems:
            raise GraphError(problems)
        plan = make_plan(snapshot, self.registry, options.targets)
        if options.validate:
            problems = validate(checked, set(plan.order))
            if problems:
                raise GraphError(problems)
        if options.device != "auto" and options.device != "cpu":
            resolve_device(options.device)  # fail before anything runs
        run = _Run(self, snapshot, plan, options, EventBus(list(subscribers)), cancel or CancelToken())
        return run.execute()


class _Run(StreamFanOut):
    """One execution of a plan (internal)."""

    def __init__(
        self,
        session: Session,
        snapshot: GraphSnapshot,
        plan: Plan,
        options: RunOptions,
        bus: EventBus,
        cancel: CancelToken,
    ) -> None:
        self.session = session
        self.registry = session.registry
        self.snapshot = snapshot
        self.plan = plan
        self.options = options
        self.bus = bus
        self.cancel = cancel
        self.result = RunResult(plan=list(plan.order))
        self.values: dict[tuple[str, str], Any] = {}
        self.lock = threading.RLock()
        self.inputs: dict[str, list[Link]] = {n: [] for n in plan.order}
        self.consumers: dict[tuple[str, str], list[str]] = {}
        self.linked_outputs: dict[str, set[str]] = {}
        for link in snapshot.links:
            if link.target_node in self.inputs and link.source_node in self.inputs:
                self.inputs[link.target_node].append(link)
                self.linked_outputs.setdefault(link.source_node, set()).add(link.source_port)
        self.classes: dict[str, type[Node]] = {n: self._class(n) for n in plan.order}
        self.params: dict[str, Any] = {}
        self.keys: dict[str, str] = {}
        self.tees: dict[tuple[str, str], Any] = {}  # Tee per shared stream (see fan_out)
        self.tee_index: dict[tuple[tuple[str, str], str], int] = {}
        self.branch_sinks: dict[tuple[tuple[str, str], str], set[str]] = {}
        self.finished_sinks: set[str] = set()
        self.unbounded_tees = False
        self.wanted: dict[str, set[str]] = {}
        self.last_progress: dict[str, tuple[int, int | None]] = {}
        #: skipped node -> the failed node that caused it
        self.failed_root: dict[str, str] = {}
        self.open_streams: dict[str, int] = {}
        self.temp_root = new_run_folder()  # sweeps folders of killed runs first
        self._device: str | None = None
        self._streaming: dict[tuple[str, str], bool] = {}
        self.cancelled = False

    def _class(self, node_id: str) -> type[Node]:
        cls = self.registry.node(self.snapshot.nodes[node_id].type)
        if cls is None:
            raise GraphError([])  # validation reports unknown types first
        return cls

    # -- setup --

    def device(self, node_id: str) -> str:
        """The run's device, resolved when the first node asks (so torch loads only if needed)."""
        with self.lock:
            if self._device is None:
                choice = choose_device(self.options.device)
                self._device = self.result.device = choice.device
                if choice.note:
                    self.warn(node_id, choice.note)
        return self._device

    def prepare(self) -> None:
        """Resolve params and compute every node's content key (upstream first)."""
        for node_id in self.plan.order:
            node = self.snapshot.nodes[node_id]
            cls = self.classes[node_id]
            params = cls.Params.model_validate(node.params)
            key_params = node.params
            if path_fields(cls.Params):
                key_params = {**node.params, **resolve_param_paths(params, self.snapshot.base_dir)}
            self.params[node_id] = params
            upstream = sorted(
                (link.target_port, self.keys[link.source_node], link.source_port)
                for link in self.inputs[node_id]
            )
            # repr of JSON values is exact and cheaper than json.dumps; params keep the order the
            # model gives them, so equal content gives equal text (a reordering only misses).
            text = repr((node.type, cls.version, sorted(key_params.items()), cls.fingerprint(params), node.bypass, upstream))
            self.keys[node_id] = hashlib.sha256(text.encode()).hexdigest()[:40]
        self.result.keys = dict(self.keys)

    def port_key(self, node_id: str, port: str) -> str:
        return f"{self.keys[node_id]}-{port}"

    def is_stream(self, node_id: str, port: str) -> bool:
        key = (node_id, port)
        known = self._streaming.get(key)
        if known is None:
            out = self.classes[node_id].output(port)
            port_type = self.registry.ports.get(out.type) if out else None
            known = self._streaming[key] = bool(port_type and port_type.streaming)
        return known

    def cached(self, node_id: str, port: str) -> bool:
        if not self.options.use_cache:
            return False
        key = self.port_key(node_id, port)
        if self.is_stream(node_id, port):
            return self.session.streams.has(key)
        return key in self.session.values

    def take_cached(self, node_id: str, wanted: set[str]) -> bool:
        """Take the node's cached outputs now (pinned for this run), if all wanted ones are there.

        Taking them at planning time means a later eviction (RAM or disk budget) during the
        run cannot pull them away from under a node that relies on them.
        """
        if not all(self.cached(node_id, port) for port in wanted):
            return False
        self.load_cached(node_id)
        if all((node_id, port) in self.values for port in wanted):
            return True
        for port in wanted:  # partly evicted meanwhile: run it after all
            self.values.pop((node_id, port), None)
        self.result.outputs.pop(node_id, None)
        return False

    def decide(self) -> dict[str, str]:
        """Walk back from the targets: which nodes run, which come from the cache."""
        demand: dict[str, set[str]] = {
            t: {p.name for p in self.classes[t].outputs} for t in self.plan.targets
        }
        action: dict[str, str] = {}
        for node_id in reversed(self.plan.order):
            if node_id not in demand:
                continue
            cls = self.classes[node_id]
            node = self.snapshot.nodes[node_id]
            wanted = demand[node_id]
            if node.bypass:
                action[node_id] = "bypass"
                sources = {bypass_source(self.registry.ports, cls, cls.output(p).type) for p in wanted}
                links = [link for link in self.inputs[node_id] if link.target_port in sources]
            elif not cls.output_node and wanted and self.take_cached(node_id, wanted):
                action[node_id] = "cached"
                links = []
            else:
                action[node_id] = "run"
                links = self.inputs[node_id]
            self.wanted[node_id] = wanted
            for link in links:
                demand.setdefault(link.source_node, set()).add(link.source_port)
                self.consumers.setdefault((link.source_node, link.source_port), []).append(node_id)
        return action

    # -- execution --

    def execute(self) -> RunResult:
        started = time.perf_counter()
        try:
            self.prepare()
            action = self.decide()
            order = [n for n in self.plan.order if n in action]
            self.bus.emit(
                "run_started",
                plan=order,
                targets=list(self.plan.targets),
                actions={n: action[n] for n in order},
            )
            self.loop(order, action)
            if not self.cancelled:
                self.drain_targets()
        except Cancelled:
            self.cancelled = True
        finally:
            shutil.rmtree(self.temp_root, ignore_errors=True)
        self.close_open_streams()
        result = self.result
        result.total_seconds = time.perf_counter() - started
        if self.cancelled:
            result.status = "cancelled"
            self.bus.emit("run_cancelled")
        elif result.failures:
            result.status = "failed"
        self.bus.emit("run_finished", summary=result.summary())
        return result

    def loop(self, order: list[str], action: dict[str, str]) -> None:
        """Run nodes as their inputs become ready; the sinks pulling one stream start together."""
        position = {n: i for i, n in enumerate(order)}
        waiting = {n: len({link.source_node for link in self.links_in(n, action)}) for n in order}
        dependents: dict[str, list[str]] = {}
        for node_id in order:
            for source in {link.source_node for link in self.links_in(node_id, action)}:
                dependents.setdefault(source, []).append(node_id)
        ready = [(position[n], n) for n in order if waiting[n] == 0]
        heapq.heapify(ready)
        groups = self.sink_groups(action)
        parked: dict[frozenset[str], set[str]] = {}

        def complete(done: Iterable[str]) -> None:
            for node_id in done:
                for dependent in dependents.get(node_id, []):
                    waiting[dependent] -= 1
                    if waiting[dependent] == 0:
                        heapq.heappush(ready, (position[dependent], dependent))

        while ready or parked:
            if self.cancelled or self.cancel.cancelled:
                raise Cancelled("run cancelled")
            if not ready:
                # Sinks of one stream that cannot all start together (one needs another's
                # result): start what is parked, with unbounded buffers so nothing deadlocks.
                self.unbind_tees()
                group = next(iter(parked))
                complete(self.run_group(sorted(parked.pop(group), key=position.__getitem__), action))
                continue
            _, node_id = heapq.heappop(ready)
            group = groups.get(node_id)
            if group is None:
                self.step_guarded(node_id, action[node_id], threaded=False)
                complete([node_id])
                continue
            members = parked.setdefault(group, set())
            members.add(node_id)
            if members >= group:
                parked.pop(group)
                complete(self.run_group(sorted(members, key=position.__getitem__), action))

    def links_in(self, node_id: str, action: dict[str, str]) -> list[Link]:
        if action[node_id] == "cached":
            return []
        return [link for link in self.inputs[node_id] if link.source_node in action]

    def run_group(self, members: list[str], action: dict[str, str]) -> list[str]:
        if len(members) == 1:
            self.step_guarded(members[0], action[members[0]], threaded=False)
            return members
        threads = [
            threading.Thread(target=self.step_guarded, args=(m, action[m]), name=f"kinograph-{m}", daemon=True)
            for m in members
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.cancelled:
            raise Cancelled("run cancelled")
        return members

    def step_guarded(self, node_id: str, what: str, threaded: bool = True) -> None:
        try:
            self.step(node_id, what)
        except Cancelled:
            self.cancelled = True
            self.cancel.cancel()
            if not threaded:
                raise
        finally:
            self.sink_done(node_id)

    def blocked_by(self, node_id: str) -> str | None:
        """The failed node (possibly further upstream) that this node cannot run without."""
        for link in self.inputs[node_id]:
            state = self.result.states.get(link.source_node)
            if state in ("failed", "skipped") and (link.source_node, link.source_port) not in self.values:
                return self.failed_root.get(link.source_node, link.source_node)
        return None

    def step(self, node_id: str, what: str) -> None:
        node = self.snapshot.nodes[node_id]
        cls = self.classes[node_id]
        if what == "cached":  # outputs were taken in take_cached
            self.set_state(node_id, "cached")
            self.bus.emit("node_cached", node_id, type=node.type)
            return
        blocker = self.blocked_by(node_id)
        if blocker is not None:
            self.failed_root[node_id] = blocker
            self.skip(node_id, f"upstream node {blocker!r} failed")
            return
        if what == "bypass":
            for out in cls.outputs:
                source = bypass_source(self.registry.ports, cls, out.type)
                link = next((lk for lk in self.inputs[node_id] if lk.target_port == source), None)
                if link is not None:
                    self.values[(node_id, out.name)] = self.input_value(link)
            self.set_state(node_id, "bypassed")
            self.bus.emit("node_skipped", node_id, because="bypassed")
            return
        self.run_node(node_id, node.type, cls)

    def run_node(self, node_id: str, type_id: str, cls: type[Node]) -> None:
        inputs = {link.target_port: self.input_value(link) for link in self.inputs[node_id]}
        ctx = RunContext(
            node_id,
            device=lambda: self.device(node_id),
            models=self.session.models,
            cancel=self.cancel,
            on_progress=lambda done, total: self.progress(node_id, done, total),
            on_warning=lambda message: self.warn(node_id, message),
            temp_root=self.temp_root,
            graph_json=self.snapshot.text,
            wanted_outputs=self.wanted.get(node_id),
        )
        self.set_state(node_id, "running")
        self.bus.emit("node_started", node_id, type=type_id)
        # Time spent pulling upstream streams belongs to those stages (see streams.traced).
        pulls = any(isinstance(value, FrameStream) for value in inputs.values())
        if pulls:
            saved = stream_module._child_time()
            stream_module._local.child = 0.0
        began = time.perf_counter()
        try:
            outputs = cls(self.params[node_id]).run(ctx, **inputs)
            self.check_outputs(node_id, cls, outputs)
        except Cancelled:
            raise
        except UpstreamFailed as exc:
            self.failed_root[node_id] = self.failed_root.get(exc.node_id, exc.node_id)
            self.skip(node_id, f"upstream node {self.failed_root[node_id]!r} failed")
            return
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                self.cancel.cancel()
                raise Cancelled("run cancelled") from None
            self.fail(node_id, exc)
            return
        finally:
            elapsed = own = time.perf_counter() - began
            if pulls:
                own = elapsed - stream_module._child_time()
                stream_module._local.child = saved + elapsed
        streams = 0
        for out in cls.outputs:
            if out.name not in outputs:
                continue
            value = outputs[out.name]
            if isinstance(value, FrameStream) and self.is_stream(node_id, out.name):
                self.values[(node_id, out.name)] = self.wrap_stream(node_id, out.name, value)
                streams += 1
            else:
                self.values[(node_id, out.name)] = value
                if not cls.output_node and self.options.use_cache:
                    self.session.values.put(self.port_key(node_id, out.name), value)
                self.result.outputs.setdefault(node_id, {})[out.name] = value
        if streams:
            self.open_streams[node_id] = streams
            self.result.seconds[node_id] = own
        else:
            self.finish(node_id, own)

    def check_outputs(self, node_id: str, cls: type[Node], outputs: Any) -> None:
        if not isinstance(outputs, dict):
            raise TypeError(f"run() returned {type(outputs).__name__}, expected a dict of outputs")
        needed = self.linked_outputs.get(node_id, set())
        missing = [name for name in needed if name not in outputs]
        if missing:
            raise TypeError(f"run() did not return output(s) {', '.join(sorted(missing))}")

    def wrap_stream(self, node_id: str, port: str, stream: FrameStream) -> FrameStream:
        def on_finished(seconds: float) -> None:
            with self.lock:
                self.open_streams[node_id] -= 1
                self.result.seconds[node_id] = self.result.seconds.get(node_id, 0.0) + seconds
                if self.open_streams[node_id] == 0 and self.result.states.get(node_id) == "running":
                    del self.open_streams[node_id]
                    self.finish(node_id, self.result.seconds[node_id])

        def on_failed(exc: BaseException) -> None:
            with self.lock:
                self.open_streams.pop(node_id, None)
                self.fail(node_id, exc)

        hooks = StageHooks(
            lambda done, total: self.progress(node_id, done, total),
            on_finished,
            on_failed,
        )
        stream = traced(stream, node_id, self.cancel, hooks)
        consumers = self.consumers.get((node_id, port), [])
        if self.options.use_cache and self.should_record(node_id, port, consumers):
            stream = self.session.streams.record(
                self.port_key(node_id, port), stream, warn=lambda message: self.warn(node_id, message)
            )
        return stream

    def should_record(self, node_id: str, port: str, consumers: list[str]) -> bool:
        mode = self.options.stream_cache
        if mode == "all":
            return True
        if mode != "outputs":
            return False
        return node_id in self.plan.targets or any(self.classes[c].output_node for c in consumers)

    def input_value(self, link: Link) -> Any:
        key = (link.source_node, link.source_port)
        value = self.values[key]
        if isinstance(value, FrameStream):
            running = [c for c in self.consumers.get(key, []) if self.result.states.get(c) != "cached"]
            if len(running) > 1:
                value = self.shared_branch(key, value, running, link.target_node)
        source_type = self.classes[link.source_node].output(link.source_port).type
        target_type = self.classes[link.target_node].input(link.target_port).type
        if source_type == target_type:
            return value
        return self.registry.ports.convert(value, source_type, target_type)

    def load_cached(self, node_id: str) -> None:
        cls = self.classes[node_id]
        for out in cls.outputs:
            key = self.port_key(node_id, out.name)
            if self.is_stream(node_id, out.name):
                stream = self.session.streams.replay(key, warn=lambda message: self.warn(node_id, message))
                if stream is not None:
                    self.values[(node_id, out.name)] = stream
            else:
                found, value = self.session.values.get(key)
                if found:
                    self.values[(node_id, out.name)] = value
                    self.result.outputs.setdefault(node_id, {})[out.name] = value

    def drain_targets(self) -> None:
        """Pull stream outputs that were asked for but feed no running node (previews)."""
        for target in self.plan.targets:
            for out in self.classes[target].outputs:
                value = self.values.get((target, out.name))
                consumed = any(
                    self.result.states.get(c) not in (None, "cached")
                    for c in self.consumers.get((target, out.name), [])
                )
                if isinstance(value, FrameStream) and not consumed and not value._used:
                    try:
                        for _ in value:
                            pass
                    except UpstreamFailed:
                        pass

    def close_open_streams(self) -> None:
        for node_id in list(self.open_streams):
            if self.result.states.get(node_id) == "running":
                if self.cancelled:
                    self.set_state(node_id, "cancelled")
                else:
                    self.finish(node_id, self.result.seconds.get(node_id, 0.0), partial=True)
        self.open_streams.clear()

    # -- bookkeeping --

    def set_state(self, node_id: str, state: str) -> None:
        self.result.states[node_id] = state

    def finish(self, node_id: str, seconds: float, partial: bool = False) -> None:
        self.set_state(node_id, "done")
        self.result.seconds[node_id] = seconds
        data: dict[str, Any] = {"seconds": round(seconds, 6)}
        if partial:
            data["partial"] = True
        self.bus.emit("node_finished", node_id, **data)

    def fail(self, node_id: str, exc: BaseException) -> None:
        if isinstance(exc, KinographError):
            message = str(exc)  # escaped and clipped already
        elif isinstance(exc, OSError) and exc.filename:
            # Files are the user's business: say which one, not which errno.
            message = shown(f"cannot access {exc.filename}: {exc.strerror or exc}", MESSAGE_LIMIT)
        else:
            message = shown(f"{type(exc).__name__}: {exc}", MESSAGE_LIMIT)
        detail = "".join(traceback.format_exception(exc))
        self.set_state(node_id, "failed")
        self.result.failures.append(Failure(node_id, self.snapshot.nodes[node_id].type, message, detail))
        self.bus.emit("node_failed", node_id, message=message, traceback=detail)

    def skip(self, node_id: str, because: str) -> None:
        self.set_state(node_id, "skipped")
        self.bus.emit("node_skipped", node_id, because=because)

    def progress(self, node_id: str, done: int, total: int | None) -> None:
        # A stream node may report what its traced stream reports too: say it once.
        if self.last_progress.get(node_id) != (done, total):
            self.last_progress[node_id] = (done, total)
            self.bus.emit("node_progress", node_id, done=done, total=total)

    def warn(self, node_id: str, message: str) -> None:
        message = shown(message, MESSAGE_LIMIT)  # a node may echo what a graph holds
        self.result.warnings.append((node_id, message))
        self.bus.emit("node_warning", node_id, message=message)


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
