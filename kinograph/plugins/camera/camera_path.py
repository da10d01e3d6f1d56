"""Camera path: a hand-set Motion (pan, zoom, rotate from start to end, with easing).

The Ken Burns effect, and a way to animate an image without any model. Pure Python: nothing
heavy is imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from kinograph.api import MOTION, Motion, Node, NodeParams, Output, RunContext, Slider

Easing = Literal["linear", "ease_in", "ease_out", "ease_in_out", "smooth"]

EASINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda t: t,
    "ease_in": lambda t: t * t,
    "ease_out": lambda t: 1.0 - (1.0 - t) * (1.0 - t),
    "ease_in_out": lambda t: 0.5 - 0.5 * math.cos(math.pi * t),
    # smootherstep: zero velocity and acceleration at both ends
    "smooth": lambda t: t * t * t * (t * (6.0 * t - 15.0) + 10.0),
}


def camera_motion(
    steps: int,
    start: dict[str, float],
    end: dict[str, float],
    easing: str = "ease_in_out",
) -> Motion:
    """A Motion moving each of pan_x, pan_y, zoom, rotation from ``start`` to ``end``.

    Zoom is interpolated geometrically, so a zoom from 1 to 2 feels as steady as 2 to 4.
    """
    ease = EASINGS[easing]
    times = [ease(i / (steps - 1)) if steps > 1 else 0.0 for i in range(steps)]

    def lerp(name: str) -> tuple[float, ...]:
        a, b = start[name], end[name]
        return tuple(a + (b - a) * t for t in times)

    z0, z1 = start["zoom"], end["zoom"]
    zoom = tuple(z0 * (z1 / z0) ** t for t in times)
    return Motion(
        pan_x=lerp("pan_x"),
        pan_y=lerp("pan_y"),
        zoom=zoom,
        rotation=lerp("rotation"),
        source="camera_path",
        meta={"easing": easing},
    )


class CameraPath(Node["CameraPath.Params"]):
    """A camera move set by hand: pan, zoom and rotation from start to end values."""

    type_id = "kinograph.motion.camera_path"
    display_name = "Camera path"
    category = "Motion"
    description = (
        "A hand-set camera move (the Ken Burns effect): pan, zoom and rotation go from their start "
        "to their end values over the steps, with easing. Pan is a fraction of the image size "
        "(+x right, +y down), zoom 1 shows the whole image, rotation is in degrees counter-clockwise."
    )
    outputs = [Output("motion", MOTION, "One camera state per frame.")]

    class Params(NodeParams):
        steps: int = Field(48, ge=1, le=100_000, description="Number of frames (camera states).")
        pan_x_start: float = Slider(0.0, ge=-0.5, le=0.5, step=0.01, description="Horizontal pan at the start.")
        pan_x_end: float = Slider(0.0, ge=-0.5, le=0.5, step=0.01, description="Horizontal pan at the end.")
        pan_y_start: float = Slider(0.0, ge=-0.5, le=0.5, step=0.01, description="Vertical pan at the start.")
        pan_y_end: float = Slider(0.0, ge=-0.5, le=0.5, step=0.01, description="Vertical pan at the end.")
        zoom_start: float = Slider(1.0, ge=0.25, le=16.0, step=0.01, description="Zoom at the start.")
        zoom_end: float = Slider(1.2, ge=0.25, le=16.0, step=0.01, description="Zoom at the end.")
        rotate_start: float = Slider(0.0, ge=-180.0, le=180.0, step=0.5, description="Rotation at the start (degrees).")
        rotate_end: float = Slider(0.0, ge=-180.0, le=180.0, step=0.5, description="Rotation at the end (degrees).")
        easing: Easing = "ease_in_out"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        p = self.params
        start = {"pan_x": p.pan_x_start, "pan_y": p.pan_y_start, "zoom": p.zoom_start, "rotation": p.rotate_start}
        end = {"pan_x": p.pan_x_end, "pan_y": p.pan_y_end, "zoom": p.zoom_end, "rotation": p.rotate_end}
        return {"motion": camera_motion(p.steps, start, end, p.easing)}
