"""The executor: carries out a :class:`RunPlan`.

Value nodes run in dependency order, one at a time. A node that returns a :class:`FrameStream`
returns at once; its work happens as the sinks pull, accounted to it by
:func:`kinograph.core.streams.traced`. Sinks that read one stream start together on their own
threads and pull in step (:class:`kinograph.core.fan_out.FanOut`). A node that fails takes only
what depends on it down; what the run did goes to the :class:`Recorder`.
"""

from __future__ import annotations

import heapq
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kinograph.core.cache import StreamCache, ValueCache
from kinograph.core.context import (
    CancelToken,
    ModelStore,
    RunContext,
    new_run_folder,
    sweep_stale_run_folders_once,
)
from kinograph.core.devices import choose_device
from kinograph.core.errors import Cancelled, NodeFailure, UpstreamFailed, shown
from kinograph.core.fan_out import FanOut
from kinograph.core.frames import FrameStream
from kinograph.core.graph import GraphSnapshot, Link
from kinograph.core.links import port_types
from kinograph.core.node import Node
from kinograph.core.params import NodeParams, resolve_param_paths
from kinograph.core.paths import output_problem
from kinograph.core.ports import PortTypeRegistry
from kinograph.core.recorder import Recorder
from kinograph.core.results import NodeState, RunOptions, RunResult, RunStatus
from kinograph.core.run_plan import Action, PortRef, RunPlan
from kinograph.core.streams import OwnTime, StageHooks, WallTime, traced
from kinograph.core.validation import bypass_source, written_places


class Caches:
    """What a run reads and fills: value and stream caches, and loaded models."""

    def __init__(self, values: ValueCache, streams: StreamCache, models: ModelStore) -> None:
        self.values = values
        self.streams = streams
        self.models = models


