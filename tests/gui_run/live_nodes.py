"""A node with a slider, for the live-update tests (the run process imports this module by name)."""

from __future__ import annotations

from typing import Any

from kinograph.api import NUMBER, Input, Node, NodeParams, Output, RunContext, Slider, hookimpl


class Scale(Node):
    type_id = "livetest.scale"
    display_name = "Scale"
    category = "Test"
    description = "Multiplies a number by a factor set with a slider."
    inputs = [Input("value", NUMBER)]
    outputs = [Output("value", NUMBER)]

    class Params(NodeParams):
        factor: float = Slider(1.0, ge=0.0, le=10.0, step=0.1, description="The factor.")

    def run(self, ctx: RunContext, value: float) -> dict[str, Any]:
        return {"value": value * self.params.factor}


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [Scale]
