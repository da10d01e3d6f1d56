"""Footage for training: find videos and image sequences, decode them, measure their camera
motion (cached), cut them into clips that never span a scene cut, and give each clip's target.

A clip's target is its camera move relative to its own first frame (what a photo of that frame
should get), measured by :func:`kinograph.plugins.learned.measure.measure_chunks` and resampled
from the source's frame rate to the generator's step rate.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinograph.api import KinographError

if TYPE_CHECKING:
    import numpy as np

    from kinograph.plugins.learned.tensor_cache import TensorCache

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv", ".flv"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
CHUNK = 16
#: Bump when what :func:`measured_motion` stores changes (the measure module's own source is
#: part of the key too, so a change there re-measures).
MEASURE_CACHE_VERSION = 1


@dataclass(frozen=True)
class Source:
    """One video file, or one folder of frames (an image sequence, with its frame rate)."""

    path: Path
    frames: tuple[Path, ...] = ()
    fps: float | None = None

    @property
    def is_sequence(self) -> bool:
        return bool(self.frames)

    @property
    def name(self) -> str:
        return self.path.name


def _natural(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def find_sources(inputs: list[str | Path], fps: float | None = None) -> list[Source]:
    """The videos and image sequences named by ``inputs`` (files or folders), in a stable order.

    A folder holding videos gives each of them (and those in its sub-folders); a folder holding
    only images is one image sequence, which needs ``fps``. Anything else is a
    :class:`KinographError` that says what to give instead.
    """
    sources: list[Source] = []
    for given in inputs:
        path = Path(given).expanduser()
        if not path.exists():
            raise KinographError(f"{path} does not exist: give videos, or folders of videos or of frames")
        if path.is_file():
            if path.suffix.lower() not in VIDEO_SUFFIXES:
                kinds = ", ".join(sorted(VIDEO_SUFFIXES))
                raise KinographError(
                    f"{path} is not a video ({kinds}); for frames, give the folder that holds them (with --fps)"
                )
            sources.append(Source(path))
            continue
        videos = sorted((p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES), key=_natural)
        images = sorted((p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=_natural)
        if videos and images:
            raise KinographError(
                f"{path} holds both videos and images: give the videos, or the folder of frames, on their own"
            )
        if videos:
            sources.extend(Source(v) for v in videos)
        elif images:
            if fps is None:
                raise KinographError(f"{path} is an image sequence: give its frame rate with --fps")
            sources.append(Source(path, tuple(images), fps))
        else:
            raise KinographError(f"{path} holds no videos and no images")
    if not sources:
        raise KinographError("no footage given")
    seen: set[Path] = set()
    unique = []
    for s in sources:
        key = s.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique


def content_hash(source: Source) -> str:
    """SHA-256 of the source's content (the video file, or the frames in order and the fps)."""
    from kinograph.plugins.learned.content import file_sha256, files_sha256, text_sha256

    if source.is_sequence:
        return text_sha256(f"{files_sha256(list(source.frames))}|fps={source.fps}")
    return file_sha256(source.path)


# -- decoding ----------------------------------------------------------------------------------


