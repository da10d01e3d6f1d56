"""What a first run works out, and that its shortcuts give the same answers as the long way.

A first run of a big graph is kept cheap (see ``benchmarks/scheduler.py``): one dependency order
per snapshot, serving both the cycle check and the plan, with a shortcut when the file order
already runs forward; and content keys computed only when a cache or a reader asks for them.
These tests hold the shortcuts to the plain algorithms.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import sys
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinograph.api import NUMBER, Input, Node, NodeParams, Output, RunContext, hookimpl
from kinograph.core.errors import GraphError
from kinograph.core.links import topological_order
from kinograph.core.plan import make_plan
from kinograph.core.registry import Registry
from kinograph.host import Graph, Link, RunOptions, Session

# -- the dependency order --


@st.composite
def dags(draw: Any) -> tuple[list[str], list[Link]]:
    """Nodes in file order and acyclic links between them, going forward or backward in the file."""
    count = draw(st.integers(1, 14))
    nodes = [f"n{i}" for i in range(count)]
    rank = draw(st.permutations(range(count)))  # links go from lower to higher rank: no cycle
    pairs = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=30))
    links = [
        Link(nodes[a], "out", nodes[b], f"in{i}") for i, (a, b) in enumerate(pairs) if rank[a] < rank[b]
    ]
    return nodes, links


def reference_order(nodes: list[str], links: list[Link]) -> list[str]:
    """Kahn's algorithm taking the earliest node in the file among those ready (networkx)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((link.source_node, link.target_node) for link in links)
    position = {node: index for index, node in enumerate(nodes)}
    return list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))


@settings(max_examples=300, deadline=None)
@given(dags())
def test_the_dependency_order_is_the_file_order_wherever_links_allow(dag: tuple[list[str], list[Link]]) -> None:
    nodes, links = dag
    assert topological_order(nodes, links) == reference_order(nodes, links)


def test_links_that_already_run_forward_keep_the_file_order_and_a_cycle_gives_none() -> None:
    nodes = ["a", "b", "c"]
    forward = [Link("a", "out", "b", "x"), Link("b", "out", "c", "x")]
    assert topological_order(nodes, forward) == ["a", "b", "c"]
    backward = [Link("c", "out", "a", "x")]
    assert topological_order(nodes, backward) == ["b", "c", "a"]
    assert topological_order(nodes, [*forward, Link("c", "out", "a", "x")]) is None


class Number(Node):
    type_id = "first.number"
    inputs = [Input("a", NUMBER, optional=True), Input("b", NUMBER, optional=True)]
    outputs = [Output("out", NUMBER)]

    class Params(NodeParams):
        value: float = 0.0

    #: how often a content key asked for this node's fingerprint
    fingerprints = 0

    @classmethod
    def fingerprint(cls, params: Any) -> str | None:
        Number.fingerprints += 1
        return None

    def run(self, ctx: RunContext, a: float = 0.0, b: float = 0.0) -> dict[str, Any]:
        return {"out": a + b + self.params.value}


class Keep(Node):
    type_id = "first.keep"
    output_node = True
    inputs = [Input("a", NUMBER)]
    outputs = [Output("kept", NUMBER)]

    def run(self, ctx: RunContext, a: float) -> dict[str, Any]:
        return {"kept": a}


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [Number, Keep]


def number_registry() -> Registry:
    registry = Registry()
    info = registry.register_plugin(sys.modules[__name__], "first")
    assert not info.errors, info.errors
    return registry


@pytest.fixture
def reg() -> Registry:
    return number_registry()


def graph_of(reg: Registry, nodes: list[str], links: list[Link], outputs: list[str]) -> Graph:
    """Number nodes linked as ``links`` say (into ports a, then b; an input takes one link), each
    of ``outputs`` feeding a Keep node."""
    graph = Graph(reg)
    for node_id in nodes:
        graph.add_node("first.number", node_id, {"value": float(len(node_id))})
    taken: set[tuple[str, str]] = set()
    for link in links:
        port = next((p for p in ("a", "b") if (link.target_node, p) not in taken), None)
        if port is not None:
            taken.add((link.target_node, port))
            graph.links.append(Link(link.source_node, "out", link.target_node, port))
    for index, source in enumerate(outputs):
        graph.add_node("first.keep", f"keep{index}")
        graph.links.append(Link(source, "out", f"keep{index}", "a"))
    return graph


