"""A plugin with its own port type and a preview of it (the ``kinograph_previews`` hook)."""

from __future__ import annotations

from typing import Any

from kinograph.api import Node, Output, PortType, Preview, RunContext, hookimpl


class ToneCurve(Node):
    """A lookup table per channel ([2, 256] uint8: a rising red, a falling green)."""

    type_id = "curvetest.tone"
    category = "Test"
    outputs = [Output("curve", "ToneCurve")]

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import numpy as np

        return {"curve": np.stack([np.arange(256), np.arange(256)[::-1]]).astype(np.uint8)}


@hookimpl
def kinograph_port_types() -> list[PortType]:
    return [PortType("ToneCurve")]


@hookimpl
def kinograph_previews() -> list[Preview]:
    return [Preview("ToneCurve", lambda lut: {"red": list(lut[0]), "green": list(lut[1])})]


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [ToneCurve]
