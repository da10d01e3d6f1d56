"""The run plan is decided before anything runs: content keys, actions, consumers and the sinks
that must pull one stream together. These tests build plans and never run a node."""

from __future__ import annotations

from typing import Any

import nodes_for_tests as t
import pytest

from kinograph.core.registry import Registry
from kinograph.core.run_plan import Action, RunPlan, plan_run
from kinograph.host import Graph, RunOptions


def plan_of(graph: Graph, cached: dict[str, Any] | None = None, **options: Any) -> RunPlan:
    store = cached or {}

    def lookup(node_id: str, ports: dict[str, tuple[str, bool]]) -> dict[str, Any]:
        return {port: store[key] for port, (key, _) in ports.items() if key in store}

    return plan_run(graph.snapshot(), graph.registry, RunOptions(**options), lookup)


def chain(registry: Registry) -> Graph:
    graph = Graph(registry)
    graph.add_node("kinograph.value.number", "n", {"value": 2})
    graph.add_node("test.add", "add", {"offset": 1})
    graph.add_node("test.record", "rec")
    graph.add_node("kinograph.value.number", "lonely", {"value": 9})  # feeds nothing: not planned
    graph.connect("n.value", "add.a")
    graph.connect("add.sum", "rec.value")
    return graph


@pytest.fixture(autouse=True)
def nothing_runs() -> Any:
    t.CALLS.clear()
    yield
    assert t.CALLS == {}, "planning ran a node"


def test_only_what_the_outputs_need_is_planned_in_order(registry: Registry) -> None:
    plan = plan_of(chain(registry))
    assert plan.order == ("n", "add", "rec") and plan.targets == ("rec",)
    assert plan.actions == {"n": Action.RUN, "add": Action.RUN, "rec": Action.RUN}
    assert plan.actions["add"] == "run"  # str enums keep today's values
    assert plan.consumers == {("n", "value"): ["add"], ("add", "sum"): ["rec"]}


def test_a_param_change_rekeys_the_node_and_what_is_downstream_only(registry: Registry) -> None:
    graph = chain(registry)
    before = plan_of(graph).keys
    graph.set_param("add", "offset", 5)
    after = plan_of(graph).keys
    assert after["n"] == before["n"]
    assert after["add"] != before["add"] and after["rec"] != before["rec"]
    assert plan_of(graph).keys == after  # the same content gives the same keys


def test_a_cached_node_cuts_off_its_upstream(registry: Registry) -> None:
    graph = chain(registry)
    key = plan_of(graph).port_key("add", "sum")
    plan = plan_of(graph, cached={key: 3.0})
    assert plan.order == ("add", "rec")
    assert plan.actions["add"] == Action.CACHED and plan.cached["add"] == {"sum": 3.0}
    assert plan_of(graph, cached={key: 3.0}, use_cache=False).actions["add"] == Action.RUN


def test_sinks_of_one_stream_are_grouped_even_through_a_stage(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src")
    graph.add_node("test.invert", "inv")
    graph.add_node("test.collect", "a", {"label": "a"})
    graph.add_node("test.collect", "b", {"label": "b"})
    graph.add_node("test.collect", "alone", {"label": "alone"})
    graph.add_node("test.source", "src2")
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "a.frames")
    graph.connect("src.frames", "b.frames")
    graph.connect("src2.frames", "alone.frames")
    plan = plan_of(graph)
    assert plan.sink_groups["a"] == plan.sink_groups["b"] == frozenset({"a", "b"})
    assert "alone" not in plan.sink_groups
    assert plan.branch_sinks[(("src", "frames"), "inv")] == frozenset({"a"})
    assert plan.is_stream("src", "frames") and not plan.is_stream("a", "count")


def test_a_bypassed_node_follows_only_its_pass_through_input(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src")
    graph.add_node("test.invert", "inv")
    graph.add_node("test.collect", "sink")
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "sink.frames")
    graph.set_bypass("inv", True)
    plan = plan_of(graph)
    assert plan.actions["inv"] == Action.BYPASS
    assert [link.source_node for link in plan.links_followed("inv")] == ["src"]
