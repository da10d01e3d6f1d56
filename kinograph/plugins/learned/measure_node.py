"""Measure motion: the camera move of a video as a Motion (for motion transfer and training).

The measuring itself lives in :mod:`kinograph.plugins.learned.measure`; this node pulls the
stream chunk by chunk into it, with progress and cancellation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from kinograph.api import (
    FRAME_STREAM,
    MOTION,
    FrameStream,
    Input,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    Slider,
)

if TYPE_CHECKING:
    import numpy as np


class MeasureMotion(Node["MeasureMotion.Params"]):
    """Measures the camera's pan, zoom and rotation in a video, one Motion step per frame."""

    type_id = "kinograph.motion.measure"
    display_name = "Measure motion"
    category = "Motion"
    description = (
        "Measures how the camera moves in a video: pan, zoom and rotation per frame (tracked "
        "corners or dense flow, with a robust fit that ignores moving objects), as a Motion that "
        "Animate image replays on a photo. Static shots read as no motion; scene cuts start a new "
        "segment (listed in the motion's meta) with the camera held across the cut; low-texture "
        "frames are interpolated with a warning. flow_grid > 0 adds the local motion left over."
    )
    inputs = [Input("frames", FRAME_STREAM, "The video to measure.")]
    outputs = [Output("motion", MOTION, "One camera state per frame; meta has the source fps and scene cuts.")]

    class Params(NodeParams):
        method: Literal["features", "flow"] = Field(
            "features",
            description="features: tracked corners (most accurate); flow: dense optical flow (DIS).",
        )
        flow_grid: int = Slider(0, ge=0, le=64, description="Size of the local flow grid; 0 = camera motion only.")
        max_side: int = Field(
            480, ge=64, le=4096, description="Frames are measured at this longest side (pixels); results stay subpixel."
        )
        cut_threshold: float = Slider(
            0.12, ge=0.01, le=1.0, step=0.01, description="Colour change between frames that counts as a scene cut."
        )

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        from kinograph.plugins.learned.measure import measure_chunks

        p = self.params
        if not isinstance(frames, FrameStream):
            raise NodeFailure(f"the frames input is a {type(frames).__name__}, expected a frame stream")

        def pixels() -> Iterator[np.ndarray]:
            done = 0
            for chunk in frames:
                problem = chunk.problem(frames.width, frames.height)
                if problem:
                    raise NodeFailure(f"the frames input is broken: {problem} (check the node that made it)")
                yield chunk.pixels
                done += chunk.count
                ctx.progress(done, frames.frame_count)

        try:
            motion = measure_chunks(
                pixels(),
                frames.fps,
                flow_grid=p.flow_grid,
                warn=ctx.warn,
                cancel=ctx.check_cancelled,
                method=p.method,
                max_side=p.max_side,
                cut_threshold=p.cut_threshold,
            )
        except ValueError as exc:
            raise NodeFailure(f"cannot measure the frames: {exc}") from exc
        cuts = len(motion.meta["segments"]) - 1
        ctx.logger.info("measured %d frames, %d scene cut(s)", motion.steps, cuts)
        return {"motion": motion}
