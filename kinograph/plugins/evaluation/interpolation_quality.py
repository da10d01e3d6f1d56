"""Interpolation quality on real footage: drop every other frame, rebuild it, compare.

Frames 0, 2, 4, ... are kept; the Interpolate frames node's own pair code (its
:class:`PairStepper`, at factor 2, with its scene-cut rule) makes the frame halfway between
each two kept frames, and that frame is scored against the dropped original 1, 3, 5, ... with
PSNR and SSIM (:mod:`.image_quality`). Only dropped frames are scored: the kept ones come back
unchanged and would only flatter the numbers. A dropped frame after the last kept one has no
pair and is not scored.

Every method and preset runs in the same pass over the video, so it is decoded once and only
the previous kept frame and the frame being rebuilt are held.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinograph.api import KinographError, RunContext
from kinograph.plugins.evaluation.contact_sheet import EvenSampler, thumbnail
from kinograph.plugins.evaluation.image_quality import psnr, ssim
from kinograph.plugins.evaluation.report import Measure, Report
from kinograph.plugins.interpolation.flow import PRESETS
from kinograph.plugins.interpolation.node import InterpolateFrames, PairStepper
from kinograph.plugins.interpolation.timing import timing_for

if TYPE_CHECKING:
    import numpy as np

METHODS = ("flow", "blend")
#: rows of the interpolation contact sheet by default
SHEET_ROWS = 6

MEASURES = [
    Measure("video", "video"),
    Measure("method", "method"),
    Measure("preset", "preset"),
    Measure("frames", "frames", help="dropped frames rebuilt and scored"),
    Measure("exact", "exact", help="frames rebuilt bit-exactly (infinite PSNR)"),
    Measure("psnr", "PSNR", "dB", 2, "mean over the scored frames that differ; inf when all are exact"),
    Measure("psnr_min", "PSNR worst", "dB", 2),
    Measure("ssim", "SSIM", "", 4, "mean over all scored frames; 1 = identical"),
    Measure("ssim_min", "SSIM worst", "", 4),
]


def new_report() -> Report:
    """An empty report of interpolation quality, one row per video, method and preset."""
    return Report("interpolation", "Interpolation quality (dropped frames rebuilt)", list(MEASURES))


@dataclass(frozen=True)
class Setting:
    """One way of rebuilding: a method and, for ``flow``, a DIS preset."""

    method: str
    preset: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.preset}" if self.method == "flow" else self.method

    @property
    def shown_preset(self) -> str:
        return self.preset if self.method == "flow" else "-"


def settings_for(methods: Sequence[str], presets: Sequence[str]) -> list[Setting]:
    """Each method with each preset; ``blend`` uses no flow, so it appears once."""
    for method in methods:
        if method not in METHODS:
            raise KinographError(f"unknown method {method!r}; use {', '.join(METHODS)}")
    for preset in presets:
        if preset not in PRESETS:
            raise KinographError(f"unknown preset {preset!r}; use {', '.join(PRESETS)}")
    if not methods or not presets:
        raise KinographError("give at least one method and one preset")
    found: list[Setting] = []
    for method in dict.fromkeys(methods):
        for preset in dict.fromkeys(presets) if method == "flow" else [presets[0]]:
            found.append(Setting(method, preset))
    return found


@dataclass
class SettingScores:
    """Per-frame scores of one setting: ``frames[i]`` is the index of the scored original."""

    setting: Setting
    frames: list[int] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)

    def summary(self, video: str) -> dict[str, Any]:
        differing = [v for v in self.psnr if math.isfinite(v)]
        exact = len(self.psnr) - len(differing)
        if not self.psnr:
            psnr_mean = psnr_min = None
        elif differing:
            psnr_mean, psnr_min = sum(differing) / len(differing), min(differing)
        else:
            psnr_mean = psnr_min = math.inf
        return {
            "video": video,
            "method": self.setting.method,
            "preset": self.setting.shown_preset,
            "frames": len(self.psnr),
            "exact": exact,
            "psnr": psnr_mean,
            "psnr_min": psnr_min,
            "ssim": sum(self.ssim) / len(self.ssim) if self.ssim else None,
            "ssim_min": min(self.ssim) if self.ssim else None,
        }


class InterpolationCheck:
    """Feeds original frames one at a time; rebuilds and scores each dropped one.

    :meth:`add` returns, when a kept frame closes a pair, the frames each setting's rebuilt
    video shows for that stretch (the earlier kept frame and the in-between), by setting label;
    a side-by-side comparison can be encoded from them while the check runs.
    """

    def __init__(
        self,
        settings: Sequence[Setting],
        fps: float,
        height: int,
        width: int,
        *,
        ctx: RunContext | None = None,
        backend: str = "opencv",
        sheet_rows: int = SHEET_ROWS,
        scene_cut_threshold: float = 0.12,
        frame_count: int | None = None,
    ) -> None:
        if fps <= 0:
            raise KinographError(f"the video's frame rate is {fps}; interpolation needs a positive one")
        self.settings = list(settings)
        self.ctx = ctx or RunContext("evaluate")
        # the kept frames run at half the rate; factor 2 puts one frame halfway between each two
        timing = timing_for(fps / 2, "factor", 2, fps)
        self.steppers: dict[Setting, PairStepper] = {}
        for s in self.settings:
            params = InterpolateFrames.Params(
                method=s.method, preset=s.preset, factor=2, backend=backend, scene_cut_threshold=scene_cut_threshold
            )
            self.steppers[s] = PairStepper(params, timing, backend, self.ctx, height, width)
        self.scores = {s: SettingScores(s) for s in self.settings}
        self.fps = fps
        self.size = (height, width)
        self.count = 0
        # the dropped frames that get a pair are 1, 3, ... up to frame_count - 2: (frame_count - 1) // 2
        scored = (frame_count - 1) // 2 if frame_count else None
        self.sampler = EvenSampler(max(1, sheet_rows), scored)
        self._prev: tuple[np.ndarray, Any] | None = None  # last kept frame and its histogram
        self._dropped: np.ndarray | None = None

    def add(self, frame: np.ndarray) -> dict[str, list[np.ndarray]] | None:
        import numpy as np

        index = self.count
        if frame.shape[:2] != self.size:
            raise KinographError(
                f"frame {index} is {frame.shape[1]}x{frame.shape[0]}, but the video is "
                f"{self.size[1]}x{self.size[0]}; evaluate one size of frames at a time"
            )
        self.count += 1
        if index % 2 == 1:
            self._dropped = np.array(frame)  # a copy: the chunk may be reused upstream
            return None
        stepper = next(iter(self.steppers.values()))
        hist = stepper.histogram(frame)
        made: dict[str, list[np.ndarray]] | None = None
        if self._prev is not None and self._dropped is not None:
            made = self._rebuild(self._prev, (frame, hist), index // 2, index - 1)
        self._prev = (np.array(frame), hist)
        self._dropped = None
        return made

    def samples(self) -> list[tuple[int, dict[str, Any]]]:
        """Evenly spaced scored frames for a contact sheet: (frame index, thumbnails by column)."""
        return [item for _, item in self.sampler.picked()]

    def finish(self) -> np.ndarray | None:
        """The last kept frame (the rebuilt videos end with it), or None for an empty video."""
        return self._prev[0] if self._prev is not None else None

    def _rebuild(self, first: tuple[Any, Any], second: tuple[Any, Any], kept_index: int, truth_index: int) -> dict[str, list[np.ndarray]]:
        truth = self._dropped
        assert truth is not None
        made: dict[str, list[np.ndarray]] = {}
        rebuilt: dict[Setting, np.ndarray] = {}
        for setting, stepper in self.steppers.items():
            cut = stepper.is_cut(first[1], second[1])
            # the node's own code: the output frames in [kept_index - 1, kept_index), with t = 0, 0.5
            frames = stepper.between(first[0], second[0], cut, kept_index, None)
            middle = frames[-1]
            scores = self.scores[setting]
            scores.frames.append(truth_index)
            scores.psnr.append(psnr(truth, middle))
            scores.ssim.append(ssim(truth, middle))
            made[setting.label] = frames
            rebuilt[setting] = middle
        # the sampler counts scored frames (0, 1, 2, ...), which are frames 1, 3, 5, ...
        self.sampler.offer((truth_index - 1) // 2, lambda: (truth_index, self._sample(truth, rebuilt)))
        return made

    def _sample(self, truth: np.ndarray, rebuilt: dict[Setting, np.ndarray]) -> dict[str, Any]:
        return {"truth": thumbnail(truth), **{s.label: thumbnail(frame) for s, frame in rebuilt.items()}}


def check_interpolation(
    chunks: Iterable[np.ndarray],
    settings: Sequence[Setting],
    fps: float,
    height: int,
    width: int,
    *,
    ctx: RunContext | None = None,
    backend: str = "opencv",
    cancel: Callable[[], None] | None = None,
    on_rebuilt: Callable[[dict[str, list[np.ndarray]]], None] | None = None,
) -> InterpolationCheck:
    """Run the check over RGB ``uint8 [n, H, W, 3]`` chunks; returns it with its scores."""
    check = InterpolationCheck(settings, fps, height, width, ctx=ctx, backend=backend)
    for frame in frames_of(chunks):
        if cancel is not None:
            cancel()
        made = check.add(frame)
        if made is not None and on_rebuilt is not None:
            on_rebuilt(made)
    return check


def frames_of(chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    for chunk in chunks:
        yield from chunk
