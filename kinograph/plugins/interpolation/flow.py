"""Optical flow between two neighbouring frames: DIS (OpenCV), forward and backward.

``forward[y, x]`` is where pixel ``(x, y)`` of the first frame moved to in the second, as
``(dx, dy)`` in pixels; ``backward`` is the same from the second frame to the first. The
interpolation needs both: one to move each neighbour towards the in-between time, and the pair
of them to find pixels that only one neighbour can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: preset name -> (OpenCV preset, finest pyramid level, variational refinement iterations).
#: The finest level is 0 (full resolution) for "medium": sub-pixel accuracy decides how sharp
#: the in-between frames are, and the coarser default (level 1) blurs fine texture.
PRESETS: dict[str, tuple[str, int, int]] = {
    "ultrafast": ("DISOPTICAL_FLOW_PRESET_ULTRAFAST", 2, 0),
    "fast": ("DISOPTICAL_FLOW_PRESET_FAST", 1, 5),
    "medium": ("DISOPTICAL_FLOW_PRESET_MEDIUM", 0, 5),
}

#: preset name -> the most the flow may be scaled down on large frames. The faster presets
#: only estimate motion at 1/2 (``fast``) or 1/4 (``ultrafast``) of the frame size anyway, so
#: working on frames that much smaller (flow, occlusion check and splatting) loses no detail the
#: flow had; the frames themselves are always warped at full resolution.
MAX_REDUCTION: dict[str, int] = {"ultrafast": 4, "fast": 2, "medium": 1}
#: the flow is only scaled down while its shorter side stays at least this many pixels, so
#: small frames (and the motion of small objects in them) keep a full-size flow
MIN_FLOW_SIDE = 240
#: when a splat made on a smaller grid is scaled up, a grid pixel whose 3x3 neighbourhood's
#: motion spans more than this (grid pixels, either axis) sits on a motion edge and is scaled up
#: nearest, not bilinearly: averaging an object's motion with its background's tears both
MOTION_EDGE = 1.0


#: a pixel counts as seen by both frames when its consistency weight is at least this
SEEN = 0.5
#: how far (pixels of the frame) an occluded pixel looks for a visible neighbour to borrow motion from
FILL_RADIUS = 16
#: floor of the consistency weight: an occluded pixel still fills a spot nothing else reaches
MIN_WEIGHT = 1e-2


@dataclass
class PairFlow:
    """Forward and backward flow of one frame pair, ``[h, w, 2]`` float32 each.

    The flow may be smaller than the frames (see :func:`flow_reduction`); its vectors are then
    in pixels of the smaller grid, and the warp backends scale them up with the grid.
    """

    forward: np.ndarray
    backward: np.ndarray


def flow_reduction(preset: str, height: int, width: int) -> int:
    """By how much (1, 2 or 4) the flow of ``preset`` is scaled down for frames of this size."""
    reduction = 1
    while reduction < MAX_REDUCTION[preset] and min(height, width) // (2 * reduction) >= MIN_FLOW_SIDE:
        reduction *= 2
    return reduction


def flow_size(height: int, width: int, reduction: int) -> tuple[int, int]:
    """``(h, w)`` of the flow grid for frames of ``height x width`` scaled down by ``reduction``."""
    return max(1, round(height / reduction)), max(1, round(width / reduction))


class FlowEstimator:
    """DIS optical flow with one preset; keeps its OpenCV objects between frame pairs."""

    def __init__(self, preset: str = "medium", height: int = 0, width: int = 0) -> None:
        import cv2

        if preset not in PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; use one of {', '.join(PRESETS)}")
        name, finest, refine = PRESETS[preset]
        self.reduction = flow_reduction(preset, height, width) if height and width else 1
        self.size = flow_size(height, width, self.reduction) if self.reduction > 1 else None
        # one DIS object per direction: the backward flow runs on a second thread (OpenCV
        # releases the GIL), which on two cores beats DIS's own, finer-grained threading
        self._dis = [cv2.DISOpticalFlow_create(getattr(cv2, name)) for _ in range(2)]
        for dis in self._dis:
            # on frames already scaled down, the same patch grid sits that many levels lower
            dis.setFinestScale(max(0, finest - (self.reduction.bit_length() - 1)))
            dis.setVariationalRefinementIterations(refine)
        self.fill_radius = max(1, round(FILL_RADIUS / self.reduction))

    def gray(self, frame: np.ndarray) -> np.ndarray:
        """The 8-bit luma DIS works on (scaled down to the flow grid)."""
        import cv2

        luma = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if self.size is None:
            return luma
        h, w = self.size
        return cv2.resize(luma, (w, h), interpolation=cv2.INTER_AREA)

    def flow(self, first_gray: np.ndarray, second_gray: np.ndarray, direction: int = 0) -> np.ndarray:
        """Flow from ``first_gray`` to ``second_gray`` (``[h, w, 2]`` float32)."""
        return self._dis[direction].calc(first_gray, second_gray, None)

    def pair(self, first_gray: np.ndarray, second_gray: np.ndarray) -> PairFlow:
        """Forward and backward flow between two luma frames, occluded pixels filled."""
        import threading

        found: dict[str, Any] = {}

        def backward() -> None:
            try:
                found["flow"] = self.flow(second_gray, first_gray, 1)
            except BaseException as exc:  # handed to the caller's thread below
                found["error"] = exc

        worker = threading.Thread(target=backward, name="kinograph-dis-backward", daemon=True)
        worker.start()
        try:
            forward = self.flow(first_gray, second_gray)
        finally:
            worker.join()
        if "error" in found:
            raise found["error"]
        back = found["flow"]
        return PairFlow(
            fill_occluded(forward, back, self.fill_radius),
            fill_occluded(back, forward, self.fill_radius),
        )


def round_trip(flow: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``other`` read where ``flow`` points, with the landing coordinates (x, y)."""
    import cv2

    h, w = flow.shape[:2]
    xs, ys = pixel_grid(h, w)
    map_x = xs + flow[..., 0]
    map_y = ys + flow[..., 1]
    back = cv2.remap(other, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return back, map_x, map_y


def pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Column and row coordinates ``(xs, ys)``, ``[height, width]`` float32 each (cached)."""
    return _pixel_grid(height, width)


@lru_cache(maxsize=4)
def _pixel_grid(height: int, width: int) -> tuple[Any, Any]:
    import numpy as np

    xs = np.broadcast_to(np.arange(width, dtype=np.float32), (height, width))
    ys = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], (height, width))
    # every caller shares them: real arrays (not broadcast views), locked against writes
    xs, ys = np.ascontiguousarray(xs), np.ascontiguousarray(ys)
    xs.flags.writeable = False
    ys.flags.writeable = False
    return xs, ys


def pixel_map(height: int, width: int) -> np.ndarray:
    """Pixel coordinates ``[height, width, 2]`` float32, (x, y) per pixel (cached, read-only):
    a flow plus this is the two-channel map ``cv2.remap`` takes."""
    return _pixel_map(height, width)


@lru_cache(maxsize=2)
def _pixel_map(height: int, width: int) -> Any:
    import numpy as np

    xs, ys = pixel_grid(height, width)
    grid = np.stack([xs, ys], axis=-1)
    grid.flags.writeable = False
    return grid


def fill_occluded(flow: np.ndarray, other: np.ndarray, radius: int = FILL_RADIUS) -> np.ndarray:
    """Give pixels the other frame cannot see the motion of their background.

    Flow there is a guess smeared from the occluder (DIS matches patches), which would drag
    uncovered background along with the object. An occluded pixel is background being covered
    or uncovered, so it takes the slowest visible motion within ``radius`` pixels: the occluder is
    the layer that moves relative to it, and in camera footage nearer layers move faster.
    """
    import cv2
    import numpy as np

    back, map_x, map_y = round_trip(flow, other)
    h, w = flow.shape[:2]
    occluded = consistency_weight(np, flow, back, map_x, map_y, w, h) < SEEN
    if not occluded.any():
        return flow
    # pack (speed, dx, dy) into one exact float64 key, so a min filter picks a whole vector
    speed = np.clip(np.rint(np.hypot(flow[..., 0], flow[..., 1]) * 8), 0, 65535)
    dx = np.clip(np.rint(flow[..., 0] * 64) + 32768, 0, 65535)
    dy = np.clip(np.rint(flow[..., 1] * 64) + 32768, 0, 65535)
    key = speed.astype(np.float64) * 2.0**32 + dx * 2.0**16 + dy
    nothing = 2.0**50
    key[occluded] = nothing
    size = 2 * radius + 1
    best = cv2.erode(key, np.ones((size, size), np.uint8), borderType=cv2.BORDER_REPLICATE)
    take = occluded & (best < nothing)
    filled = flow.copy()
    picked = best[take].astype(np.int64)
    filled[take, 0] = ((picked >> 16) & 0xFFFF).astype(np.float32) / 64 - 512
    filled[take, 1] = (picked & 0xFFFF).astype(np.float32) / 64 - 512
    return filled


def consistency_weight(xp: Any, flow: Any, back: Any, map_x: Any, map_y: Any, width: int, height: int) -> Any:
    """Forward/backward check, for numpy or torch arrays (``xp`` is the module).

    ``back`` is the reverse flow read where ``flow`` lands. A round trip that misses by more
    than the tolerance of Sundaram et al. (2010) marks a pixel the other frame does not show:
    weight near 0, else near 1. Pixels that leave the frame are not occlusions: weight 1.
    """
    fx, fy, bx, by = flow[..., 0], flow[..., 1], back[..., 0], back[..., 1]
    miss = (fx + bx) ** 2 + (fy + by) ** 2
    tolerance = 0.01 * (fx * fx + fy * fy + bx * bx + by * by) + 0.5
    weight = xp.exp(-miss / tolerance)
    outside = (map_x < 0) | (map_x > width - 1) | (map_y < 0) | (map_y > height - 1)
    weight = xp.where(outside, 1.0, weight)
    return xp.clip(weight, MIN_WEIGHT, 1.0)