@settings(max_examples=100, deadline=None)
@given(dags(), st.data())
def test_a_plan_runs_what_its_outputs_need_in_the_order_of_those_nodes_alone(
    dag: tuple[list[str], list[Link]], data: Any
) -> None:
    nodes, links = dag
    reg = number_registry()
    outputs = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=3, unique=True))
    snapshot = graph_of(reg, nodes, links, outputs).snapshot()
    plan = make_plan(snapshot, reg)
    whole = nx.DiGraph([(link.source_node, link.target_node) for link in snapshot.links])
    keeps = [f"keep{index}" for index in range(len(outputs))]
    needed = set(keeps).union(*(nx.ancestors(whole, keep) for keep in keeps))
    assert set(plan.order) == needed
    inside = [link for link in snapshot.links if link.source_node in needed and link.target_node in needed]
    assert list(plan.order) == reference_order([n for n in snapshot.nodes if n in needed], inside)


def test_a_cycle_anywhere_stops_the_run_and_is_named(reg: Registry) -> None:
    graph = graph_of(reg, ["a", "b", "c"], [], ["a"])
    graph.links += [Link("b", "out", "c", "a"), Link("c", "out", "b", "a")]  # not upstream of any output
    with pytest.raises(GraphError) as raised:
        Session(reg).run(graph, RunOptions(device="cpu", use_cache=False))
    assert "links form a cycle: b -> c -> b" in str(raised.value)


# -- content keys --


def test_a_run_without_a_cache_keys_nothing_until_asked_and_then_keys_as_a_cached_run_does(reg: Registry) -> None:
    graph = graph_of(reg, ["a", "b", "c"], [Link("a", "out", "b", "a"), Link("b", "out", "c", "a")], ["c"])
    Number.fingerprints = 0
    uncached = Session(reg).run(graph, RunOptions(device="cpu", use_cache=False))
    assert uncached.ok and uncached.outputs["keep0"] == {"kept": 3.0}
    assert Number.fingerprints == 0  # no cache asked: no node was keyed (no input file looked at)
    keys = dict(uncached.keys)
    assert Number.fingerprints == 3  # asked: every node keyed once
    cached = Session(reg).run(graph, RunOptions(device="cpu", use_cache=True))
    assert dict(cached.keys) == keys and set(keys) == {"a", "b", "c", "keep0"}
    graph.set_param("b", "value", 7.0)
    edited = Session(reg).run(graph, RunOptions(device="cpu", use_cache=False))
    assert edited.keys["a"] == keys["a"] and edited.keys["b"] != keys["b"] and edited.keys["c"] != keys["c"]


def test_keys_of_a_result_travel_as_a_plain_dict(reg: Registry) -> None:
    graph = graph_of(reg, ["a"], [], ["a"])
    result = Session(reg).run(graph, RunOptions(device="cpu", use_cache=False))
    copied = pickle.loads(pickle.dumps(result))
    assert type(copied.keys) is dict and copied.keys == dict(result.keys)
    record = dataclasses.asdict(result)  # what a script logging results does
    assert type(record["keys"]) is dict and json.loads(json.dumps(record["keys"])) == dict(result.keys)


def test_a_graph_saved_and_loaded_keys_as_the_one_built_in_code(reg: Registry, tmp_path: Any) -> None:
    """Keys hash values, not objects: a loaded file holds its own copies of every string, and
    its cache entries are still the ones the editor's graph made."""
    built = graph_of(reg, ["a", "b", "c"], [Link("a", "out", "b", "a"), Link("a", "out", "c", "a")], ["b", "c"])
    built.set_param("a", "value", 0.5)
    built.save(tmp_path / "g.json")
    loaded = Graph.load(tmp_path / "g.json", reg)
    options = RunOptions(device="cpu", use_cache=False)
    first, second = Session(reg).run(built, options), Session(reg).run(loaded, options)
    assert dict(first.keys) == dict(second.keys)
    assert first.keys["b"] == first.keys["c"] != first.keys["a"]  # same content, same key
