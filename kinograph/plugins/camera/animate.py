"""Animate image: a still image moved along a Motion, streamed as frames chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field

from kinograph.api import (
    FRAME_STREAM,
    IMAGE,
    MOTION,
    FrameChunk,
    FrameStream,
    Input,
    Motion,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    Slider,
)

EvenInt = Annotated[int, Field(multiple_of=2)]


def choose_backend(backend: str, device: str) -> str:
    """``auto`` means torch on a GPU, OpenCV on the CPU."""
    if backend != "auto":
        return backend
    return "torch" if device.startswith(("cuda", "mps")) else "opencv"


def motion_problem(motion: Motion) -> str | None:
    """Why a Motion cannot be rendered (zoom not positive, values not finite), or None."""
    import math

    rows = zip(motion.pan_x, motion.pan_y, motion.zoom, motion.rotation, strict=True)
    for step, values in enumerate(rows):
        if not all(math.isfinite(v) for v in values):
            return f"has a value that is not a finite number at step {step}"
        if values[2] <= 0:
            return f"has zoom {values[2]} at step {step}; zoom must be above 0"
    if motion.flow is not None:
        import numpy as np

        if not np.isfinite(motion.flow).all():
            return "has a flow grid with values that are not finite numbers"
    return None


def stream_fps(fps: float | None, motion: Motion) -> float:
    """The fps param when set; otherwise the motion's own rate (``meta["fps"]``, which a measured
    motion carries, so motion transfer plays at the source's speed), else 24."""
    import math

    if fps is not None:
        return fps
    rate = motion.meta.get("fps")
    if isinstance(rate, int | float) and math.isfinite(rate) and 1.0 <= rate <= 1000.0:
        return float(rate)
    return 24.0


class AnimateImage(Node["AnimateImage.Params"]):
    """Moves a camera over a still image along a Motion: one output frame per Motion step."""

    type_id = "kinograph.frames.animate"
    display_name = "Animate image"
    category = "Frames"
    description = (
        "Warps the image along the motion (pan, zoom, rotation, and local flow when the motion has "
        "it), one frame per step, generated a chunk at a time. crop_zoom adds the smallest extra "
        "zoom that keeps every frame inside the picture (no borders); reflect mirrors the edges."
    )
    inputs = [
        Input("image", IMAGE, "The still image."),
        Input("motion", MOTION, "The camera path, one state per frame."),
    ]
    outputs = [Output("frames", FRAME_STREAM, "The animated frames.")]

    class Params(NodeParams):
        width: EvenInt = Slider(1280, ge=16, le=7680, step=2, description="Frame width in pixels (even).")
        height: EvenInt = Slider(720, ge=16, le=4320, step=2, description="Frame height in pixels (even).")
        fps: float | None = Field(
            None,
            ge=1.0,
            le=240.0,
            description="Frames per second of the stream; empty: the motion's own rate (a measured motion's), else 24.",
        )
        border: Literal["crop_zoom", "reflect"] = "crop_zoom"
        backend: Literal["auto", "opencv", "torch"] = Field(
            "auto", description="auto: torch on a GPU, OpenCV on the CPU."
        )
        chunk: int = Field(8, ge=1, le=256, description="Frames generated per chunk.")

    def run(self, ctx: RunContext, image: Any, motion: Motion) -> dict[str, Any]:
        import numpy as np

        from kinograph.plugins.camera.warp import (
            TorchWarper,
            flow_margins,
            plan_views,
            shrink_for,
            warp_opencv,
        )

        p = self.params
        source = np.asarray(image)
        if source.ndim == 4:
            source = source[0]
        if source.ndim != 3 or source.shape[-1] != 3 or source.dtype != np.uint8:
            raise NodeFailure(f"expected an RGB uint8 image [H, W, 3], got {source.dtype} {tuple(source.shape)}")
        if min(source.shape[:2]) < 2:
            raise NodeFailure(
                f"the image is {source.shape[1]}x{source.shape[0]} pixels, too small to animate "
                "(it needs at least 2x2; use a larger picture)"
            )
        if not isinstance(motion, Motion):
            raise NodeFailure(f"the motion input is a {type(motion).__name__}, expected a Motion")
        problem = motion_problem(motion)
        if problem:
            raise NodeFailure(f"the motion input {problem} (check the node that made it)")
        size = (p.width, p.height)
        src_size = (int(source.shape[1]), int(source.shape[0]))
        views = plan_views(motion, src_size, size, p.border, flow_margins(motion, src_size))
        if views.extra_zoom > 1.001:
            ctx.logger.info("crop_zoom adds %.3fx zoom to keep the view inside the image", views.extra_zoom)
        source, views = shrink_for(views, np.ascontiguousarray(source))
        flow_scale = (float(source.shape[1]), float(source.shape[0]))
        backend = choose_backend(p.backend, ctx.device)
        device = ctx.device if backend == "torch" else "cpu"
        border, chunk, steps = p.border, p.chunk, motion.steps

        def chunks() -> Iterator[FrameChunk]:
            warper = TorchWarper(source, size, border, device) if backend == "torch" else None
            for start in range(0, steps, chunk):
                ctx.check_cancelled()
                stop = min(start + chunk, steps)
                flow = None if motion.flow is None else motion.flow[start:stop]
                if warper is not None:
                    pixels = warper.warp(views.matrices[start:stop], flow, flow_scale)
                else:
                    pixels = np.empty((stop - start, p.height, p.width, 3), dtype=np.uint8)
                    for i in range(start, stop):
                        step_flow = None if flow is None else flow[i - start]
                        pixels[i - start] = warp_opencv(source, views.matrices[i], size, border, step_flow, flow_scale)
                yield FrameChunk(start, pixels)

        stream = FrameStream(chunks, fps=stream_fps(p.fps, motion), width=p.width, height=p.height, frame_count=steps)
        stream.meta["extra_zoom"] = views.extra_zoom
        return {"frames": stream}
