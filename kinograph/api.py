"""The public API: everything a node plugin (built-in or third-party) may import from kinograph.

Plugins import from this module only; it stays stable across releases. It imports no heavy
libraries (torch, numpy, cv2, av, networkx), so ``kinograph nodes`` starts fast.
"""

from kinograph.core.context import CancelToken, ModelStore, RunContext
from kinograph.core.errors import Cancelled, GraphError, KinographError, LinkRefused, NodeFailure, Problem
from kinograph.core.frames import FrameChunk, FrameStream
from kinograph.core.graph import Graph, GraphChange, GraphNode, Link
from kinograph.core.hookspecs import hookimpl
from kinograph.core.motion import Motion
from kinograph.core.node import Input, Node, Output, file_fingerprint
from kinograph.core.params import Color, InputPath, NodeParams, OutputPath, Slider, parse_color
from kinograph.core.paths import IfExists, atomic_output, output_target, resolve_path
from kinograph.core.ports import (
    ANY,
    AUDIO,
    FEATURES,
    FRAME_STREAM,
    IMAGE,
    IMAGES,
    MOTION,
    NUMBER,
    PATH,
    TENSOR,
    TEXT,
    Converter,
    PortType,
)
from kinograph.core.scheduler import RunOptions, RunResult, Session, run_graph


def load_graph(path: str) -> Graph:
    """Load a graph file with the installed plugins (relative paths resolve to its folder)."""
    return Graph.load(path)


__all__ = [
    "ANY",
    "AUDIO",
    "FEATURES",
    "FRAME_STREAM",
    "IMAGE",
    "IMAGES",
    "MOTION",
    "NUMBER",
    "PATH",
    "TENSOR",
    "TEXT",
    "CancelToken",
    "Cancelled",
    "Color",
    "Converter",
    "FrameChunk",
    "FrameStream",
    "Graph",
    "GraphChange",
    "GraphError",
    "GraphNode",
    "IfExists",
    "Input",
    "InputPath",
    "KinographError",
    "Link",
    "LinkRefused",
    "ModelStore",
    "Motion",
    "Node",
    "NodeFailure",
    "NodeParams",
    "Output",
    "OutputPath",
    "PortType",
    "Problem",
    "RunContext",
    "RunOptions",
    "RunResult",
    "Session",
    "Slider",
    "atomic_output",
    "file_fingerprint",
    "hookimpl",
    "load_graph",
    "output_target",
    "parse_color",
    "resolve_path",
    "run_graph",
]
