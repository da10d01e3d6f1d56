"""Scheduler overhead: microseconds per no-op node on a 1,000-node chain and a 200-node wide DAG.

Measured with and without a subscriber that renders progress (the CLI's plain-line renderer
writing to an in-memory buffer). Also, side by side in this process (ratios, so they hold on a
noisy machine):

- a first run of a freshly built 1,000-node chain in a new ``Session`` (no cache), snapshot and
  validation included, against ryvencore 0.5 pushing a value through a chain of 1,000 adders
  (target: within 3x; ``pip install 'kinograph[bench]'`` brings ryvencore);
- a re-run after editing one param near the end of the chain, in the same session (target:
  under 5 ms), and near its start (everything downstream runs, for reference).
"""

from __future__ import annotations

import io
import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import noop_nodes
from kinograph.api import CancelToken
from kinograph.cli.render import PlainLines
from kinograph.core.executor import Caches, Executor
from kinograph.core.plan import make_plan
from kinograph.core.recorder import Recorder
from kinograph.core.run_plan import plan_run
from kinograph.host import EventBus, Graph, Link, Registry, RunOptions, RunResult, Session


def registry() -> Registry:
    reg = Registry()
    reg.register_plugin(noop_nodes, "bench")
    return reg


def chain_graph(reg: Registry, n: int) -> Graph:
    graph = Graph(reg)
    graph.add_node("bench.noop", "n0")
    for i in range(1, n - 1):
        graph.add_node("bench.noop", f"n{i}")
        graph.links.append(Link(f"n{i - 1}", "out", f"n{i}", "a"))
    graph.add_node("bench.sink", "sink")
    graph.links.append(Link(f"n{n - 2}", "out", "sink", "a"))
    return graph


def wide_graph(reg: Registry, n: int) -> Graph:
    """A source fanning out to (n-1)/2 independent nodes, each feeding its own sink."""
    graph = Graph(reg)
    graph.add_node("bench.noop", "src")
    for i in range((n - 1) // 2):
        graph.add_node("bench.noop", f"w{i}")
        graph.add_node("bench.sink", f"s{i}")
        graph.links.append(Link("src", "out", f"w{i}", "a"))
        graph.links.append(Link(f"w{i}", "out", f"s{i}", "a"))
    return graph


def time_run(session: Session, graph: Graph, subscribers: list[Any], repeats: int = 7) -> tuple[float, float]:
    """Median seconds of planning (keys, actions) plus execution, and of the whole run (snapshot
    and validation included)."""
    snapshot = graph.snapshot()
    order = make_plan(snapshot, session.registry, None)
    options = RunOptions(device="cpu", use_cache=False)
    caches = Caches(session.values, session.streams, session.models)
    executions, totals = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        plan = plan_run(snapshot, session.registry, options, None, order)
        recorder = Recorder(EventBus(subscribers), snapshot, RunResult())
        Executor(plan, snapshot, session.registry.ports, caches, options, recorder, CancelToken()).execute()
        executions.append(time.perf_counter() - started)
        started = time.perf_counter()
        session.run(graph, options, subscribers)
        totals.append(time.perf_counter() - started)
    return statistics.median(executions), statistics.median(totals)


def ryvencore_chain_seconds(n: int) -> float | None:
    """Seconds ryvencore 0.5 takes to push a value through a freshly built chain of ``n`` adders."""
    try:
        import ryvencore as rc
    except ImportError:
        return None

    class Add(rc.Node):
        title = "add"
        init_inputs = [rc.NodeInputType()]
        init_outputs = [rc.NodeOutputType()]

        def update_event(self, inp: int = -1) -> None:
            value = self.input(0)
            self.set_output_val(0, rc.Data((value.payload if value is not None else 0) + 1))

    session = rc.Session()
    session.register_node_types([Add])
    flow = session.create_flow("chain")
    nodes = [flow.create_node(Add) for _ in range(n)]
    for a, b in itertools.pairwise(nodes):
        flow.connect_nodes(a.outputs[0], b.inputs[0])
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * n))  # ryvencore recurses per node
    started = time.perf_counter()
    nodes[0].update()
    return time.perf_counter() - started


