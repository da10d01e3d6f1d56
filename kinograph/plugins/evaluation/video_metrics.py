"""No-reference video metrics, measured while a video streams by (any video, any length).

- **Temporal consistency** (warp error): each frame is predicted from the previous one moved
  along the optical flow between them (DIS, OpenCV), and the mean absolute difference is taken
  on the pixels both frames see (forward-backward consistent, landing inside the frame). Content
  that moves as the flow says scores near 0; flicker, popping texture and morphing score high.
  8-bit levels, measured at :data:`WORK_SIDE` pixels on the longer side.
- **Motion smoothness**: the jerk of the camera path that the learned pack's ``measure_chunks``
  measures (see :mod:`.smoothness`).
- **Flicker**: the mean absolute change of mean brightness (luma, 8-bit levels) between
  neighbouring frames.
- **Sharpness kept**: the variance of the Laplacian of each frame's luma, as a ratio to the
  first frame's (1 = as sharp as the first frame; below 1 = softer).

Pairs across a scene cut count for no metric. A cut is where the motion meter starts a new shot
(its colour histograms jump) *and* the flow finds less than :data:`CUT_CONSISTENCY` of the frame
in both frames: a brightness flicker also moves histograms, but the flow (DIS normalises patch
means) still matches it, so flicker is measured, never hidden as cuts. Only the previous frame
and a few numbers per frame are held, plus a bounded set of thumbnails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinograph.api import Motion
from kinograph.plugins.evaluation.contact_sheet import EvenSampler, thumbnail
from kinograph.plugins.evaluation.report import Measure, Report
from kinograph.plugins.evaluation.smoothness import Jerk, camera_jerk

if TYPE_CHECKING:
    import numpy as np

#: the warp error is measured on frames scaled to this longer side (pixels)
WORK_SIDE = 480
#: frames a contact sheet shows by default
SHEET_FRAMES = 12
#: a pair whose flow is consistent on less than this share of the frame may be a cut (pans and
#: flicker keep 0.95 or more on photo-like frames, unrelated shots under 0.1)
CUT_CONSISTENCY = 0.5

MEASURES = [
    Measure("video", "video"),
    Measure("frames", "frames"),
    Measure("fps", "frame rate", "fps", 3),
    Measure("size", "size", "px"),
    Measure("cuts", "scene cuts"),
    Measure("warp_error", "warp error (mean)", "levels", 3,
            "temporal consistency: previous frame moved along the flow vs this frame; 0 = perfectly consistent"),
    Measure("warp_error_max", "warp error (worst pair)", "levels", 3),
    Measure("flicker", "flicker (mean)", "levels", 3, "mean |change of mean brightness| between frames"),
    Measure("flicker_max", "flicker (worst pair)", "levels", 3),
    Measure("jerk_pan", "camera jerk: pan (RMS)", "widths/s³", 3, "lower is smoother"),
    Measure("jerk_zoom", "camera jerk: zoom (RMS)", "log-zoom/s³", 3),
    Measure("jerk_rotation", "camera jerk: rotation (RMS)", "deg/s³", 3),
    Measure("sharpness_last", "sharpness kept: last/first", "ratio", 3, "1 = as sharp as the first frame"),
    Measure("sharpness_min", "sharpness kept: worst/first", "ratio", 3),
]


def new_report() -> Report:
    """An empty report of video metrics, one column per video."""
    return Report("video", "Video metrics", list(MEASURES), layout="columns", label="video")


@dataclass
class VideoMeasures:
    """Everything measured on one video: per-frame series, the camera motion and thumbnails.

    ``warp_error[k]`` and ``brightness_change[k]`` belong to the pair (k - 1, k) (index 0: NaN);
    ``cuts`` are the frames that start a new shot.
    """

    fps: float
    width: int
    height: int
    warp_error: list[float]
    brightness: list[float]
    sharpness: list[float]
    motion: Motion | None
    jerk: Jerk | None
    cuts: list[int]
    samples: list[tuple[int, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return len(self.brightness)

    def brightness_change(self) -> list[float]:
        """|mean brightness of k - of k - 1| per frame (NaN at 0 and at cuts)."""
        b = self.brightness
        cuts = set(self.cuts)
        return [math.nan if k == 0 or k in cuts else abs(b[k] - b[k - 1]) for k in range(len(b))]

    def usable_warp_error(self) -> list[float]:
        cuts = set(self.cuts)
        return [math.nan if k in cuts else v for k, v in enumerate(self.warp_error)]

    def sharpness_kept(self) -> list[float]:
        """Each frame's sharpness over the first frame's (NaN when the first frame is flat)."""
        first = self.sharpness[0] if self.sharpness else 0.0
        if first <= 0:
            return [math.nan for _ in self.sharpness]
        return [s / first for s in self.sharpness]

    def summary(self, name: str) -> dict[str, Any]:
        """The report's values for this video."""
        warp = finite(self.usable_warp_error())
        flicker = finite(self.brightness_change())
        kept = self.sharpness_kept()
        jerk = self.jerk
        return {
            "video": name,
            "frames": self.frames,
            "fps": self.fps,
            "size": f"{self.width}x{self.height}",
            "cuts": len(self.cuts),
            "warp_error": mean(warp),
            "warp_error_max": max(warp) if warp else None,
            "flicker": mean(flicker),
            "flicker_max": max(flicker) if flicker else None,
            "jerk_pan": jerk.pan if jerk else None,
            "jerk_zoom": jerk.zoom if jerk else None,
            "jerk_rotation": jerk.rotation if jerk else None,
            "sharpness_last": kept[-1] if kept else None,
            "sharpness_min": min(finite(kept)) if finite(kept) else None,
        }

    def curves(self) -> dict[str, list[float]]:
        """Per-frame series for plots and the per-frame CSV."""
        out = {
            "warp error (levels)": self.usable_warp_error(),
            "brightness (levels)": list(self.brightness),
            "brightness change (levels)": self.brightness_change(),
            "sharpness kept (ratio)": self.sharpness_kept(),
        }
        if self.jerk is not None:
            out["pan jerk (widths/s³)"] = list(self.jerk.per_frame)
        if self.motion is not None:
            out["pan_x"] = list(self.motion.pan_x)
            out["pan_y"] = list(self.motion.pan_y)
            out["zoom"] = list(self.motion.zoom)
            out["rotation"] = list(self.motion.rotation)
        return out


def finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


class FrameMeter:
    """Warp error, brightness and sharpness, one frame at a time (holds the previous frame)."""

    def __init__(self, *, work_side: int = WORK_SIDE, sheet_frames: int = SHEET_FRAMES, total: int | None = None) -> None:
        self.work_side = work_side
        self.sampler = EvenSampler(max(1, sheet_frames), total)
        self.warp_error: list[float] = []
        self.consistent: list[float] = []  # per pair: share of the frame the flow matched both ways
        self.brightness: list[float] = []
        self.sharpness: list[float] = []
        self.size: tuple[int, int] | None = None
        self._prev: tuple[Any, Any] | None = None  # (small RGB, small luma)
        self._dis: list[Any] = []

    def add(self, frame: np.ndarray) -> None:
        import cv2
        import numpy as np

        height, width = frame.shape[:2]
        if self.size is None:
            self.size = (width, height)
        elif self.size != (width, height):
            raise ValueError(f"frame {len(self.brightness)} is {width}x{height}, not {self.size[0]}x{self.size[1]}")
        index = len(self.brightness)
        luma = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        self.brightness.append(float(luma.mean()))
        self.sharpness.append(float(cv2.Laplacian(luma, cv2.CV_64F).var()))
        small = self._small(frame)
        small_luma = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        error, consistent = (math.nan, 1.0) if self._prev is None else self._warp_error(*self._prev, small, small_luma)
        self.warp_error.append(error)
        self.consistent.append(consistent)
        self._prev = (small, small_luma)
        self.sampler.offer(index, lambda: thumbnail(np.ascontiguousarray(frame)))

    def _small(self, frame: np.ndarray) -> np.ndarray:
        import cv2

        height, width = frame.shape[:2]
        scale = min(1.0, self.work_side / max(width, height))
        if scale >= 1.0:
            return frame
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)

    def _warp_error(
        self, prev: np.ndarray, prev_luma: np.ndarray, cur: np.ndarray, cur_luma: np.ndarray
    ) -> tuple[float, float]:
        """Mean |previous frame moved along the flow - this frame| where both frames see the
        same thing, and the share of the frame where they do."""
        import cv2
        import numpy as np

        from kinograph.plugins.interpolation.flow import SEEN, consistency_weight, pixel_map, round_trip

        if not self._dis:
            self._dis = [cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) for _ in range(2)]
        h, w = cur_luma.shape
        # where each pixel of this frame was in the previous one, and the way back for the check
        back = self._dis[0].calc(cur_luma, prev_luma, None)
        forward = self._dis[1].calc(prev_luma, cur_luma, None)
        predicted = cv2.remap(prev, pixel_map(h, w) + back, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        forward_there, map_x, map_y = round_trip(back, forward)
        seen = consistency_weight(np, back, forward_there, map_x, map_y, w, h) >= SEEN
        inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        usable = seen & inside
        if not usable.any():
            return math.nan, 0.0
        diff = np.abs(predicted.astype(np.float32) - cur.astype(np.float32)).mean(axis=2)
        return float(diff[usable].mean()), float(usable.mean())


def measure_video(
    chunks: Iterable[np.ndarray],
    fps: float,
    *,
    sheet_frames: int = SHEET_FRAMES,
    cancel: Callable[[], None] | None = None,
    work_side: int = WORK_SIDE,
    frame_count: int | None = None,
) -> VideoMeasures:
    """Measure a video given as RGB ``uint8 [n, H, W, 3]`` chunks, in one pass.

    The chunks flow into the learned pack's camera-motion meter; this module's per-frame
    measures watch them on the way. ``cancel`` is called between frames and may raise.
    ``frame_count``, when known, lets the contact sheet pick exactly evenly spaced frames.
    """
    from kinograph.plugins.learned.measure import measure_chunks

    meter = FrameMeter(work_side=work_side, sheet_frames=sheet_frames, total=frame_count)
    warnings: list[str] = []

    def watched() -> Iterator[np.ndarray]:
        for chunk in chunks:
            for frame in chunk:
                if cancel is not None:
                    cancel()
                meter.add(frame)
            yield chunk

    try:
        motion = measure_chunks(watched(), fps, warn=warnings.append, cancel=cancel)
    except ValueError as exc:  # no frames, or frames that change size midway
        from kinograph.api import KinographError

        if not meter.brightness:
            raise KinographError("the video has no frames to measure") from exc
        raise KinographError(f"cannot measure the video: {exc}") from exc
    # the jerk never spans a segment of the meter; the other metrics skip only true cuts
    shots = [int(s) for s in motion.meta.get("segments", [0]) if int(s) > 0]
    cuts = [k for k in shots if meter.consistent[k] < CUT_CONSISTENCY]
    jerk = camera_jerk(motion, fps)
    width, height = meter.size or (0, 0)
    return VideoMeasures(
        fps=fps,
        width=width,
        height=height,
        warp_error=meter.warp_error,
        brightness=meter.brightness,
        sharpness=meter.sharpness,
        motion=motion,
        jerk=jerk,
        cuts=cuts,
        samples=meter.sampler.picked(),
        warnings=warnings,
    )