class Executor:
    """One execution of a plan."""

    def __init__(
        self,
        plan: RunPlan,
        snapshot: GraphSnapshot,
        ports: PortTypeRegistry,
        caches: Caches,
        options: RunOptions,
        recorder: Recorder,
        cancel: CancelToken,
        given: dict[PortRef, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.snapshot = snapshot
        self.ports = ports
        self.caches = caches
        self.options = options
        self.recorder = recorder
        self.result: RunResult = recorder.result
        self.cancel = cancel
        self.fan_out = FanOut(plan, options.tee_buffer)
        #: every output made or taken in this run; ``given`` holds unchanged upstream values
        #: that an incremental re-run feeds to the nodes it runs
        self.values: dict[PortRef, Any] = dict(given or {})
        #: skipped node -> the failed node that caused it
        self.failed_root: dict[str, str] = {}
        #: stream node -> its output streams not finished yet
        self.open_streams: dict[str, int] = {}
        self.pulled: set[str] = set()
        self.cancelled = False
        self.lock = threading.RLock()
        self._device: str | None = None
        self.temp_root: Path | None = None

    # -- the run --

    def execute(self) -> RunResult:
        started = time.perf_counter()
        sweep_stale_run_folders_once()  # killed runs' temporary folders, even if this run makes none
        try:
            self.take_cached_outputs()
            listened = self.recorder.bus.listened  # a silent run builds no event data
            self.recorder.run_started(**({
                "plan": list(self.plan.order),
                "targets": list(self.plan.targets),
                "actions": {n: self.plan.actions[n] for n in self.plan.order},
            } if listened else {}))
            self.loop()
            if not self.cancelled:
                self.drain_targets()
        except Cancelled:
            self.cancelled = True
        finally:
            if self.temp_root is not None:
                shutil.rmtree(self.temp_root, ignore_errors=True)
        self.close_open_streams()
        result = self.result
        result.total_seconds = time.perf_counter() - started
        result.buffer_peaks = self.fan_out.peaks()
        if self.cancelled:
            result.status = RunStatus.CANCELLED
            self.recorder.bus.emit("run_cancelled")
        elif result.failures:
            result.status = RunStatus.FAILED
        if self.recorder.bus.listened:
            self.recorder.bus.emit("run_finished", summary=result.summary())
        return result

    def take_cached_outputs(self) -> None:
        for node_id, outputs in self.plan.cached.items():
            for port, value in outputs.items():
                self.values[(node_id, port)] = value
                if not self.plan.is_stream(node_id, port):
                    self.result.outputs.setdefault(node_id, {})[port] = value

    def loop(self) -> None:
        """Run nodes as their inputs become ready; the sinks pulling one stream start together."""
        order = self.plan.order
        if not self.plan.sink_groups:
            # Nothing must start together: the plan's order (dependencies first) is the run's.
            for node_id in order:
                if self.cancelled or self.cancel.cancelled:
                    raise Cancelled("run cancelled")
                self.step(node_id)
            return
        position = {n: i for i, n in enumerate(order)}
        sources = {n: {link.source_node for link in self.plan.links_followed(n)} for n in order}
        waiting = {n: len(sources[n]) for n in order}
        dependents: dict[str, list[str]] = {}
        for node_id in order:
            for source in sources[node_id]:
                dependents.setdefault(source, []).append(node_id)
        ready = [(position[n], n) for n in order if waiting[n] == 0]
        heapq.heapify(ready)
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
                self.fan_out.unbind()
                group = next(iter(parked))
                complete(self.run_together(sorted(parked.pop(group), key=position.__getitem__)))
                continue
            _, node_id = heapq.heappop(ready)
            group = self.plan.sink_groups.get(node_id)
            if group is None:
                self.step(node_id)
                complete([node_id])
                continue
            members = parked.setdefault(group, set())
            members.add(node_id)
            if members >= group:
                parked.pop(group)
                complete(self.run_together(sorted(members, key=position.__getitem__)))

    def run_together(self, members: list[str]) -> list[str]:
        """Run sinks of one stream at once, each on its own thread, so they pull in step."""
        if len(members) == 1:
            self.step(members[0])
            return members
        threads = [
            threading.Thread(target=self.step, args=(m,), kwargs={"threaded": True}, name=f"kinograph-{m}", daemon=True)
            for m in members
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.cancelled:
            raise Cancelled("run cancelled")
        return members

    def step(self, node_id: str, threaded: bool = False) -> None:
        """Take one node through its action; a sink that stops releases its stream branches."""
        try:
            action = self.plan.actions[node_id]
            if action is Action.RUN and not self.recorder.down:  # nothing upstream failed
                self.run_node(node_id)
                return
            if action is Action.CACHED:  # outputs were taken when the run was planned
                self.recorder.cached(node_id)
                return
            blocker = self.blocked_by(node_id)
            if blocker is not None:
                self.failed_root[node_id] = blocker
                self.recorder.skipped(node_id, f"upstream node {blocker!r} failed")
            elif action is Action.BYPASS:
                self.pass_through(node_id)
            else:
                self.run_node(node_id)
        except Cancelled:
            self.cancelled = True
            self.cancel.cancel()
            if not threaded:
                raise
        finally:
            if self.plan.branch_sinks:  # some stream is shared in this run
                self.fan_out.sink_done(node_id)

    def blocked_by(self, node_id: str) -> str | None:
        """The failed node (possibly further upstream) that this node cannot run without."""
        for link in self.plan.inputs[node_id]:
            state = self.recorder.state(link.source_node)
            if state in (NodeState.FAILED, NodeState.SKIPPED) and (link.source_node, link.source_port) not in self.values:
                return self.failed_root.get(link.source_node, link.source_node)
        return None

    def pass_through(self, node_id: str) -> None:
        cls = self.plan.classes[node_id]
        for out in cls.outputs:
            source = bypass_source(self.ports, cls, out.type)
            link = next((lk for lk in self.plan.inputs[node_id] if lk.target_port == source), None)
            if link is not None:
                self.values[(node_id, out.name)] = self.input_value(link)
        self.recorder.bypassed(node_id)

    def run_node(self, node_id: str) -> None:
        cls = self.plan.classes[node_id]
        inputs: dict[str, Any] = {}
        linked: dict[str, tuple[Link, Any]] = {}  # params shown as ports, with what their links give
        exposed = self.snapshot.nodes[node_id].exposed
        reads_streams = False
        for link in self.plan.inputs[node_id]:
            value = self.input_value(link)
            if exposed and link.target_port in exposed and link.target_port not in port_types(cls)[0]:
                linked[link.target_port] = (link, value)
            else:
                inputs[link.target_port] = value
                reads_streams = reads_streams or isinstance(value, FrameStream)
        ctx = self.context(node_id)
        self.recorder.started(node_id)
        # Time spent pulling upstream streams belongs to those stages; a node that reads none
        # cannot spend any there, and its wall time is its own.
        clock = OwnTime() if reads_streams else WallTime()
        try:
            params = self.plan.params[node_id]
            if linked:
                params = with_linked_values(self.plan, node_id, params, linked, self.snapshot.base_dir)
            outputs = cls(params).run(ctx, **inputs)
            linked_outputs = self.plan.linked_outputs.get(node_id)
            if type(outputs) is not dict or (linked_outputs and not linked_outputs <= outputs.keys()):
                self.check_outputs(node_id, outputs)
        except Cancelled:
            clock.abandon()
            raise
        except UpstreamFailed as exc:
            clock.abandon()
            self.failed_root[node_id] = self.failed_root.get(exc.node_id, exc.node_id)
            self.recorder.skipped(node_id, f"upstream node {self.failed_root[node_id]!r} failed")
            return
        except BaseException as exc:
            clock.abandon()
            if isinstance(exc, KeyboardInterrupt):
                self.cancel.cancel()
                raise Cancelled("run cancelled") from None
            self.recorder.failed(node_id, exc)
            return
        own = clock.stop()
        self.keep_outputs(node_id, cls, outputs, own)

    def context(self, node_id: str) -> RunContext:
        return RunContext.in_run(self, node_id, self.plan.wanted.get(node_id))

    # -- what every node's context shares (kinograph.core.context.RunServices) --

    @property
    def models(self) -> ModelStore:
        return self.caches.models

    def progress(self, node_id: str, done: int, total: int | None) -> None:
        self.recorder.progress(node_id, done, total)

    def warn(self, node_id: str, message: str) -> None:
        self.recorder.warn(node_id, message)

    def temp_root(self) -> Path:
        return self.run_folder()

    def graph_json(self) -> str:
        return self.snapshot.text  # made only if a writer asks

    def run_folder(self) -> Path:
        """The run's temporary folder, made when a node first asks (most runs never do)."""
        with self.lock:
            if self.temp_root is None:
                self.temp_root = new_run_folder()  # sweeps folders of killed runs first
        return self.temp_root

    def device(self, node_id: str) -> str:
        """The run's device, resolved when the first node asks (so torch loads only if needed)."""
        with self.lock:
            if self._device is None:
                choice = choose_device(self.options.device)
                self._device = self.result.device = choice.device
                if choice.note:
                    self.recorder.warn(node_id, choice.note)
        return self._device

    def check_outputs(self, node_id: str, outputs: Any) -> None:
        if not isinstance(outputs, dict):
            raise TypeError(f"run() returned {type(outputs).__name__}, expected a dict of outputs")
        linked = self.plan.linked_outputs.get(node_id)
        if linked and not linked <= outputs.keys():
            missing = [name for name in linked if name not in outputs]
            raise TypeError(f"run() did not return output(s) {', '.join(sorted(missing))}")

    def keep_outputs(self, node_id: str, cls: type[Node], outputs: dict[str, Any], own: float) -> None:
        streams = 0
        cache = self.options.use_cache and not cls.output_node
        kept: dict[str, Any] | None = None
        for out in cls.outputs:
            name = out.name
            if name not in outputs:
                continue
            value = outputs[name]
            if isinstance(value, FrameStream) and self.plan.is_stream(node_id, name):
                self.values[(node_id, name)] = self.wrap_stream(node_id, name, value)
                streams += 1
                continue
            self.values[(node_id, name)] = value
            if cache:
                self.caches.values.put(self.plan.port_key(node_id, name), value)
            if kept is None:
                kept = self.result.outputs.setdefault(node_id, {})
            kept[name] = value
        if streams:  # it finishes when its streams are read to the end
            with self.lock:
                self.open_streams[node_id] = streams
            self.recorder.add_seconds(node_id, own)
        else:
            self.recorder.finished(node_id, own)

    # -- streams --

    def wrap_stream(self, node_id: str, port: str, stream: FrameStream) -> FrameStream:
        def on_finished(seconds: float) -> None:
            with self.lock:
                self.open_streams[node_id] -= 1
                total = self.recorder.add_seconds(node_id, seconds)
                if self.open_streams[node_id] == 0 and self.recorder.state(node_id) is NodeState.RUNNING:
                    del self.open_streams[node_id]
                    self.recorder.finished(node_id, total)

        def on_failed(exc: BaseException) -> None:
            with self.lock:
                self.open_streams.pop(node_id, None)
                self.recorder.failed(node_id, exc)

        def on_pulled() -> None:
            with self.lock:
                self.pulled.add(node_id)

        hooks = StageHooks(
            lambda done, total: self.recorder.progress(node_id, done, total), on_finished, on_failed, on_pulled
        )
        stream = traced(stream, node_id, self.cancel, hooks)
        if self.options.use_cache and self.should_record(node_id, port):
            stream = self.caches.streams.record(
                self.plan.port_key(node_id, port), stream, warn=lambda message: self.recorder.warn(node_id, message)
            )
        return stream

    def should_record(self, node_id: str, port: str) -> bool:
        mode = self.options.stream_cache
        if mode == "all":
            return True
        if mode != "outputs":
            return False
        consumers = self.plan.consumers.get((node_id, port), [])
        return node_id in self.plan.targets or any(self.plan.classes[c].output_node for c in consumers)

    def input_value(self, link: Link) -> Any:
        output = (link.source_node, link.source_port)
        value = self.values[output]
        if isinstance(value, FrameStream):
            readers = [c for c in self.plan.consumers.get(output, []) if self.plan.actions.get(c) is not Action.CACHED]
            if len(readers) > 1:
                value = self.fan_out.branch(output, value, readers, link.target_node)
        classes = self.plan.classes
        source_type = port_types(classes[link.source_node])[1][link.source_port]
        target_type = port_types(classes[link.target_node])[0].get(link.target_port)
        if target_type is None:  # a param shown as a port
            param_port = self.snapshot.input_port(link.target_node, link.target_port)
            target_type = param_port.type if param_port is not None else source_type
        if source_type == target_type:
            return value
        return self.ports.convert(value, source_type, target_type)

    def drain_targets(self) -> None:
        """Pull stream outputs that were asked for but feed no running node (previews)."""
        for target in self.plan.targets:
            for out in self.plan.classes[target].outputs:
                value = self.values.get((target, out.name))
                consumed = any(
                    self.recorder.state(c) not in (None, NodeState.CACHED)
                    for c in self.plan.consumers.get((target, out.name), [])
                )
                if isinstance(value, FrameStream) and not consumed and not value.used:
                    try:
                        for _ in value:
                            pass
                    except UpstreamFailed:
                        pass

    def close_open_streams(self) -> None:
        """Streams not read to their end: cancelled, never read (skipped), or read in part."""
        for node_id in list(self.open_streams):
            if self.recorder.state(node_id) is not NodeState.RUNNING:
                continue
            if self.cancelled:
                self.recorder.cancelled(node_id)
            elif node_id not in self.pulled:
                self.recorder.skipped(node_id, self.never_read_because(node_id))
            else:
                self.recorder.finished(node_id, self.result.seconds.get(node_id, 0.0), partial=True)
        self.open_streams.clear()

    def never_read_because(self, node_id: str) -> str:
        readers = [c for out in self.plan.classes[node_id].outputs for c in self.plan.consumers.get((node_id, out.name), [])]
        failed = [r for r in readers if self.recorder.state(r) in (NodeState.FAILED, NodeState.SKIPPED)]
        if failed:
            return f"its frames were never read: {failed[0]!r} stopped first"
        return "its frames were never read"



def with_linked_values(
    plan: RunPlan, node_id: str, params: NodeParams, linked: dict[str, tuple[Link, Any]], base_dir: Path | None
) -> NodeParams:
    """The node's params with the values its links give, checked like any params.

    The checks that need these values run here, before the node writes anything: the params
    model, input paths (no FIFOs or devices), output paths (never a folder of the user's), and
    the node's own ``check_inputs``.
    """
    cls = plan.classes[node_id]
    data = params.model_dump()
    data.update({name: value for name, (_, value) in linked.items()})
    try:
        params = cls.Params.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error.get("loc") else next(iter(linked))
        source = linked[name][0].source if name in linked else "a link"
        raise NodeFailure(f"param {name!r} from {source}: {error['msg']} (got {shown(data.get(name))})") from None
    resolve_param_paths(params, base_dir)
    problems = [
        f"param {name!r}: {problem}"
        for name, path, folder in written_places(cls, params)
        if name in linked and (problem := output_problem(Path(path), getattr(params, "if_exists", "overwrite"), folder=folder))
    ]
    info: dict[str, dict[str, Any]] = {}
    for link in plan.inputs[node_id]:
        upstream = plan.classes[link.source_node]
        if link.target_port not in linked:
            info[link.target_port] = {**upstream.output_info(plan.params[link.source_node], link.source_port),
                                      "node": link.source_node, "type": upstream.type_id}
    problems += [str(message) for message in cls.check_inputs(params, info)]
    if problems:
        raise NodeFailure("; ".join(problems))
    return params