def video_fps(source: Source) -> float:
    """Frames per second of a source (the given fps of an image sequence)."""
    if source.is_sequence:
        assert source.fps is not None
        return float(source.fps)
    import av

    try:
        with av.open(str(source.path)) as container:
            if not container.streams.video:
                raise KinographError(f"{source.path} has no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    except av.FFmpegError as exc:
        raise KinographError(f"{source.path} cannot be read as a video ({exc})") from None
    if not rate or not math.isfinite(float(rate)) or float(rate) <= 0:
        raise KinographError(f"{source.path} does not say its frame rate")
    return float(rate)


def decode(source: Source, chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """RGB ``uint8 [n, H, W, 3]`` chunks of every frame, in order (never the whole video)."""
    import numpy as np

    buffer: list[np.ndarray] = []
    for frame in _frames(source):
        buffer.append(frame)
        if len(buffer) == chunk:
            yield np.stack(buffer)
            buffer = []
    if buffer:
        yield np.stack(buffer)


def _frames(source: Source) -> Iterator[np.ndarray]:
    import numpy as np

    if source.is_sequence:
        from PIL import Image

        size = None
        for path in source.frames:
            try:
                with Image.open(path) as image:
                    pixels = np.asarray(image.convert("RGB"))
            except OSError as exc:
                raise KinographError(f"{path} cannot be read as an image ({exc})") from None
            if size is None:
                size = pixels.shape
            elif pixels.shape != size:
                raise KinographError(
                    f"{path} is {pixels.shape[1]}x{pixels.shape[0]}, but the sequence in {source.path} started "
                    f"at {size[1]}x{size[0]}: frames of one sequence must share a size"
                )
            yield pixels
        return
    import av

    try:
        with av.open(str(source.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
    except av.FFmpegError as exc:
        raise KinographError(f"{source.path} cannot be decoded ({exc})") from None


def frames_at(source: Source, indices: set[int]) -> dict[int, np.ndarray]:
    """The frames at ``indices`` (one decoding pass, stopping after the last one)."""
    wanted = set(indices)
    found: dict[int, np.ndarray] = {}
    if not wanted:
        return found
    last = max(wanted)
    for i, frame in enumerate(_frames(source)):
        if i in wanted:
            found[i] = frame
        if i >= last:
            break
    return found


# -- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """A source's measured camera, one row per frame (pan_x, pan_y, zoom, rotation: Motion's
    units relative to frame 0), the first frame of each shot, the fps and the frame size."""

    camera: np.ndarray
    segments: tuple[int, ...]
    fps: float
    size: tuple[int, int]

    @property
    def frames(self) -> int:
        return int(self.camera.shape[0])


@functools.cache
def _measure_code() -> str:
    """Hash of the measuring module as this process loaded it (edits after that do not count)."""
    from kinograph.plugins.learned import measure
    from kinograph.plugins.learned.content import file_sha256

    return file_sha256(measure.__file__)


def measure_key(digest: str) -> str:
    """Cache key of a source's measurement: its content and the measuring code."""
    from kinograph.plugins.learned.content import text_sha256

    return text_sha256(f"measure|v{MEASURE_CACHE_VERSION}|{digest}|{_measure_code()}")[:40]


def measured_motion(
    source: Source,
    digest: str,
    cache: TensorCache,
    warn: Callable[[str], None] | None = None,
    cancel: Callable[[], None] | None = None,
) -> Measured:
    """The source's measured camera motion, from the cache or measured now (and cached)."""
    import numpy as np

    key = measure_key(digest)
    hit = cache.get("motion", key)
    if hit is not None:
        tensors, meta = hit
        camera = tensors["camera"]
        segments = tuple(int(s) for s in tensors["segments"])
        if camera.ndim == 2 and camera.shape[1] == 4 and segments and segments[0] == 0:
            return Measured(camera, segments, float(meta["fps"]), (int(meta["size"][0]), int(meta["size"][1])))
    from kinograph.plugins.learned.measure import measure_chunks

    fps = video_fps(source)

    def warn_here(message: str) -> None:
        if warn is not None:
            warn(f"{source.name}: {message}")

    try:
        motion = measure_chunks(decode(source), fps, warn=warn_here, cancel=cancel)
    except ValueError as exc:
        raise KinographError(f"{source.path}: {exc}") from None
    camera = np.array([motion.pan_x, motion.pan_y, motion.zoom, motion.rotation], dtype=np.float64).T
    segment_array = np.array(motion.meta.get("segments", [0]), dtype=np.int64)
    size = tuple(int(v) for v in motion.meta["size"])
    cache.put("motion", key, {"camera": camera, "segments": segment_array}, {"fps": fps, "size": list(size), "source": source.name})
    return Measured(np.ascontiguousarray(camera), tuple(int(s) for s in segment_array), fps, (size[0], size[1]))


# -- clips -------------------------------------------------------------------------------------


def clip_frames(steps: int, step_rate: float, fps: float) -> int:
    """Source frames a clip of ``steps`` steps at ``step_rate`` spans (first to last, inclusive)."""
    return math.ceil((steps - 1) / step_rate * fps - 1e-6) + 1


def clip_starts(measured: Measured, steps: int, step_rate: float, stride_seconds: float) -> list[int]:
    """First frames of the clips: every ``stride_seconds`` within each shot, whole clips only."""
    span = clip_frames(steps, step_rate, measured.fps)
    stride = max(1, round(stride_seconds * measured.fps))
    bounds = [*measured.segments, measured.frames]
    starts: list[int] = []
    for begin, end in itertools.pairwise(bounds):
        starts.extend(range(begin, end - span + 1, stride))
    return starts


def view_map(row: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The 3x3 map (frame pixels -> reference frame pixels) of one camera row, Animate's geometry."""
    import numpy as np

    width, height = size
    pan_x, pan_y, zoom, rotation = (float(v) for v in row)
    theta = math.radians(rotation)
    linear = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]]) / zoom
    half = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    centre = half + np.array([pan_x * width, pan_y * height])
    m = np.eye(3)
    m[:2, :2] = linear
    m[:2, 2] = centre - linear @ half
    return m


def relative_camera(measured: Measured, start: int, stop: int) -> np.ndarray:
    """Camera rows of frames ``start..stop-1`` relative to frame ``start`` (row 0 is identity)."""
    import numpy as np

    from kinograph.plugins.learned.measure import motion_of_map

    inverse = np.linalg.inv(view_map(measured.camera[start], measured.size))
    rows = [motion_of_map(inverse @ view_map(measured.camera[i], measured.size), measured.size) for i in range(start, stop)]
    return np.array(rows, dtype=np.float64)


def clip_target(measured: Measured, start: int, steps: int, step_rate: float) -> np.ndarray:
    """The clip's move at the step rate: ``[steps, 4]`` relative to its first frame.

    Steps fall between source frames; pan and rotation are interpolated linearly, zoom
    geometrically.
    """
    import numpy as np

    span = clip_frames(steps, step_rate, measured.fps)
    rows = relative_camera(measured, start, min(start + span + 1, measured.frames))
    where = np.arange(steps) / step_rate * measured.fps
    where = np.minimum(where, len(rows) - 1)
    low = np.floor(where).astype(int)
    high = np.minimum(low + 1, len(rows) - 1)
    t = (where - low)[:, None]
    logs = rows.copy()
    logs[:, 2] = np.log(rows[:, 2])
    out = logs[low] * (1 - t) + logs[high] * t
    out[:, 2] = np.exp(out[:, 2])
    return out
