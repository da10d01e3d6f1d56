"""Frame interpolation: the "Interpolate frames" node (blend or DIS optical flow, two backends),
and the "Smooth motion" subgraph built on it (``subgraphs/``)."""

from __future__ import annotations

from kinograph.api import Node, SubgraphSource, hookimpl
from kinograph.plugins.interpolation.node import InterpolateFrames


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [InterpolateFrames]


@hookimpl
def kinograph_subgraphs() -> list[SubgraphSource]:
    # Reusable subgraphs ship as plain JSON files in the package (no code), like a user's own.
    return [SubgraphSource("package://kinograph/plugins/interpolation/subgraphs")]
