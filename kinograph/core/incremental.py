"""Re-running an edited graph touching only what the edit can affect.

A :class:`Session` that runs the same editable :class:`Graph` again (the editor, a script that
tweaks a param and runs) keeps what the last run established: the snapshot, each node's params,
content keys and state. The graph's change events say which nodes were edited since. When only
params changed (no node or link added, removed or renamed), the next run

- copies just the edited nodes into the new snapshot and reads just their params;
- validates just them and the nodes they feed (a clean graph stays clean elsewhere);
- recomputes the keys of the edited nodes and everything downstream, in order;
- runs the nodes whose key changed, feeding them the unchanged upstream values from the value
  cache; nodes not downstream of the edit keep their state and emit no events.

Anything it cannot do this way (a structural edit, other run options, an unchanged upstream that
is a stream or was evicted from the cache) falls back to a whole run, which is always correct.
"""

from __future__ import annotations

import dataclasses
import marshal
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinograph.core.graph import ChangeKind, Graph, GraphChange, GraphNode, GraphSnapshot
from kinograph.core.links import reachable
from kinograph.core.plan import Plan
from kinograph.core.results import RunOptions, RunResult
from kinograph.core.run_plan import Action, PortRef, RunPlan, group_sinks, has_fingerprint, key_node
from kinograph.core.validation import parse_params, validate

if TYPE_CHECKING:
    from kinograph.core.cache import ValueCache
    from kinograph.core.registry import Registry

#: Edits that change what runs only through a node's params (everything else is structural).
PARAM_EDITS = (ChangeKind.PARAM_CHANGED, ChangeKind.BYPASS_CHANGED)
#: Edits that change no run at all (editor state): the snapshot still takes them.
LOOK_EDITS = (ChangeKind.UI_CHANGED,)


@dataclass
class Basis:
    """What the last run of a graph established, for the next one to start from."""

    snapshot: GraphSnapshot
    options: tuple[Any, ...]
    order: Plan
    parsed: dict[str, Any]
    plan: RunPlan  # keys, params, classes and inputs of every needed node
    result: RunResult


@dataclass
class Rerun:
    """An incremental run, ready for the executor."""

    snapshot: GraphSnapshot
    plan: RunPlan
    given: dict[PortRef, Any]  # unchanged upstream values the running nodes read
    result: RunResult  # with the kept nodes' states, outputs and failures already in
    basis: Basis


@dataclass
class LiveGraph:
    """Follows one editable graph's changes between runs in a session (holds it weakly)."""

    graph_ref: weakref.ref[Graph]
    basis: Basis | None = None
    edited: set[str] = field(default_factory=set)
    looks: set[str] = field(default_factory=set)
    meta_changed: bool = False
    structural: bool = True

    def __post_init__(self) -> None:
        graph = self.graph_ref()
        if graph is not None:
            graph.subscribe(self.on_change)

    @property
    def graph(self) -> Graph:
        graph = self.graph_ref()
        if graph is None:  # pragma: no cover - the session looks it up by the graph itself
            raise RuntimeError("the graph is gone")
        return graph

    def on_change(self, change: GraphChange) -> None:
        if change.kind in PARAM_EDITS and change.node_id is not None:
            self.edited.add(change.node_id)
        elif change.kind in LOOK_EDITS and change.node_id is not None:
            self.looks.add(change.node_id)
        elif change.kind == ChangeKind.META_CHANGED:
            self.meta_changed = True
        else:
            self.structural = True

    def settle(self, basis: Basis | None) -> None:
        """The run went through: start counting edits afresh from ``basis`` (None: forget)."""
        self.basis = basis
        self.edited.clear()
        self.looks.clear()
        self.meta_changed = False
        self.structural = basis is None


def options_key(options: RunOptions) -> tuple[Any, ...]:
    """The run options an incremental run must share with the last run."""
    targets = tuple(options.targets) if options.targets is not None else None
    return (options.device, options.use_cache, targets, options.stream_cache, options.tee_buffer, options.validate)


