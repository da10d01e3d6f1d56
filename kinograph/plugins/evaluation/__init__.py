"""Evaluation: `kinograph evaluate` (interpolation, video) and the metric nodes.

Objective metrics of generated or processed video (PSNR/SSIM with scikit-image, warp error with
OpenCV's DIS flow, camera jerk through the learned pack's motion meter), printed as tables,
written as JSON, plotted (matplotlib) and shown as contact sheets. Heavy libraries are imported
only when a command or node runs.
"""

from __future__ import annotations

from kinograph.api import Command, Node, PortType, hookimpl
from kinograph.plugins.evaluation.command import EVALUATE
from kinograph.plugins.evaluation.nodes import METRICS, InterpolationQuality, VideoMetrics


@hookimpl
def kinograph_port_types() -> list[PortType]:
    return [METRICS]


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [VideoMetrics, InterpolationQuality]


@hookimpl
def kinograph_commands() -> list[Command]:
    return [EVALUATE]
