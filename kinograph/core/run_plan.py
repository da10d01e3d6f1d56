"""The run plan: everything a run decides before any node runs.

Built from a validated snapshot, the registry, the run options and a cache lookup, it says which
nodes take part and in what order, each node's params and content key, whether it runs, comes
from the cache or is bypassed, who consumes each output, and which sinks must pull one stream
together. Building it runs no node, so tests check it directly.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kinograph.core.graph import GraphSnapshot, Link
from kinograph.core.node import Node
from kinograph.core.params import NodeParams, path_fields, resolve_param_paths
from kinograph.core.plan import Plan, make_plan
from kinograph.core.registry import Registry
from kinograph.core.results import RunOptions
from kinograph.core.validation import bypass_source

#: An output port: (node id, port name).
PortRef = tuple[str, str]
#: Looks for a node's outputs in the caches: (node id, {port: (content key, is a stream)}) ->
#: the outputs found (taken for this run, so a later eviction cannot pull them away).
CacheLookup = Callable[[str, dict[str, tuple[str, bool]]], dict[str, Any]]


class ContentKeys(Mapping[str, str]):
    """A plan's content keys, computed together the first time any is asked for.

    Only caches need them (and the editor, to tell a changed preview), so a run without a cache
    never pays for them. A copy or a pickle is a plain dict.
    """

    def __init__(self, compute: Callable[[], dict[str, str]]) -> None:
        self._compute: Callable[[], dict[str, str]] | None = compute
        self._keys: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._keys is None:
            assert self._compute is not None
            self._keys, self._compute = self._compute(), None
        return self._keys

    def __getitem__(self, node_id: str) -> str:
        keys = self._keys  # asked twice per node by a run with a cache: keep it short
        return (keys if keys is not None else self._all())[node_id]

    def __setitem__(self, node_id: str, key: str) -> None:
        self._all()[node_id] = key

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles and copies (copy, deepcopy, dataclasses.asdict) are plain dicts.
        return (dict, (dict(self._all()),))

    def __repr__(self) -> str:
        return f"ContentKeys({self._all()!r})" if self._keys is not None else "ContentKeys(<not computed yet>)"


class Action(StrEnum):
    """What the run does with a node."""

    RUN = "run"
    CACHED = "cached"
    BYPASS = "bypass"


@dataclass
class RunPlan:
    """What one run will do. Node ids in :attr:`order` take part; the rest of the graph does not."""

    order: tuple[str, ...]
    targets: tuple[str, ...]
    actions: dict[str, Action]
    classes: dict[str, type[Node]]
    params: dict[str, NodeParams]
    #: content key per node: type, version, params, fingerprint, bypass and upstream keys
    #: (a :class:`ContentKeys`, computed when first asked for, or a plain dict)
    keys: ContentKeys | dict[str, str]
    #: links into each needed node (all of them, whatever the upstream's action)
    inputs: dict[str, list[Link]]
    #: who reads each output, in graph order
    consumers: dict[PortRef, list[str]] = field(default_factory=dict)
    #: the outputs each node must produce
    wanted: dict[str, set[str]] = field(default_factory=dict)
    #: outputs with a link to a node of the plan (run() must return them)
    linked_outputs: dict[str, set[str]] = field(default_factory=dict)
    #: output ports whose type streams frames
    streaming: set[PortRef] = field(default_factory=set)
    #: outputs taken from the caches, per cached node
    cached: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: sink -> the sinks that must start with it (they pull one stream in step)
    sink_groups: dict[str, frozenset[str]] = field(default_factory=dict)
    #: (shared output, reader) -> the sinks that end up pulling that reader's branch
    branch_sinks: dict[tuple[PortRef, str], frozenset[str]] = field(default_factory=dict)

    def port_key(self, node_id: str, port: str) -> str:
        return f"{self.keys[node_id]}-{port}"

    def is_stream(self, node_id: str, port: str) -> bool:
        return (node_id, port) in self.streaming

    def links_followed(self, node_id: str) -> list[Link]:
        """The links this run follows into ``node_id`` (none for a cached node)."""
        if self.actions[node_id] is Action.CACHED:
            return []
        return [link for link in self.inputs[node_id] if link.source_node in self.actions]

    def readers(self, output: PortRef) -> list[str]:
        """The nodes of this run that read ``output`` and are not served by the cache."""
        return [c for c in self.consumers.get(output, []) if self.actions.get(c) in (Action.RUN, Action.BYPASS)]


def plan_run(
    snapshot: GraphSnapshot,
    registry: Registry,
    options: RunOptions,
    lookup: CacheLookup | None = None,
    order: Plan | None = None,
    parsed: dict[str, Any] | None = None,
) -> RunPlan:
    """Decide what a run of ``snapshot`` does; ``lookup`` serves cached outputs (None: no cache).

    ``order`` is the graph order :func:`make_plan` gives and ``parsed`` each node's params read
    by its model (:func:`kinograph.core.validation.parse_params`), when the caller has them.
    """
    order = order or make_plan(snapshot, registry, options.targets)
    needed = set(order.order)
    inputs: dict[str, list[Link]] = {n: [] for n in order.order}
    linked_outputs: dict[str, set[str]] = {}
    for link in snapshot.links:
        if link.target_node in needed and link.source_node in needed:
            inputs[link.target_node].append(link)
            linked_outputs.setdefault(link.source_node, set()).add(link.source_port)
    classes = {n: _class_of(snapshot, n) for n in order.order}
    keys = ContentKeys(lambda: _all_keys(plan, snapshot))
    plan = RunPlan(order.order, order.targets, {}, classes, {}, keys, inputs, linked_outputs=linked_outputs)
    streaming: dict[type[Node], list[str]] = {}
    for node_id, cls in classes.items():
        if cls not in streaming:
            streaming[cls] = [out.name for out in cls.outputs if _streams(registry, out.type)]
        for name in streaming[cls]:
            plan.streaming.add((node_id, name))
    parsed = parsed or {}
    for node_id in order.order:
        resolve_params(plan, snapshot, node_id, parsed.get(node_id))
    _decide(plan, snapshot, registry, lookup if options.use_cache else None)
    if len(plan.actions) < len(plan.order):
        plan.order = tuple(n for n in plan.order if n in plan.actions)
    group_sinks(plan)
    return plan


def _streams(registry: Registry, type_name: str) -> bool:
    port_type = registry.ports.get(type_name)
    return port_type is not None and port_type.streaming


def _class_of(snapshot: GraphSnapshot, node_id: str) -> type[Node]:
    cls = snapshot.node_class(node_id)
    if cls is None:  # validation reports unknown types before a plan is made
        raise LookupError(f"node {node_id!r} has an unknown type {snapshot.nodes[node_id].type!r}")
    return cls


def resolve_params(plan: RunPlan, snapshot: GraphSnapshot, node_id: str, params: Any = None) -> None:
    """Put one node's params into the plan, read by its model (unless ``params`` are) and with
    their paths resolved."""
    cls = plan.classes[node_id]
    if not isinstance(params, cls.Params):
        params = cls.Params.model_validate(snapshot.nodes[node_id].params)
    if path_fields(cls.Params):
        resolve_param_paths(params, snapshot.base_dir)
    plan.params[node_id] = params


def _all_keys(plan: RunPlan, snapshot: GraphSnapshot) -> dict[str, str]:
    keys: dict[str, str] = {}
    for node_id in plan.inputs:  # every needed node, upstream first
        keys[node_id] = content_key(plan, snapshot, node_id, keys)
    return keys


def content_key(plan: RunPlan, snapshot: GraphSnapshot, node_id: str, keys: Mapping[str, str]) -> str:
    """One node's content key from its params in the plan and its upstream's ``keys``: node
    type, version, params (paths resolved), fingerprint, bypass and upstream keys."""
    node = snapshot.nodes[node_id]
    cls = plan.classes[node_id]
    params = plan.params[node_id]
    key_params = node.params
    paths = path_fields(cls.Params)
    if paths:
        resolved = {name: value for name in paths if isinstance(value := getattr(params, name), str) and value}
        key_params = {**node.params, **resolved}
    upstream = [(link.target_port, keys[link.source_node], link.source_port) for link in plan.inputs[node_id]]
    if len(upstream) > 1:
        upstream.sort()
    fingerprint = cls.fingerprint(params) if has_fingerprint(cls) else None
    content = (node.type, cls.version, sorted(key_params.items()), fingerprint, node.bypass, upstream)
    try:
        # marshal version 2 writes values only (no references to repeated objects), so equal
        # content gives equal bytes; it is several times cheaper than repr or json.dumps.
        data = marshal.dumps(content, 2)
    except ValueError:  # a plugin's fingerprint that is not a plain value
        data = repr(content).encode()
    return hashlib.blake2b(data, digest_size=20).hexdigest()  # 40 hex digits


@functools.cache
def has_fingerprint(cls: type[Node]) -> bool:
    """Whether a node's content key holds a fingerprint (by default its input files' size and
    time), which can change with no edit to the graph."""
    if getattr(cls.fingerprint, "__func__", None) is not getattr(Node.fingerprint, "__func__", None):
        return True
    return "input_path" in path_fields(cls.Params).values()


def key_node(plan: RunPlan, snapshot: GraphSnapshot, node_id: str, params: Any = None) -> str:
    """Resolve one node's params into the plan and compute its content key (its upstream's keys
    must be in ``plan.keys``); an incremental re-run keys the nodes an edit reaches this way."""
    resolve_params(plan, snapshot, node_id, params)
    plan.keys[node_id] = key = content_key(plan, snapshot, node_id, plan.keys)
    return key


def _decide(plan: RunPlan, snapshot: GraphSnapshot, registry: Registry, lookup: CacheLookup | None) -> None:
    """Walk back from the targets: which nodes run, which come from the cache, which pass through."""
    demand: dict[str, set[str]] = {t: {p.name for p in plan.classes[t].outputs} for t in plan.targets}
    for node_id in reversed(plan.order):
        if node_id not in demand:
            continue
        cls = plan.classes[node_id]
        wanted = demand[node_id]
        if snapshot.nodes[node_id].bypass:
            plan.actions[node_id] = Action.BYPASS
            sources = {bypass_source(registry.ports, cls, cls.output(p).type) for p in wanted}
            links = [link for link in plan.inputs[node_id] if link.target_port in sources]
        elif lookup is not None and not cls.output_node and wanted and _take_cached(plan, lookup, node_id, wanted):
            plan.actions[node_id] = Action.CACHED
            links = []
        else:
            plan.actions[node_id] = Action.RUN
            links = plan.inputs[node_id]
        plan.wanted[node_id] = wanted
        for link in links:
            demand.setdefault(link.source_node, set()).add(link.source_port)
            plan.consumers.setdefault((link.source_node, link.source_port), []).append(node_id)
    for readers in plan.consumers.values():  # graph order, as the walk back met them reversed
        readers.reverse()


def _take_cached(plan: RunPlan, lookup: CacheLookup, node_id: str, wanted: set[str]) -> bool:
    ports = {
        out.name: (plan.port_key(node_id, out.name), plan.is_stream(node_id, out.name))
        for out in plan.classes[node_id].outputs
    }
    found = lookup(node_id, ports)
    if not wanted <= set(found):
        return False
    plan.cached[node_id] = found
    return True


# -- sinks that share a stream --


def _pulls(plan: RunPlan, node_id: str) -> bool:
    """A running node that reads streams inside run() (a sink); stream producers read lazily."""
    if plan.actions.get(node_id) is not Action.RUN:
        return False
    if any(plan.is_stream(node_id, out.name) for out in plan.classes[node_id].outputs):
        return False
    return any(plan.is_stream(link.source_node, link.source_port) for link in plan.inputs[node_id])


def _sinks_of(plan: RunPlan, node_id: str) -> frozenset[str]:
    """The sinks that end up pulling what ``node_id`` reads (itself, if it is one)."""
    found: set[str] = set()
    stack, seen = [node_id], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if _pulls(plan, current):
            found.add(current)
            continue
        for out in plan.classes[current].outputs:
            if plan.is_stream(current, out.name):
                stack.extend(plan.readers((current, out.name)))
    return frozenset(found)


def group_sinks(plan: RunPlan) -> None:
    """Sinks that share a stream (directly or through stream stages) must run together, in step.

    A node that returns a stream does not read its input inside ``run()``; the sinks downstream
    do. So the nodes that must start together are the sinks that end up pulling a shared stream.
    """
    parent: dict[str, str] = {}

    def find(node_id: str) -> str:
        while parent.setdefault(node_id, node_id) != node_id:
            node_id = parent[node_id]
        return node_id

    if not plan.streaming:
        return  # no stream in this run: every node starts on its own
    for output in plan.consumers:
        if output not in plan.streaming:
            continue
        readers = plan.readers(output)
        if len(readers) < 2:
            continue
        members: set[str] = set()
        for reader in readers:
            sinks = _sinks_of(plan, reader)
            plan.branch_sinks[(output, reader)] = sinks
            members |= sinks
        ordered = sorted(members)
        for other in ordered[1:]:
            parent[find(other)] = find(ordered[0])
    by_root: dict[str, set[str]] = {}
    for node_id in parent:
        by_root.setdefault(find(node_id), set()).add(node_id)
    plan.sink_groups = {n: frozenset(g) for g in by_root.values() if len(g) > 1 for n in g}
