"""Link rules and reachability, written once.

The graph model (``Graph.check_link``), validation, the run plan and the editor's canvas (which
lights up the ports a dragged link may reach) all ask here: whether a link is legal and why not,
what lies upstream or downstream of a node, and which links form a cycle.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinograph.core.graph import GraphReading, Link


def reachable(links: Iterable[Link], start: str, *, upstream: bool = False, ignoring: Link | None = None) -> set[str]:
    """Nodes reached from ``start`` along links (against them with ``upstream``), ``start`` excluded
    unless a cycle leads back to it. ``ignoring`` is left out, as if it were gone."""
    return _walk(_edges(links, upstream, ignoring), [start])


def upstream_of(links: Iterable[Link], targets: Iterable[str]) -> set[str]:
    """The targets and every node that feeds them, directly or not."""
    targets = list(targets)
    return set(targets) | _walk(_edges(links, upstream=True), targets)


def downstream_of(links: Iterable[Link], sources: Iterable[str]) -> set[str]:
    """The sources and every node they feed, directly or not."""
    sources = list(sources)
    return set(sources) | _walk(_edges(links, upstream=False), sources)


def _edges(links: Iterable[Link], upstream: bool, ignoring: Link | None = None) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {}
    for link in links:
        if link == ignoring:
            continue
        a, b = (link.target_node, link.source_node) if upstream else (link.source_node, link.target_node)
        edges.setdefault(a, []).append(b)
    return edges


def _walk(edges: dict[str, list[str]], starts: list[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:  # iterative: a 10,000-node chain has no recursion limit
        for other in edges.get(stack.pop(), []):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def topological_order(nodes: Iterable[str], links: Iterable[Link]) -> list[str] | None:
    """``nodes`` so that every link goes forward, ties kept in the given order; None on a cycle.

    Kahn's algorithm with a heap on the given position: a plan reads like the file. (Building a
    networkx DiGraph for this cost about 10 us a node, half a small node's whole run.)
    """
    import heapq

    position = {node_id: index for index, node_id in enumerate(nodes)}
    links = [link for link in links if link.source_node in position and link.target_node in position]
    if all(position[link.source_node] < position[link.target_node] for link in links):
        return list(position)  # every link already goes forward: the given order is the answer
    waiting = dict.fromkeys(position, 0)
    outgoing: dict[str, list[str]] = {}
    for link in links:
        outgoing.setdefault(link.source_node, []).append(link.target_node)
        waiting[link.target_node] += 1
    ready = [(position[n], n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, node_id = heapq.heappop(ready)
        order.append(node_id)
        for target in outgoing.get(node_id, []):
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, (position[target], target))
    return order if len(order) == len(position) else None


def find_cycle(nodes: Iterable[str], links: Iterable[Link]) -> list[str] | None:
    """A cycle as node ids in link order (``[a, b, a]``), or None when the links form none."""
    outgoing: dict[str, list[str]] = {}
    for link in links:
        outgoing.setdefault(link.source_node, []).append(link.target_node)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in nodes:
        if state.get(root):
            continue
        path: list[str] = [root]
        iterators = [iter(outgoing.get(root, []))]
        state[root] = 1
        while iterators:
            nxt = next(iterators[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iterators.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                iterators.append(iter(outgoing.get(nxt, [])))
    return None


def link_refusal(graph: GraphReading, link: Link, *, ignoring: Link | None = None) -> str | None:
    """Why ``link`` may not be added to ``graph`` (as if ``ignoring`` were gone), or None if it may.

    The nodes must exist and differ, the ports must exist, the output's type must fit the input
    (port types and converters), and the link must not close a cycle.
    """
    for node_id in (link.source_node, link.target_node):
        if node_id not in graph.nodes:
            return f"there is no node {node_id!r}"
    if link.source_node == link.target_node:
        return "a node cannot feed itself"
    reason = type_refusal(graph, link)
    if reason:
        return reason
    if link.source_node in reachable(graph.links, link.target_node, ignoring=ignoring):
        return f"{link.source} -> {link.target} would make a cycle"
    return None


@functools.cache
def port_types(cls: type) -> tuple[dict[str, str], dict[str, str]]:
    """A node class's declared input and output port types by name (asked for every link)."""
    return {p.name: p.type for p in cls.inputs}, {p.name: p.type for p in cls.outputs}  # type: ignore[attr-defined]


def type_refusal(graph: GraphReading, link: Link) -> str | None:
    """Why the ports of ``link`` cannot be joined (a missing port, or types that do not fit)."""
    source_cls = graph.node_class(link.source_node)
    target_cls = graph.node_class(link.target_node)
    source_type = target_type = None
    if source_cls is not None:
        source_type = port_types(source_cls)[1].get(link.source_port)
        if source_type is None:
            return f"{link.source_node} has no output {link.source_port!r}" + _known(p.name for p in source_cls.outputs)
    if target_cls is not None:
        target_type = port_types(target_cls)[0].get(link.target_port)
        inp = graph.input_port(link.target_node, link.target_port) if target_type is None else None
        if target_type is None and inp is None:
            hint = ""
            if link.target_port in target_cls.Params.model_fields:
                hint = f"; {link.target_port!r} is a param: show it as an input port first"
            names = (p.name for p in graph.inputs_for(link.target_node))
            return f"{link.target_node} has no input {link.target_port!r}" + _known(names) + hint
        if inp is not None:
            target_type = inp.type
    if source_type and target_type and source_type != target_type:
        return graph.registry.ports.refusal(link.source, source_type, link.target, target_type)
    return None


def port_accepts(ports: Any, source_type: str | None, target_type: str | None) -> bool:
    """Whether a port of ``source_type`` may feed one of ``target_type`` (unknown types: yes)."""
    if not source_type or not target_type:
        return True  # a missing plugin's ports: its type is unknown, the file decides
    return bool(ports.compatible(source_type, target_type))


def input_taken(links: Iterable[Link], link: Link) -> Link | None:
    """The link already feeding ``link``'s input, if any (an input takes one link)."""
    return next(
        (other for other in links if (other.target_node, other.target_port) == (link.target_node, link.target_port)),
        None,
    )


def _known(names: Iterable[str]) -> str:
    names = list(names)
    return f" (it has: {', '.join(names)})" if names else " (it has none)"