def kinograph_first_run_seconds(reg: Registry, n: int, use_cache: bool = False) -> float:
    """Seconds of a first ``Session.run`` of a freshly built chain (snapshot, validation; no
    cache, or an empty one, which makes the run compute content keys and fill it)."""
    graph = chain_graph(reg, n)
    session = Session(reg)
    started = time.perf_counter()
    result = session.run(graph, RunOptions(device="cpu", use_cache=use_cache))
    elapsed = time.perf_counter() - started
    assert result.ok, result.failures
    return elapsed


def rerun_after_edit_seconds(reg: Registry, n: int, edited: str, repeats: int = 9) -> tuple[float, int]:
    """Median seconds of re-running after a one-param edit of ``edited``, and the nodes it ran."""
    graph = chain_graph(reg, n)
    session = Session(reg)
    session.run(graph, RunOptions(device="cpu"))
    times, ran = [], 0
    for i in range(repeats):
        graph.set_param(edited, "value", float(i + 1))
        events: list[Any] = []
        started = time.perf_counter()
        result = session.run(graph, RunOptions(device="cpu"), [events.append])
        times.append(time.perf_counter() - started)
        assert result.ok, result.failures
        ran = sum(1 for e in events if e.kind == "node_finished")
    return statistics.median(times), ran


def compare_with_ryvencore(reg: Registry, n: int = 1000, repeats: int = 9) -> dict[str, Any]:
    ours, cached, theirs = [], [], []
    kinograph_first_run_seconds(reg, n)  # warm both up: lazy imports, first-call caches
    ryvencore_chain_seconds(n)
    for _ in range(repeats):  # interleaved, so both see the same machine
        ours.append(kinograph_first_run_seconds(reg, n))
        cached.append(kinograph_first_run_seconds(reg, n, use_cache=True))
        other = ryvencore_chain_seconds(n)
        if other is not None:
            theirs.append(other)
    results: dict[str, Any] = {"first_run_1000_us_per_node": round(statistics.median(ours) / n * 1e6, 2)}
    results["first_run_with_cache_1000_us_per_node"] = round(statistics.median(cached) / n * 1e6, 2)
    if theirs:
        results["ryvencore_1000_us_per_node"] = round(statistics.median(theirs) / n * 1e6, 2)
        results["first_run_vs_ryvencore"] = round(statistics.median(ours) / statistics.median(theirs), 2)
        results["first_run_with_cache_vs_ryvencore"] = round(statistics.median(cached) / statistics.median(theirs), 2)
        results["first_run_target_ratio"] = 3.0
    else:
        results["ryvencore_1000_us_per_node"] = "not installed (pip install 'kinograph[bench]')"
    near_end, ran_end = rerun_after_edit_seconds(reg, n, f"n{n - 10}")
    near_start, ran_start = rerun_after_edit_seconds(reg, n, "n1", repeats=3)
    results["rerun_after_edit_near_end_ms"] = round(near_end * 1000, 2)
    results["rerun_after_edit_near_end_nodes_run"] = ran_end
    results["rerun_after_edit_near_start_ms"] = round(near_start * 1000, 2)
    results["rerun_after_edit_near_start_nodes_run"] = ran_start
    results["rerun_target_ms"] = 5
    return results


def run() -> dict[str, Any]:
    reg = registry()
    session = Session(reg)
    results: dict[str, Any] = compare_with_ryvencore(reg)
    for name, graph in (("chain_1000", chain_graph(reg, 1000)), ("wide_200", wide_graph(reg, 200))):
        nodes = len(graph.nodes)
        for label, subscribers in (("silent", []), ("progress", [PlainLines(io.StringIO())])):
            execution, total = time_run(session, graph, subscribers)
            results[f"{name}_{label}_us_per_node"] = round(execution / nodes * 1e6, 2)
            results[f"{name}_{label}_with_validation_us_per_node"] = round(total / nodes * 1e6, 2)
    results["target_us_per_node"] = 20
    return results


def main() -> None:
    results = run()
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
