"""The "Interpolate frames" node: a FrameStream in, a faster (or retimed) FrameStream out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


class InterpolateFrames(Node["InterpolateFrames.Params"]):
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
    With method ``flow``, the optical flow of the pairs in the current input chunk is worked out
    ahead on one worker thread, while this thread warps the pair before and the downstream
    (a writer's encoder, say) takes the frames already made: on two or more cores they overlap.
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
        self._worker: ThreadPoolExecutor | None = None
        self._last_gray: tuple[int, Any] | None = None
        # the worker and this thread may both ask for the tools first
        self._tools_lock = threading.Lock()

    def run(self, frames: FrameStream, total: int | None) -> Iterator[FrameChunk]:
        try:
            yield from self._run(frames, total)
        finally:
            if self._worker is not None:
                # a cancelled or failed run leaves no flow work behind
                self._worker.shutdown(wait=True, cancel_futures=True)
                self._worker = None

    def _run(self, frames: FrameStream, total: int | None) -> Iterator[FrameChunk]:
        import numpy as np

        pending: list[np.ndarray] = []
        emitted = 0
        prev: np.ndarray | None = None
        prev_hist: np.ndarray | None = None
        count = 0
        for chunk in frames:
            self.ctx.check_cancelled()
            hists = [self.histogram(frame) for frame in chunk.pixels]
            # every flow of this chunk is done before the next chunk is pulled: memory stays bounded
            flows = self.flows_ahead(prev, prev_hist, chunk.pixels, hists, count)
            for frame, hist, flow in zip(chunk.pixels, hists, flows, strict=True):
                if prev is not None:
                    pending.extend(self.between(prev, frame, self.is_cut(prev_hist, hist), count, flow))
                prev_hist = hist
                # a copy, so the input chunk can be freed as soon as the upstream moves on
                prev = frame.copy()
                count += 1
                while len(pending) >= self.p.chunk:
                    out = np.ascontiguousarray(np.stack(pending[: self.p.chunk]))
                    del pending[: self.p.chunk]
                    yield FrameChunk(emitted, out)
                    emitted += out.shape[0]
                    self.ctx.progress(emitted, total)
                    self.ctx.check_cancelled()
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

    def is_cut(self, first_hist: Any, second_hist: Any) -> bool:
        """Whether two neighbouring frames belong to different shots."""
        from kinograph.plugins.interpolation.scene_cut import is_cut

        return first_hist is not None and is_cut(first_hist, second_hist, self.p.scene_cut_threshold)

    def flows_ahead(
        self, prev: np.ndarray | None, prev_hist: Any, frames: np.ndarray, hists: list[Any], count: int
    ) -> list[Future[Any] | None]:
        """For each frame of a chunk, the flow from the frame before it (a future), where one is needed.

        ``count`` is the input index of the chunk's first frame; ``prev`` the frame before it.
        """
        flows: list[Future[Any] | None] = []
        if self.backend == "torch" and self.ctx.device == "cpu":
            # torch's CPU thread pool spins while it waits for work: next to a DIS thread both
            # crawl, so flow and warping take turns there (each still uses every core)
            return [None] * len(frames)
        for k, frame in enumerate(frames):
            first = prev if k == 0 else frames[k - 1]
            first_hist = prev_hist if k == 0 else hists[k - 1]
            index = count + k
            needed = (
                self.p.method == "flow"
                and first is not None
                and self.timing.has_between(index)
                and not self.is_cut(first_hist, hists[k])
            )
            flows.append(self.flow_worker().submit(self.pair_flow, index, first, frame) if needed and first is not None else None)
        return flows

    def flow_worker(self) -> ThreadPoolExecutor:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kinograph-flow")
        return self._worker

    def pair_flow(self, index: int, first: np.ndarray, second: np.ndarray) -> Any:
        """The flow between input frames ``index - 1`` and ``index`` (runs on the worker)."""
        estimator, _ = self.flow_tools()
        # the pairs run in order, so the second frame's luma serves the next pair as its first
        if self._last_gray is not None and self._last_gray[0] == index - 1:
            first_gray = self._last_gray[1]
        else:
            first_gray = estimator.gray(first)
        second_gray = estimator.gray(second)
        self._last_gray = (index, second_gray)
        return estimator.pair(first_gray, second_gray)

    def between(
        self, first: np.ndarray, second: np.ndarray, cut: bool, index: int, flow: Future[Any] | None
    ) -> list[np.ndarray]:
        """Output frames whose position lies in [index - 1, index): frame ``index - 1`` is ``first``."""
        from kinograph.plugins.interpolation.blend import cross_fade, nearest_side

        times: list[float] = []
        while self.timing.position(self.next_out) < index:
            _, t = split_position(self.timing.position(self.next_out))
            times.append(t)
            self.next_out += 1
        inner = [t for t in times if t > 0.0]
        made: dict[float, np.ndarray] = {}
        if inner:
            if cut:
                self.cuts += 1
                new = nearest_side(first, second, inner)
            elif self.p.method == "blend":
                new = cross_fade(first, second, inner)
            else:
                pair = flow.result() if flow is not None else self.pair_flow(index, first, second)
                new = self.flow_tools()[1].interpolate(first, second, pair, inner)
            made = dict(zip(inner, new, strict=True))
        return [first if t == 0.0 else made[t] for t in times]

    def flow_tools(self) -> tuple[Any, Any]:
        """The DIS estimator and the warp backend, made on first use (they import cv2 / torch)."""
        with self._tools_lock:
            if self._estimator is None:
                from kinograph.plugins.interpolation.flow import FlowEstimator

                # only torch needs the device: resolving it may import torch, on the worker thread
                device = self.ctx.device if self.backend == "torch" else "cpu"
                self._warp = make_warp(self.backend, self.height, self.width, device)
                self._estimator = FlowEstimator(self.p.preset, self.height, self.width)
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
