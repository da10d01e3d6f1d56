"""The plugin API: everything a node plugin (built-in or third-party) may import from kinograph.

Plugins import from this module only; it stays stable across releases. It imports no heavy
libraries (torch, numpy, cv2, av, networkx), so ``kinograph nodes`` starts fast.

Applications (scripts, the CLI, the editor, batch runs) load and run graphs through
:mod:`kinograph.host`. The host names this module used to export (``Graph``, ``Session``,
``RunOptions``, ``load_graph``, ...) still work here for one release, with a
``DeprecationWarning`` naming the new import.
"""

from __future__ import annotations

import warnings
from typing import Any

from kinograph.core.context import CancelToken, ModelStore, RunContext
from kinograph.core.contributions import Command, GraphReader, SubgraphSource
from kinograph.core.errors import Cancelled, GraphError, KinographError, LinkRefused, NodeFailure, Problem
from kinograph.core.frames import DEFAULT_CHUNK, FrameChunk, FrameStream
from kinograph.core.hookspecs import hookimpl
from kinograph.core.motion import Motion
from kinograph.core.node import Input, Node, Output, file_fingerprint
from kinograph.core.params import Color, InputPath, NodeParams, OutputPath, Slider, parse_color
from kinograph.core.paths import IfExists, atomic_output, cache_dir, output_target, resolve_path
from kinograph.core.ports import (
    ANY,
    AUDIO,
    BOOL,
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
from kinograph.core.previews import Preview

#: Host names that moved to :mod:`kinograph.host`; importing them from here warns.
MOVED_TO_HOST = frozenset(
    {"Graph", "GraphChange", "GraphNode", "Link", "RunOptions", "RunResult", "Session", "load_graph", "run_graph"}
)


def __getattr__(name: str) -> Any:
    if name in MOVED_TO_HOST:
        warnings.warn(
            f"kinograph.api.{name} moved to the host API: use `from kinograph.host import {name}` "
            "(kinograph.api keeps it for one release)",
            DeprecationWarning,
            stacklevel=2,
        )
        from kinograph import host

        return getattr(host, name)
    raise AttributeError(f"module 'kinograph.api' has no attribute {name!r}")


__all__ = [
    "ANY",
    "AUDIO",
    "BOOL",
    "DEFAULT_CHUNK",
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
    "Command",
    "Converter",
    "FrameChunk",
    "FrameStream",
    "GraphError",
    "GraphReader",
    "IfExists",
    "Input",
    "InputPath",
    "KinographError",
    "LinkRefused",
    "ModelStore",
    "Motion",
    "Node",
    "NodeFailure",
    "NodeParams",
    "Output",
    "OutputPath",
    "PortType",
    "Preview",
    "Problem",
    "RunContext",
    "Slider",
    "SubgraphSource",
    "atomic_output",
    "cache_dir",
    "file_fingerprint",
    "hookimpl",
    "output_target",
    "parse_color",
    "resolve_path",
]
