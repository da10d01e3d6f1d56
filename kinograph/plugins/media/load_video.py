"""Load video: decode a video file lazily (PyAV) into a FrameStream, chunk by chunk."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field

from kinograph.api import (
    AUDIO,
    FRAME_STREAM,
    FrameStream,
    InputPath,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
)

if TYPE_CHECKING:
    import numpy as np

VIDEO_FILTERS = ["Videos (*.mp4 *.mov *.mkv *.webm *.avi *.m4v)", "All files (*)"]


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video stream, after rotation."""

    fps: float
    width: int
    height: int
    duration: float | None
    frames: int | None
    rotation: int
    has_audio: bool


def open_video(path: str) -> Any:
    """Open a media file with PyAV, or fail naming the path."""
    import os

    import av

    if os.path.isdir(path):
        raise NodeFailure(f"{path} is a folder, not a video file (use Load images for a folder of frames)")
    try:
        container = av.open(path)
    except FileNotFoundError as exc:
        raise NodeFailure(f"video file not found: {path} (check the path param)") from exc
    except (av.FFmpegError, OSError, ValueError) as exc:
        # FFmpeg's errors carry a huge errno and the path again; the reason is what users need.
        reason = getattr(exc, "strerror", None) or str(exc)
        raise NodeFailure(f"cannot open video {path}: {reason} (is it a complete video file?)") from exc
    if not container.streams.video:
        container.close()
        raise NodeFailure(f"{path} has no video track")
    return container


def probe(path: str) -> VideoInfo:
    """Frame rate, upright size, duration and frame count of a video file (decodes one frame)."""
    import av

    container = open_video(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 24.0
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        try:
            first = next(container.decode(stream))
        except (StopIteration, av.FFmpegError) as exc:
            raise NodeFailure(f"cannot decode any frame of {path}: {exc or 'no frames'}") from exc
        rotation = quarter_turns(first.rotation)
        width, height = first.width, first.height
        if rotation % 2:
            width, height = height, width
        return VideoInfo(
            fps=fps,
            width=width,
            height=height,
            duration=duration,
            frames=stream.frames or None,
            rotation=rotation,
            has_audio=bool(container.streams.audio),
        )
    finally:
        container.close()


def quarter_turns(degrees: float) -> int:
    """A display-matrix rotation (counter-clockwise degrees) as np.rot90 quarter turns."""
    return round(degrees / 90.0) % 4


def decoded_frames(
    path: str, start: float, end: float | None, rotation: int, *, hold_previous: bool = False
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (time in seconds, upright RGB frame) from ``start`` up to ``end`` (exclusive).

    With ``hold_previous`` the frame still on screen at ``start`` (shown before it) comes first.
    """
    import av
    import numpy as np

    def upright(frame: Any) -> np.ndarray:
        pixels = frame.to_ndarray(format="rgb24")
        return np.ascontiguousarray(np.rot90(pixels, rotation)) if rotation else pixels

    container = open_video(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start > 0:
            # Seek to the keyframe before start, then decode forward to it.
            container.seek(int(start / float(stream.time_base)), stream=stream, backward=True)
        previous = None
        try:
            for frame in container.decode(stream):
                when = float(frame.time) if frame.time is not None else 0.0
                if when < start - 1e-6:
                    previous = frame if hold_previous else None
                    continue
                if previous is not None:
                    if when > start + 1e-6:
                        yield start, upright(previous)
                    previous = None
                if end is not None and when >= end - 1e-6:
                    break
                yield when, upright(frame)
        except av.FFmpegError as exc:
            raise NodeFailure(f"decoding {path} failed: {exc}") from exc
    finally:
        container.close()


def constant_rate(
    frames: Iterator[tuple[float, np.ndarray]], start: float, fps: float, count: int | None
) -> Iterator[np.ndarray]:
    """Resample timed frames to ``fps``: output k shows the frame on screen at ``start + k / fps``.

    Frames are repeated or dropped by their timestamps, so variable frame rate sources play at
    their true speed. With ``count`` the output has exactly that many frames.
    """
    shown: np.ndarray | None = None
    k = 0
    for when, pixels in frames:
        # Output times before this frame appears still show the previous frame.
        while shown is not None and start + k / fps < when - 1e-6:
            if count is not None and k >= count:
                return
            yield shown
            k += 1
        shown = pixels
    if shown is None:
        return
    # The last frame stays on screen for the rest (or, with no known length, one more slot).
    limit = count if count is not None else k + 1
    while k < limit:
        yield shown
        k += 1


def frames_between(start: float, end: float, fps: float) -> int:
    """How many of the times k / fps fall in [start, end)."""
    return max(0, math.ceil(end * fps - 1e-6) - math.ceil(start * fps - 1e-6))


class LoadVideo(Node["LoadVideo.Params"]):
    """Decodes a video file lazily into a FrameStream (PyAV)."""

    type_id = "kinograph.video.load"
    display_name = "Load video"
    category = "Video"
    description = (
        "Decodes a video file as a stream of RGB frames, a chunk at a time: start/end trim (seconds), "
        "step keeps every n-th frame, rotation metadata is applied, and constant_fps resamples "
        "variable frame rate video by its timestamps. Its audio can be copied by Write video."
    )
    outputs = [
        Output("frames", FRAME_STREAM, "The decoded frames."),
        Output("audio", AUDIO, "The file itself when it has an audio track (for Write video's audio input)."),
    ]

    class Params(NodeParams):
        path: str = InputPath("", description="The video file.", filters=VIDEO_FILTERS)
        start: float = Field(0.0, ge=0.0, description="Start time in seconds.")
        end: float | None = Field(None, gt=0.0, description="End time in seconds (empty: to the end).")
        step: int = Field(1, ge=1, le=1000, description="Keep every n-th frame.")
        constant_fps: float | None = Field(
            None, gt=0.0, le=1000.0, description="Resample to this constant frame rate (empty: as decoded)."
        )
        chunk: int = Field(8, ge=1, le=256, description="Frames per chunk.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        p = self.params
        if p.end is not None and p.end <= p.start:
            raise NodeFailure(f"end ({p.end} s) must be after start ({p.start} s)")
        info = probe(p.path)
        end = info.duration if p.end is None else p.end
        if info.duration is not None and end is not None:
            end = min(end, info.duration)
        rate = p.constant_fps or info.fps
        if p.constant_fps is not None:
            resampled = None if end is None else frames_between(0.0, end - p.start, rate)
            count = resampled
        else:
            resampled = None
            count = info.frames if p.start == 0 and p.end is None else None
            if count is None and end is not None:
                count = frames_between(p.start, end, rate)
        if count is not None:
            count = math.ceil(count / p.step)
        fps = rate / p.step
        path, start, stop, rotation, step = p.path, p.start, p.end, info.rotation, p.step
        resample = p.constant_fps

        def frames() -> Iterator[np.ndarray]:
            timed = decoded_frames(path, start, stop, rotation, hold_previous=resample is not None)
            if resample is not None:
                source: Iterator[np.ndarray] = constant_rate(timed, start, resample, resampled)
            else:
                source = (pixels for _, pixels in timed)
            for index, pixels in enumerate(source):
                if index % step == 0:
                    yield pixels

        stream = FrameStream.from_frames(
            frames(), fps=fps, width=info.width, height=info.height, frame_count=count, chunk_size=p.chunk
        )
        if info.has_audio:
            stream.audio = path
            stream.meta["audio_start"] = start
        stream.meta["source"] = path
        return {"frames": stream, "audio": path if info.has_audio else None}
