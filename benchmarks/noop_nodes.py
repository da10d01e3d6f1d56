"""No-op nodes for the scheduler benchmark (registered in-process)."""

from __future__ import annotations

from typing import Any

from kinograph.api import NUMBER, Input, Node, NodeParams, Output, RunContext, hookimpl


class Noop(Node):
    type_id = "bench.noop"
    inputs = [Input("a", NUMBER, optional=True), Input("b", NUMBER, optional=True)]
    outputs = [Output("out", NUMBER)]

    class Params(NodeParams):
        value: float = 0.0

    def run(self, ctx: RunContext, a: float = 0.0, b: float = 0.0) -> dict[str, Any]:
        return {"out": a + b + self.params.value}


class Sink(Node):
    type_id = "bench.sink"
    output_node = True
    inputs = [Input("a", NUMBER), Input("b", NUMBER, optional=True)]

    def run(self, ctx: RunContext, a: float, b: float = 0.0) -> dict[str, Any]:
        return {}


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [Noop, Sink]
