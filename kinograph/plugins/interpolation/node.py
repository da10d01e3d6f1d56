"""The "Interpolate frames" node: a FrameStream in, a faster (or retimed) FrameStream out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from kinograph.api import (
    FRAME_STREAM,
    FrameChunk,
    FrameStream,
    Input,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    Slider,
)
from kinograph.plugins.interpolation.timing import Timing, split_position, timing_for

if TYPE_CHECKING:
    import numpy as np


class InterpolateFrames(Node):
    """Makes in-between frames: a cross-fade, or motion-compensated with optical flow."""

    type_id = "kinograph.frames.interpolate"
    display_name = "Interpolate frames"
    category = "Frames"
    description = (
        "Raises the frame rate by a factor (2-16) or to a target fps. 'flow' moves both "
        "neighbours along bidirectional DIS optical flow and blends them where each is visible; "
        "'blend' cross-fades. Scene cuts are detected and never morphed."
    )
    inputs = [Input("frames", FRAME_STREAM, "The frames to interpolate.")]
    outputs = [Output("frames", FRAME_STREAM, "The frames at the new rate (same duration and audio).")]

    class Params(NodeParams):
        mode: Literal["factor", "fps"] = "factor"
        factor: int = Slider(2, ge=2, le=16, description="Output frames per input frame (mode 'factor').")
        fps: float = Slider(60.0, ge=1.0, le=480.0, description="Output frame rate (mode 'fps').")
        method: Literal["flow", "blend"] = "flow"
        backend: Literal["auto", "opencv", "torch"] = "auto"
        preset: Literal["ultrafast", "fast", "medium"] = "medium"
        scene_cut_threshold: float = Slider(
            0.12,
            ge=0.0,
            le=1.0,
            step=0.01,
            description="Colour-histogram change above which two frames count as a cut (1 = never).",
        )
        chunk: int = Slider(8, ge=1, le=256, description="Output frames per chunk.")

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        p = self.params
        if frames.fps <= 0:
            raise NodeFailure(f"input stream has fps {frames.fps}; interpolation needs a positive frame rate")
        timing = timing_for(frames.fps, p.mode, p.factor, p.fps)
        total = timing.output_count(frames.frame_count) if frames.frame_count is not None else None
        backend = self.backend_name(ctx)

        def chunks() -> Iterator[FrameChunk]:
            stepper = PairStepper(p, timing, backend, ctx, frames.height, frames.width)
            yield from stepper.run(frames, total)

        return {"frames": frames.derive(chunks, fps=timing.out_fps, frame_count=total)}

    def backend_name(self, ctx: RunContext) -> str:
        """The warp backend: torch on CUDA for "auto", else OpenCV."""
        if self.params.backend != "auto":
            return self.params.backend
        return "torch" if ctx.is_cuda else "opencv"


class PairStepper:
    """Walks the input one frame pair at a time, keeping only the previous frame.

    For the pair (i, i + 1) it makes every output frame whose position falls in [i, i + 1):
    a copy of frame i at t = 0, else an in-between frame (or the nearer side at a scene cut).
    """

    def __init__(
        self, params: Any, timing: Timing, backend: str, ctx: RunContext, height: int, width: int
    ) -> None:
        self.p = params
        self.timing = timing
        self.backend = backend
        self.ctx = ctx
        self.height, self.width = height, width
        self.next_out = 0
        self.cuts = 0
        self._estimator: Any = None
        self._warp: Any = None

    def run(self, frames: FrameStream, total: int | None) -> Iterator[FrameChunk]:
        import numpy as np

        pending: list[np.ndarray] = []
        emitted = 0
        prev: np.ndarray | None = None
        prev_hist: np.ndarray | None = None
        count = 0
        for chunk in frames:
            self.ctx.check_cancelled()
            for frame in chunk.pixels:
                if prev is not None:
                    hist = self.histogram(frame)
                    pending.extend(self.between(prev, frame, prev_hist, hist, count))
                    prev_hist = hist
                else:
                    prev_hist = self.histogram(frame)
                # a copy, so the input chunk can be freed as soon as the upstream moves on
                prev = frame.copy()
                count += 1
            while len(pending) >= self.p.chunk:
                out = np.ascontiguousarray(np.stack(pending[: self.p.chunk]))
                del pending[: self.p.chunk]
                yield FrameChunk(emitted, out)
                emitted += out.shape[0]
                self.ctx.progress(emitted, total)
        if prev is not None:
            # positions past the last frame (the tail that keeps the duration) repeat it
            last = self.timing.output_count(count)
            pending.extend(prev for _ in range(self.next_out, last))
            self.next_out = max(self.next_out, last)
        for start in range(0, len(pending), self.p.chunk):
            out = np.ascontiguousarray(np.stack(pending[start : start + self.p.chunk]))
            yield FrameChunk(emitted, out)
            emitted += out.shape[0]
            self.ctx.progress(emitted, total)
        if self.cuts:
            self.ctx.logger.info("%d scene cut(s) kept sharp", self.cuts)

    def histogram(self, frame: np.ndarray) -> np.ndarray | None:
        from kinograph.plugins.interpolation.scene_cut import histogram

        return histogram(frame) if self.p.scene_cut_threshold < 1.0 else None

    def between(
        self, first: np.ndarray, second: np.ndarray, first_hist: Any, second_hist: Any, index: int
    ) -> list[np.ndarray]:
        """Output frames whose position lies in [index - 1, index): frame ``index - 1`` is ``first``."""
        from kinograph.plugins.interpolation.blend import cross_fade, nearest_side
        from kinograph.plugins.interpolation.scene_cut import is_cut

        times: list[float] = []
        while self.timing.position(self.next_out) < index:
            _, t = split_position(self.timing.position(self.next_out))
            times.append(t)
            self.next_out += 1
        inner = [t for t in times if t > 0.0]
        made: dict[float, np.ndarray] = {}
        if inner:
            if first_hist is not None and is_cut(first_hist, second_hist, self.p.scene_cut_threshold):
                self.cuts += 1
                new = nearest_side(first, second, inner)
            elif self.p.method == "blend":
                new = cross_fade(first, second, inner)
            else:
                new = self.flow_frames(first, second, inner)
            made = dict(zip(inner, new, strict=True))
        return [first if t == 0.0 else made[t] for t in times]

    def flow_frames(self, first: np.ndarray, second: np.ndarray, times: list[float]) -> np.ndarray:
        estimator, warp = self.flow_tools()
        flow = estimator.pair(estimator.gray(first), estimator.gray(second))
        return warp.interpolate(first, second, flow, times)

    def flow_tools(self) -> tuple[Any, Any]:
        """The DIS estimator and the warp backend, made on first use (they import cv2 / torch)."""
        if self._estimator is None:
            from kinograph.plugins.interpolation.flow import FlowEstimator

            self._estimator = FlowEstimator(self.p.preset, self.height, self.width)
            self._warp = make_warp(self.backend, self.height, self.width, self.ctx.device)
        return self._estimator, self._warp


def make_warp(backend: str, height: int, width: int, device: str) -> Any:
    """The warp backend by name: "opencv" (CPU) or "torch" (on ``device``)."""
    if backend == "torch":
        try:
            from kinograph.plugins.interpolation.warp_torch import TorchWarp
        except ImportError as exc:
            raise NodeFailure(
                f"backend 'torch' needs PyTorch, which failed to import ({exc}); "
                "install torch or set param 'backend' to 'opencv'"
            ) from exc
        return TorchWarp(height, width, device)
    from kinograph.plugins.interpolation.warp_opencv import OpenCVWarp

    return OpenCVWarp(height, width)
