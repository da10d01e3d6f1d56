"""Metric nodes: score a stream inside a graph, so one run renders and evaluates.

Both take a FrameStream and output a ``Metrics`` value (a :class:`Report`: the table
``kinograph evaluate`` prints plus per-frame curves), which the editor's viewer shows as a table
and plots. They are output nodes (a run reaches them like a writer) and pull their input in step
with any other consumer, e.g. a Write video on the same stream. With ``report_path`` set they also
write the numbers as ``kinograph evaluate --json`` would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from kinograph.api import (
    FRAME_STREAM,
    PATH,
    FrameStream,
    Input,
    KinographError,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    OutputPath,
    PortType,
    RunContext,
    atomic_output,
    output_target,
)

if TYPE_CHECKING:
    import numpy as np

    from kinograph.plugins.evaluation.report import Report

METRICS = PortType(
    "Metrics",
    "Evaluation results: a table of numbers and per-frame curves (as `kinograph evaluate` reports them).",
    color="#26a69a",
)
JSON_FILTERS = ["JSON (*.json)"]


def pixels_of(ctx: RunContext, frames: FrameStream) -> Iterator[np.ndarray]:
    """The stream's chunks as arrays, with progress and cancellation checks between them."""
    done = 0
    for chunk in frames:
        ctx.check_cancelled()
        yield chunk.pixels
        done += chunk.count
        ctx.progress(done, frames.frame_count)


def write_report(report: Report, path: str) -> str | None:
    """Write the report's JSON to ``path`` (nothing when empty); the path written."""
    if not path:
        return None
    try:
        target = output_target(path)
        with atomic_output(target) as temp:
            temp.write_text(report.json_text(), encoding="utf-8")
    except KinographError as exc:
        raise NodeFailure(str(exc)) from exc
    return str(target)


class VideoMetrics(Node["VideoMetrics.Params"]):
    """Warp error, camera jerk, flicker and sharpness kept of a stream."""

    type_id = "kinograph.eval.video_metrics"
    display_name = "Video metrics"
    category = "Evaluation"
    description = (
        "Measures the frames as they stream by: temporal consistency (warp error between "
        "neighbouring frames, 8-bit levels), motion smoothness (jerk of the measured camera path), "
        "flicker (change of mean brightness) and sharpness kept from the first frame. "
        "The same numbers as `kinograph evaluate video`."
    )
    output_node = True
    inputs = [Input("frames", FRAME_STREAM, "The video to measure.")]
    outputs = [
        Output("metrics", METRICS, "The table and per-frame curves."),
        Output("report", PATH, "The JSON file written (when report_path is set)."),
    ]

    class Params(NodeParams):
        name: str = Field("video", min_length=1, max_length=200, description="The name shown in the table.")
        report_path: str = OutputPath("", description="Also write the numbers as JSON here (empty: no file).", filters=JSON_FILTERS)

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        from kinograph.plugins.evaluation.video_metrics import measure_video, new_report

        if frames.fps <= 0:
            raise NodeFailure(f"the stream has fps {frames.fps}; jerk needs a positive frame rate")
        name = self.params.name
        found = measure_video(
            pixels_of(ctx, frames), frames.fps, cancel=ctx.check_cancelled, frame_count=frames.frame_count
        )
        for warning in found.warnings:
            ctx.warn(warning)
        report = new_report()
        report.add(found.summary(name))
        report.curves[name] = found.curves()
        report.notes.extend(found.warnings)
        return {"metrics": report, "report": write_report(report, self.params.report_path)}


class InterpolationQuality(Node["InterpolationQuality.Params"]):
    """PSNR and SSIM of frames rebuilt by interpolation, against the real ones dropped."""

    type_id = "kinograph.eval.interpolation_quality"
    display_name = "Interpolation quality"
    category = "Evaluation"
    description = (
        "Drops every other frame of real footage, rebuilds each with Interpolate frames' own code "
        "and scores it against the dropped original: PSNR (dB, inf when exact) and SSIM, per "
        "method. The same numbers as `kinograph evaluate interpolation`."
    )
    output_node = True
    inputs = [Input("frames", FRAME_STREAM, "Real footage (not interpolated already).")]
    outputs = [
        Output("metrics", METRICS, "The table and per-frame curves."),
        Output("report", PATH, "The JSON file written (when report_path is set)."),
    ]

    class Params(NodeParams):
        name: str = Field("video", min_length=1, max_length=200, description="The name shown in the table.")
        methods: Literal["flow and blend", "flow", "blend"] = "flow and blend"
        preset: Literal["ultrafast", "fast", "medium"] = Field("medium", description="DIS preset of the flow method.")
        backend: Literal["auto", "opencv", "torch"] = "auto"
        report_path: str = OutputPath("", description="Also write the numbers as JSON here (empty: no file).", filters=JSON_FILTERS)

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        from kinograph.plugins.evaluation.interpolation_quality import (
            InterpolationCheck,
            new_report,
            settings_for,
        )
        from kinograph.plugins.interpolation.node import InterpolateFrames

        p = self.params
        methods = ["flow", "blend"] if p.methods == "flow and blend" else [p.methods]
        settings = settings_for(methods, [p.preset])
        backend = InterpolateFrames(InterpolateFrames.Params(backend=p.backend)).backend_name(ctx)
        check = InterpolationCheck(settings, frames.fps, frames.height, frames.width, ctx=ctx, backend=backend)
        for pixels in pixels_of(ctx, frames):
            for frame in pixels:
                check.add(frame)
        if check.count < 3:
            raise NodeFailure(f"the stream has {check.count} frame(s); dropping every other frame needs at least 3")
        report = new_report()
        for setting in settings:
            scores = check.scores[setting]
            report.add(scores.summary(p.name))
            report.curves[f"{p.name}: {setting.label}"] = {"psnr (dB)": _by_frame(scores.frames, scores.psnr),
                                                           "ssim": _by_frame(scores.frames, scores.ssim)}
        return {"metrics": report, "report": write_report(report, p.report_path)}


def _by_frame(frames: list[int], values: list[float]) -> list[float]:
    """Values placed at their frame index (NaN for the kept frames)."""
    out = [float("nan")] * (max(frames) + 1 if frames else 0)
    for index, value in zip(frames, values, strict=True):
        out[index] = value
    return out


__all__ = ["METRICS", "InterpolationQuality", "VideoMetrics"]
