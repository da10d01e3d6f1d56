"""Nodes with every kind of param the inspector builds a widget for (registered by the GUI tests)."""

from __future__ import annotations

from typing import Any, Literal

from kinograph.api import (
    IMAGE,
    Color,
    Input,
    InputPath,
    Node,
    NodeParams,
    Output,
    OutputPath,
    RunContext,
    Slider,
    hookimpl,
)


class Styled(Node):
    type_id = "guitest.styled"
    display_name = "Styled"
    category = "Image"
    description = "Takes an image and has one param of every widget kind."
    inputs = [Input("image", IMAGE, "An image.")]
    outputs = [Output("image", IMAGE, "The same image.")]

    class Params(NodeParams):
        tint: str = Color("#ff8800", description="Tint colour.")
        mode: Literal["fast", "best"] = "fast"
        enabled: bool = True
        strength: float = Slider(0.5, ge=0.0, le=1.0, step=0.05, description="How strong.")
        count: int = 3
        source: str = InputPath("", filters=["Images (*.png *.jpg)"], must_exist=False)
        target: str = OutputPath("out.png", filters=["PNG (*.png)"])
        label: str = ""

    def run(self, ctx: RunContext, image: Any) -> dict[str, Any]:
        return {"image": image}


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [Styled]
