"""Scheduler overhead: microseconds per no-op node on a 1,000-node chain and a 200-node wide DAG.

Target: under 20 µs per node. Measured with and without a subscriber that renders progress
(the CLI's plain-line renderer writing to an in-memory buffer).
"""

from __future__ import annotations

import io
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


def run() -> dict[str, Any]:
    reg = registry()
    session = Session(reg)
    results: dict[str, Any] = {}
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