def prepare_rerun(live: LiveGraph, registry: Registry, options: RunOptions, values: ValueCache) -> Rerun | None:
    """The incremental run for ``live``'s graph, or None when only a whole run will do."""
    basis = live.basis
    if basis is None or live.structural or options_key(options) != basis.options or not options.use_cache:
        return None
    if type(basis.snapshot) is not GraphSnapshot:
        return None  # a graph with groups runs flattened (group/inner ids): plan it whole
    snapshot = _updated_snapshot(live, basis)
    needed = set(basis.order.order)
    edited = live.edited & needed
    if any(snapshot.nodes[n].bypass or basis.snapshot.nodes[n].bypass for n in edited):
        return None  # a bypass changes which links the run follows: plan it whole
    parsed = dict(basis.parsed)
    parsed.update(parse_params(snapshot, edited))
    if options.validate and edited:
        feeds = {link.target_node for link in snapshot.links if link.source_node in edited}
        problems = validate(snapshot, (edited | feeds) & needed, cycles=False, parsed=parsed)
        if problems:
            from kinograph.core.errors import GraphError

            raise GraphError(problems)
    plan = dataclasses.replace(basis.plan, keys=dict(basis.plan.keys), params=dict(basis.plan.params))
    # Nodes whose key includes the files they read (size, time) are keyed again every time:
    # touching an input file re-runs its loader even though the graph did not change.
    sources = edited | {n for n in needed if has_fingerprint(plan.classes[n])}
    downstream = set(sources)
    for node_id in sources:
        downstream |= reachable(snapshot.links, node_id)
    changed = {
        node_id
        for node_id in basis.order.order
        if node_id in downstream and key_node(plan, snapshot, node_id, parsed.get(node_id)) != basis.plan.keys[node_id]
    }
    return _silent_plan(plan, snapshot, changed, basis, values, parsed, options)


def _updated_snapshot(live: LiveGraph, basis: Basis) -> GraphSnapshot:
    """The last snapshot with the edited nodes copied afresh (JSON values: marshal copies them)."""
    nodes = dict(basis.snapshot.nodes)
    for node_id in live.edited | live.looks:
        node = live.graph.nodes.get(node_id)
        if node is not None:
            entry = marshal.loads(marshal.dumps(
                (node.id, node.type, node.version, node.params, node.ui, node.bypass, node.plugin, node.exposed)
            ))
            nodes[node_id] = GraphNode(*entry)
    meta = marshal.loads(marshal.dumps(live.graph.meta)) if live.meta_changed else basis.snapshot.meta
    return basis.snapshot.with_params_edited(nodes, meta)


def _silent_plan(
    plan: RunPlan,
    snapshot: GraphSnapshot,
    changed: set[str],
    basis: Basis,
    values: ValueCache,
    parsed: dict[str, Any],
    options: RunOptions,
) -> Rerun | None:
    """Run the changed nodes only; feed them what unchanged nodes made (from the value cache)."""
    order = tuple(n for n in basis.order.order if n in changed)
    given: dict[PortRef, Any] = {}
    for node_id in order:
        for link in plan.inputs[node_id]:
            if link.source_node in changed:
                continue
            if plan.is_stream(link.source_node, link.source_port):
                return None  # a stream is read once: its producer must run again, so run it all
            found, value = values.get(basis.plan.port_key(link.source_node, link.source_port))
            if not found:
                return None  # evicted, or the node failed last time
            given[(link.source_node, link.source_port)] = value
    consumers: dict[PortRef, list[str]] = {}
    for node_id in order:
        for link in plan.inputs[node_id]:
            if link.source_node in changed:
                consumers.setdefault((link.source_node, link.source_port), []).append(node_id)
    plan = dataclasses.replace(
        plan,
        order=order,
        targets=tuple(t for t in basis.order.targets if t in changed),
        actions=dict.fromkeys(order, Action.RUN),
        consumers=consumers,
        wanted={n: basis.plan.wanted.get(n) or {p.name for p in plan.classes[n].outputs} for n in order},
        cached={},
        sink_groups={},
        branch_sinks={},
    )
    group_sinks(plan)
    result = _kept_result(basis.result, changed, plan)
    new_basis = Basis(snapshot, basis.options, basis.order, parsed, plan, result)
    return Rerun(snapshot, plan, given, result, new_basis)


def _kept_result(previous: RunResult, changed: set[str], plan: RunPlan) -> RunResult:
    """A result that starts with what the unchanged nodes did last time."""
    return RunResult(
        failures=[f for f in previous.failures if f.node_id not in changed],
        warnings=[w for w in previous.warnings if w[0] not in changed],
        outputs={n: dict(v) for n, v in previous.outputs.items() if n not in changed},
        states={n: s for n, s in previous.states.items() if n not in changed},
        seconds={n: s for n, s in previous.seconds.items() if n not in changed},
        keys=dict(plan.keys),
        plan=list(plan.order),
    )
