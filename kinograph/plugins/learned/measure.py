"""Measuring camera motion in footage: frames in, a :class:`Motion` that replays the move.

Every frame pair gives one similarity transform (pan, zoom, rotation): corners tracked with
pyramidal Lucas-Kanade and checked forward-backward (or dense DIS flow), a RANSAC fit that keeps
the majority motion (the background, not a passing car), then a robust least-squares refit on
the inliers whose covariance says how sure the step is. Steps are composed into the map from
each frame to the first, and that map is written in the units Animate image plays back:

    Animate's view of frame k:   source = centre_k + R(rotation_k) / zoom_k * (output - half)

With the first frame as the "image" (same size as the output, zoom 1, pan 0), the composed map
``T_k`` (frame k pixels -> frame 0 pixels) *is* that view: its linear part gives zoom and
rotation, the image of the frame centre gives the pan. So replaying a measured Motion with
Animate image reproduces the camera move (motion transfer), and it is the training target of
the motion generator.

Streaming: only the previous frame (and one small list of numbers per frame) is held. Static
shots read as exactly zero (a step whose motion lies within its own measurement noise is
snapped to none); scene cuts start a new segment with zero motion across the cut; frames with
too little texture to measure are interpolated from their neighbours, with one warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal, cast

from kinograph.api import Motion

if TYPE_CHECKING:
    import numpy as np

Method = Literal["features", "flow"]

#: Frames are measured at this longest side (pixels); points are mapped back to full size.
DEFAULT_MAX_SIDE = 480
#: Colour-histogram distance (0..1) above which two neighbouring frames are a scene cut. Pans,
#: zooms and turns score under 0.06 on photo-like frames, cuts 0.19 or more.
DEFAULT_CUT_THRESHOLD = 0.12
#: Fewer trackable corners than this (or fewer inliers) and a frame counts as low-texture.
MIN_POINTS = 24
#: A corner must be at least this strong (OpenCV's normalised minimum eigenvalue) to be tracked:
#: the absolute floor that keeps compression noise on a flat wall from passing as texture.
MIN_CORNER_STRENGTH = 2e-4
#: A step whose motion has a chi-square against "no motion" below this (4 degrees of freedom,
#: p = 0.01) is within its measurement noise and snapped to exactly none.
STATIC_CHI2 = 13.3
#: Tracking is never more precise than this (working-size pixels per point), however well the
#: points agree: H.264 copies static blocks exactly, which would make noise look significant.
POINT_PRECISION = 0.02
#: RANSAC's inlier distance (working-size pixels). Tight on purpose: with a loose one, a tilt that
#: half-fits both a still background and a slowly moving object can win over the background.
RANSAC_THRESHOLD = 0.3
#: A step whose fit keeps fewer than this share of the tracked points is not trusted.
MIN_INLIER_RATIO = 0.2
#: With at least this many corners in both frames, a failed fit means the picture changed (a cut).
LOST_TRACK_POINTS = 4 * MIN_POINTS
#: Residual flow below this many pixels per cell and step is noise, not local motion.
FLOW_DEADBAND = 0.15
#: Corners tracked per frame, and Lucas-Kanade's window and pyramid (working-size pixels).
MAX_CORNERS = 300
LK_WINDOW = 21
LK_LEVELS = 3
LK_ITERATIONS = 30
LK_EPSILON = 0.01
#: Gaussian blur (working-size pixels) before tracking: bilinear sampling of a smooth image is
#: nearly exact, so the tracker's subpixel bias shrinks.
TRACK_BLUR = 1.0
#: A gap of unmeasurable steps is bridged from this many measured steps on each side.
GAP_NEIGHBOURS = 5
HIST_BINS = 16
HIST_WIDTH = 96


@dataclass(frozen=True)
class StepFit:
    """One frame pair's similarity, frame k pixels -> frame k-1 pixels, about the frame centre.

    ``p_prev - centre = [[a, -b], [b, a]] @ (p_cur - centre) + (tx, ty)``.
    """

    a: float
    b: float
    tx: float
    ty: float

    @staticmethod
    def identity() -> StepFit:
        return StepFit(1.0, 0.0, 0.0, 0.0)


@dataclass
class _Steps:
    """What the meter keeps per frame: small numbers only, never pixels."""

    fits: list[StepFit | None] = field(default_factory=list)  # None: not measurable (interpolate)
    inliers: list[float] = field(default_factory=list)
    support: list[int] = field(default_factory=list)  # inlier points behind each fit
    segments: list[int] = field(default_factory=lambda: [0])
    low_texture: list[int] = field(default_factory=list)
    local_flow: list[np.ndarray] = field(default_factory=list)  # [g, g, 2] in frame-k pixels


class MotionMeter:
    """Measures camera motion one frame at a time; :meth:`result` gives the Motion.

    Holds the previous frame (at the working size) and a few numbers per frame, so any length
    of video fits. ``measure_chunks`` drives it over a stream of chunks.
    """

    def __init__(
        self,
        fps: float,
        *,
        method: Method = "features",
        flow_grid: int = 0,
        max_side: int = DEFAULT_MAX_SIDE,
        cut_threshold: float = DEFAULT_CUT_THRESHOLD,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        if method not in ("features", "flow"):
            raise ValueError(f"method must be 'features' or 'flow', not {method!r}")
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps must be a positive number, not {fps!r}")
        self.fps = float(fps)
        self.method = method
        self.flow_grid = int(flow_grid)
        self.max_side = int(max_side)
        self.cut_threshold = float(cut_threshold)
        self.warn = warn
        self.size: tuple[int, int] | None = None  # full (width, height)
        self._small: tuple[int, int] = (0, 0)
        self._prev_gray: np.ndarray | None = None
        self._prev_hist: np.ndarray | None = None
        self._prev_corners: np.ndarray | None = None
        self._dis: Any = None  # cv2.DISOpticalFlow, made on first use
        self._steps = _Steps()
        import numpy as np

        self._dither = np.random.default_rng(0)

    # -- streaming -----------------------------------------------------------------------

    def add(self, frame: np.ndarray) -> None:
        """Measure one RGB ``uint8 [H, W, 3]`` frame against the previous one."""
        import numpy as np

        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame [H, W, 3], got {frame.dtype} {tuple(frame.shape)}")
        height, width = frame.shape[:2]
        if self.size is None:
            self._start(width, height)
        elif (width, height) != self.size:
            raise ValueError(
                f"frame {len(self._steps.fits)} is {width}x{height}, but the video started at "
                f"{self.size[0]}x{self.size[1]}; measure one size of frames at a time"
            )
        gray, hist = self._prepare(frame)
        corners, strength = self._corners(gray)
        steps = self._steps
        if self._prev_gray is None:
            steps.fits.append(StepFit.identity())
            steps.inliers.append(1.0)
            steps.support.append(0)
            if self.flow_grid:
                steps.local_flow.append(np.zeros((self.flow_grid, self.flow_grid, 2), np.float32))
        else:
            self._measure_step(gray, hist, corners, strength)
        self._prev_gray, self._prev_hist, self._prev_corners = gray, hist, corners

    def result(self) -> Motion:
        """The measured Motion (one step per frame added so far)."""
        steps = self._steps
        if not steps.fits or self.size is None:
            raise ValueError("no frames were measured (the video has no frames)")
        fits = fill_missing(steps.fits, steps.segments, steps.support)
        maps = compose(fits, self.size)
        width, height = self.size
        pan_x, pan_y, zoom, rotation = [], [], [], []
        for m in maps:
            view = motion_of_map(m, (width, height))
            pan_x.append(view[0])
            pan_y.append(view[1])
            zoom.append(view[2])
            rotation.append(view[3])
        flow = None
        if self.flow_grid:
            flow = source_flow(steps.local_flow, maps, (width, height))
        if steps.low_texture and self.warn is not None:
            self.warn(
                f"{len(steps.low_texture)} of {len(steps.fits)} frames ({describe_ranges(steps.low_texture)}) "
                "have too little texture (or move too fast) to measure camera motion; their motion was interpolated "
                "from the neighbouring frames"
            )
        meta = {
            "fps": self.fps,
            "segments": list(steps.segments),
            "source": "measured",
            "method": self.method,
            "size": [width, height],
            "inlier_ratio": [round(v, 4) for v in steps.inliers],
            "interpolated": list(steps.low_texture),
        }
        return Motion(
            pan_x=tuple(pan_x),
            pan_y=tuple(pan_y),
            zoom=tuple(zoom),
            rotation=tuple(rotation),
            flow=flow,
            source="measured",
            meta=meta,
        )

    # -- per frame -----------------------------------------------------------------------

    def _start(self, width: int, height: int) -> None:
        self.size = (width, height)
        scale = min(1.0, self.max_side / max(width, height))
        self._small = (max(8, round(width * scale)), max(8, round(height * scale)))

    def _prepare(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2
        import numpy as np

        small = frame
        if self._small != self.size:
            small = cv2.resize(frame, self._small, interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        if TRACK_BLUR:
            gray = cv2.GaussianBlur(gray, (0, 0), TRACK_BLUR)
        thumb = small
        if small.shape[1] > HIST_WIDTH:
            size = (HIST_WIDTH, max(1, round(small.shape[0] * HIST_WIDTH / small.shape[1])))
            thumb = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
        pixels = thumb.reshape(-1, 3)
        hist = np.stack([np.bincount(pixels[:, c] // (256 // HIST_BINS), minlength=HIST_BINS) for c in range(3)])
        return gray, hist.astype(np.float64) / max(1, pixels.shape[0])

    def _corners(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Strong corners ``[n, 2]`` (working-size pixels; few or none on a flat frame) and the
        corner-strength map they were judged by."""
        import cv2
        import numpy as np

        w, h = self._small
        strength = cv2.cornerMinEigenVal(gray, blockSize=7, ksize=3)
        found = cv2.goodFeaturesToTrack(
            gray, maxCorners=MAX_CORNERS, qualityLevel=0.005, minDistance=max(3.0, w / 80.0), blockSize=7
        )
        if found is None:
            return np.zeros((0, 2), np.float32), strength
        points = found.reshape(-1, 2)
        xi = np.clip(np.round(points[:, 0]).astype(int), 0, w - 1)
        yi = np.clip(np.round(points[:, 1]).astype(int), 0, h - 1)
        strong = points[strength[yi, xi] > MIN_CORNER_STRENGTH]
        # Start each track at a random subpixel offset: OpenCV's tracker pulls fractional
        # displacements toward half a pixel (about 0.01 px at 0.25 or 0.8), the same way for points
        # that start on whole pixels, which adds up to ~1% drift over a long pan; dithered starts
        # average that bias out. Seeded, so a video always measures the same.
        strong = strong + self._dither.uniform(-0.5, 0.5, strong.shape)
        return np.ascontiguousarray(strong, dtype=np.float32), strength

    def _measure_step(self, gray: np.ndarray, hist: np.ndarray, corners: np.ndarray, strength: np.ndarray) -> None:
        import numpy as np

        steps = self._steps
        index = len(steps.fits)
        assert self._prev_hist is not None and self._prev_corners is not None
        cut_score = float(0.5 * np.abs(hist - self._prev_hist).sum(axis=1).mean())
        flat = len(self._prev_corners) < MIN_POINTS or len(corners) < MIN_POINTS
        fit: StepFit | None = None
        inlier_ratio = 0.0
        support = 0
        residual = None
        if cut_score <= self.cut_threshold and not flat:
            dense = self._dense_flow(gray) if (self.method == "flow" or self.flow_grid) else None
            pairs = self._pairs(gray, strength, dense)
            if pairs is not None and self.size is not None:
                to_full = self.size[0] / self._small[0]
                measured = fit_similarity(*pairs, self.size, POINT_PRECISION * to_full, RANSAC_THRESHOLD * to_full)
                if measured is not None:
                    fit, inlier_ratio = measured
                    support = round(inlier_ratio * len(pairs[0]))
            if fit is not None and dense is not None and self.flow_grid:
                residual = self._residual(dense, strength, fit)
        # Plenty of texture on both sides and still no agreement: the picture changed (a cut
        # between shots of similar colours, a flash). With little texture it is just unmeasurable.
        lost = fit is None and min(len(self._prev_corners), len(corners)) >= LOST_TRACK_POINTS
        if cut_score > self.cut_threshold or lost:
            # A new shot: the camera holds across the cut.
            steps.segments.append(index)
            steps.fits.append(StepFit.identity())
            steps.inliers.append(0.0)
            steps.support.append(0)
        elif fit is None:
            steps.low_texture.append(index)
            steps.fits.append(None)
            steps.inliers.append(0.0)
            steps.support.append(0)
        else:
            steps.fits.append(fit)
            steps.inliers.append(inlier_ratio)
            steps.support.append(support)
        if self.flow_grid:
            steps.local_flow.append(self._carry_flow(fit, residual))

    def _pairs(
        self, gray: np.ndarray, strength: np.ndarray, dense: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Matched points (current, previous) in full-size pixels, or None if too few."""
        import cv2
        import numpy as np

        prev = self._prev_gray
        if self.method == "flow":
            assert dense is not None
            # Sample the dense flow where the current frame has texture (flow elsewhere is a guess).
            w, h = self._small
            step = max(4, round(min(w, h) / 60))
            ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
            keep = strength[ys, xs] > MIN_CORNER_STRENGTH
            cur = np.stack([xs[keep], ys[keep]], axis=-1).astype(np.float32)
            if len(cur) < MIN_POINTS:
                return None
            previous = cur + dense[ys[keep], xs[keep]]
        else:
            # Track the previous frame's corners forward, then back: a point that does not come
            # home within half a pixel was lost (occluded, on a moving edge, ambiguous).
            start = cast("np.ndarray", self._prev_corners).reshape(-1, 1, 2)  # set with _prev_gray
            params = {
                "winSize": (LK_WINDOW, LK_WINDOW),
                "maxLevel": LK_LEVELS,
                "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, LK_ITERATIONS, LK_EPSILON),
            }
            forward, ok_f, _ = cv2.calcOpticalFlowPyrLK(prev, gray, start, None, **params)
            back, ok_b, _ = cv2.calcOpticalFlowPyrLK(gray, prev, forward, None, **params)
            error = np.linalg.norm((back - start).reshape(-1, 2), axis=1)
            keep = (ok_f.ravel() == 1) & (ok_b.ravel() == 1) & (error < 0.5)
            if keep.sum() < MIN_POINTS:
                return None
            cur = forward.reshape(-1, 2)[keep]
            previous = start.reshape(-1, 2)[keep]
        return self._to_full(cur), self._to_full(previous)

    def _to_full(self, points: np.ndarray) -> np.ndarray:
        """Working-size pixel coordinates -> full-size ones (pixel centres at integers)."""
        import numpy as np

        assert self.size is not None
        sx = self._small[0] / self.size[0]
        sy = self._small[1] / self.size[1]
        out = np.empty(points.shape, np.float64)
        out[:, 0] = (points[:, 0] + 0.5) / sx - 0.5
        out[:, 1] = (points[:, 1] + 0.5) / sy - 0.5
        return out

    def _dense_flow(self, gray: np.ndarray) -> np.ndarray:
        """DIS optical flow current -> previous (working-size pixels, ``[h, w, 2]``)."""
        import cv2

        if self._dis is None:
            self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return self._dis.calc(gray, self._prev_gray, None)

    def _residual(self, dense: np.ndarray, strength: np.ndarray, fit: StepFit) -> np.ndarray:
        """Flow left after the camera's motion, averaged onto the coarse grid (full-size pixels).

        Each pixel counts by its texture (corner strength): dense flow on a flat patch is a guess,
        and a cell with hardly any texture keeps no local motion.
        """
        import cv2
        import numpy as np

        assert self.size is not None
        w, h = self._small
        width, height = self.size
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        cur = self._to_full(np.stack([xs.ravel(), ys.ravel()], -1)).reshape(h, w, 2)
        prev = self._to_full(np.stack([(xs + dense[..., 0]).ravel(), (ys + dense[..., 1]).ravel()], -1)).reshape(h, w, 2)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        dx, dy = cur[..., 0] - cx, cur[..., 1] - cy
        camera_x = fit.a * dx - fit.b * dy + fit.tx + cx
        camera_y = fit.b * dx + fit.a * dy + fit.ty + cy
        residual = np.stack([prev[..., 0] - camera_x, prev[..., 1] - camera_y], -1).astype(np.float32)
        g = self.flow_grid
        weight = np.clip(strength / MIN_CORNER_STRENGTH - 1.0, 0.0, 4.0).astype(np.float32)
        cell_weight = cv2.resize(weight, (g, g), interpolation=cv2.INTER_AREA)
        cells = cv2.resize(residual * weight[..., None], (g, g), interpolation=cv2.INTER_AREA)
        cells /= np.maximum(cell_weight, 1e-6)[..., None]
        cells[(cell_weight < 0.05) | (np.hypot(cells[..., 0], cells[..., 1]) < FLOW_DEADBAND)] = 0.0
        return cells

    def _carry_flow(self, fit: StepFit | None, residual: np.ndarray | None) -> np.ndarray:
        """This frame's local flow: where each grid cell's content was in frame 0, beyond the camera.

        Kept in this frame's pixel units (``L_k``); :func:`source_flow` turns it into fractions of
        the first frame once every step is known. ``L_k = S_k^-1 (r + L_{k-1}(S_k u + r))``.
        """
        import cv2
        import numpy as np

        previous = self._steps.local_flow[-1]
        if fit is None or residual is None:
            return previous.copy()
        assert self.size is not None
        width, height = self.size
        g = self.flow_grid
        # Grid cell centres in full-size pixels, where the camera put them in the previous frame.
        gx = (np.arange(g, dtype=np.float64) + 0.5) * width / g - 0.5
        gy = (np.arange(g, dtype=np.float64) + 0.5) * height / g - 0.5
        ux, uy = np.meshgrid(gx, gy)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        px = fit.a * (ux - cx) - fit.b * (uy - cy) + fit.tx + cx + residual[..., 0]
        py = fit.b * (ux - cx) + fit.a * (uy - cy) + fit.ty + cy + residual[..., 1]
        map_x = ((px + 0.5) * g / width - 0.5).astype(np.float32)
        map_y = ((py + 0.5) * g / height - 0.5).astype(np.float32)
        carried = cv2.remap(previous, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        total = residual + carried
        # Undo the step's rotation and scale: back into this frame's pixel units.
        det = fit.a * fit.a + fit.b * fit.b
        out = np.empty_like(total)
        out[..., 0] = (fit.a * total[..., 0] + fit.b * total[..., 1]) / det
        out[..., 1] = (-fit.b * total[..., 0] + fit.a * total[..., 1]) / det
        return out.astype(np.float32)


def measure_chunks(
    chunks: Iterable[np.ndarray],
    fps: float,
    *,
    flow_grid: int = 0,
    warn: Callable[[str], None] | None = None,
    cancel: Callable[[], None] | None = None,
    method: Method = "features",
    max_side: int = DEFAULT_MAX_SIDE,
    cut_threshold: float = DEFAULT_CUT_THRESHOLD,
) -> Motion:
    """Measure the camera motion of a video given as RGB ``uint8 [n, H, W, 3]`` chunks.

    Returns a Motion with one step per frame (step 0: pan 0, zoom 1, rotation 0) that Animate
    image replays as the same camera move. ``meta`` holds ``fps`` (the source's), ``segments``
    (first frame of each shot, starting with 0), ``source`` ("measured"), ``method``, ``size``,
    ``inlier_ratio`` (per step, the share of tracked points that agreed with the camera; 0 at
    cuts and interpolated steps) and ``interpolated`` (steps filled in on low-texture frames).
    ``flow_grid`` > 0 adds the residual local motion on a ``flow_grid`` x ``flow_grid`` grid.
    ``warn`` receives at most one message (low-texture frames); ``cancel`` is called between
    frames and may raise to stop. Only the previous frame is held in memory.
    """
    meter = MotionMeter(
        fps, method=method, flow_grid=flow_grid, max_side=max_side, cut_threshold=cut_threshold, warn=warn
    )
    for chunk in chunks:
        for frame in chunk:
            if cancel is not None:
                cancel()
            meter.add(frame)
    return meter.result()


# -- fitting -----------------------------------------------------------------------------


def fit_similarity(
    cur: np.ndarray,
    prev: np.ndarray,
    size: tuple[int, int],
    precision: float = POINT_PRECISION,
    threshold: float = RANSAC_THRESHOLD,
) -> tuple[StepFit, float] | None:
    """Robust similarity ``cur -> prev`` (full-size pixels) and its inlier ratio, or None.

    RANSAC finds the majority motion; a Huber-weighted least-squares refit on its inliers gives
    subpixel values and their covariance, and a step within its own noise becomes exactly none.
    """
    import cv2
    import numpy as np

    _, mask = cv2.estimateAffinePartial2D(
        cur, prev, method=cv2.RANSAC, ransacReprojThreshold=threshold, maxIters=2000, confidence=0.999, refineIters=0
    )
    if mask is None:
        return None
    inliers = mask.ravel().astype(bool)
    if inliers.sum() < MIN_POINTS or inliers.mean() < MIN_INLIER_RATIO:
        return None
    cx, cy = (size[0] - 1) / 2.0, (size[1] - 1) / 2.0
    dx, dy = cur[inliers, 0] - cx, cur[inliers, 1] - cy
    qx, qy = prev[inliers, 0] - cx, prev[inliers, 1] - cy
    n = len(dx)
    design = np.zeros((2 * n, 4))
    design[:n] = np.stack([dx, -dy, np.ones(n), np.zeros(n)], -1)
    design[n:] = np.stack([dy, dx, np.zeros(n), np.ones(n)], -1)
    target = np.concatenate([qx, qy])
    weights = np.ones(2 * n)
    params = np.zeros(4)
    sigma = 0.0
    for _ in range(5):
        sw = np.sqrt(weights)
        params, *_ = np.linalg.lstsq(design * sw[:, None], target * sw, rcond=None)
        residual = target - design @ params
        sigma = 1.4826 * float(np.median(np.abs(residual)))
        weights = np.minimum(1.0, 1.345 * max(sigma, 1e-6) / np.maximum(np.abs(residual), 1e-12))
    a, b, tx, ty = (float(v) for v in params)
    if not all(math.isfinite(v) for v in (a, b, tx, ty)) or a * a + b * b < 1e-6:
        return None
    normal = (design * weights[:, None]).T @ design
    sigma = max(sigma, precision)
    change = np.array([a - 1.0, b, tx, ty])
    # Chi-square of the change against its covariance, sigma^2 * normal^-1 (no inverse needed).
    chi2 = float(change @ normal @ change) / (sigma * sigma)
    if chi2 < STATIC_CHI2:
        return StepFit.identity(), float(inliers.mean())
    return StepFit(a, b, tx, ty), float(inliers.mean())


def fill_missing(
    fits: list[StepFit | None], segments: list[int], support: list[int] | None = None
) -> list[StepFit]:
    """Unmeasured steps interpolated from the measured steps of their own segment.

    Each side of a gap is the average of its few nearest measured steps, weighted by how many
    points agreed on each (``support``): the steps next to a featureless stretch see it only in
    part and are the least sure. Linear across the gap, held at a segment's ends; a segment with
    no measured step stands still.
    """
    weights = support if support is not None else [1] * len(fits)
    out: list[StepFit] = []
    bounds = [*segments, len(fits)]
    for start, stop in pairwise(bounds):
        # The first step of a segment is the cut (or frame 0): always identity, never a neighbour.
        known = [i for i in range(start + 1, stop) if fits[i] is not None]
        for i in range(start, stop):
            fit = fits[i]
            if fit is not None:
                out.append(fit)
                continue
            before = [k for k in known if k < i][-GAP_NEIGHBOURS:]
            after = [k for k in known if k > i][:GAP_NEIGHBOURS]
            if not before and not after:
                out.append(StepFit.identity())
            elif not after:
                out.append(_mean_fit(fits, before, weights))
            elif not before:
                out.append(_mean_fit(fits, after, weights))
            else:
                f0, f1 = _mean_fit(fits, before, weights), _mean_fit(fits, after, weights)
                t = (i - before[-1]) / (after[0] - before[-1])
                out.append(
                    StepFit(
                        f0.a + (f1.a - f0.a) * t,
                        f0.b + (f1.b - f0.b) * t,
                        f0.tx + (f1.tx - f0.tx) * t,
                        f0.ty + (f1.ty - f0.ty) * t,
                    )
                )
    return out


def _mean_fit(fits: list[StepFit | None], indices: list[int], weights: list[int]) -> StepFit:
    chosen = [(fits[k], max(weights[k], 1)) for k in indices]
    total = float(sum(w for _, w in chosen))
    return StepFit(
        *(sum(getattr(f, name) * w for f, w in chosen) / total for name in ("a", "b", "tx", "ty"))
    )


def compose(fits: list[StepFit], size: tuple[int, int]) -> list[np.ndarray]:
    """Per-frame 3x3 maps frame k pixels -> frame 0 pixels (``T_k = T_{k-1} S_k``)."""
    import numpy as np

    cx, cy = (size[0] - 1) / 2.0, (size[1] - 1) / 2.0
    total = np.eye(3)
    maps = []
    for fit in fits:
        step = np.array(
            [
                [fit.a, -fit.b, fit.tx + cx - fit.a * cx + fit.b * cy],
                [fit.b, fit.a, fit.ty + cy - fit.b * cx - fit.a * cy],
                [0.0, 0.0, 1.0],
            ]
        )
        total = total @ step
        maps.append(total.copy())
    return maps


def motion_of_map(m: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(pan_x, pan_y, zoom, rotation) of Animate's view whose output->source map is ``m``.

    Animate (``plan_views``) maps output pixel ``u`` of a same-size output to
    ``centre + R(theta) / zoom @ (u - half)``; ``m``'s linear part is ``R / zoom`` and ``m(half)``
    is the centre, ``(W-1)/2 + pan_x * W`` across.
    """
    width, height = size
    half_x, half_y = (width - 1) / 2.0, (height - 1) / 2.0
    a, d = float(m[0, 0]), float(m[1, 0])
    centre_x = a * half_x + float(m[0, 1]) * half_y + float(m[0, 2])
    centre_y = d * half_x + float(m[1, 1]) * half_y + float(m[1, 2])
    return (
        (centre_x - half_x) / width,
        (centre_y - half_y) / height,
        1.0 / math.hypot(a, d),
        math.degrees(math.atan2(d, a)),
    )


def source_flow(local: list[np.ndarray], maps: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """Local flow in Motion's units: frame-k pixel offsets turned into fractions of frame 0."""
    import numpy as np

    width, height = size
    out = np.empty((len(local), *local[0].shape), np.float32)
    for k, (flow, m) in enumerate(zip(local, maps, strict=True)):
        linear = m[:2, :2]
        moved = flow @ linear.T  # F_k = A_k L_k
        out[k, ..., 0] = moved[..., 0] / width
        out[k, ..., 1] = moved[..., 1] / height
    return out


def describe_ranges(indices: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"frames 3-5, 9"`` (at most a few ranges, then "...")."""
    ranges: list[tuple[int, int]] = []
    for i in indices:
        if ranges and i == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], i)
        else:
            ranges.append((i, i))
    parts = [f"{a}-{b}" if b > a else f"{a}" for a, b in ranges[:4]]
    if len(ranges) > 4:
        parts.append("...")
    return "frames " + ", ".join(parts)
