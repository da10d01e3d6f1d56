"""Frame interpolation: the "Interpolate frames" node (blend or DIS optical flow, two backends)."""

from __future__ import annotations

from kinograph.api import Node, hookimpl
from kinograph.plugins.interpolation.node import InterpolateFrames


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [InterpolateFrames]
