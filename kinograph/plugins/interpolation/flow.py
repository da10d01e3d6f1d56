"""Optical flow between two neighbouring frames: DIS (OpenCV), forward and backward.

``forward[y, x]`` is where pixel ``(x, y)`` of the first frame moved to in the second, as
``(dx, dy)`` in pixels; ``backward`` is the same from the second frame to the first. The
interpolation needs both: one to move each neighbour towards the in-between time, and the pair
of them to find pixels that only one neighbour can see.
"""

from __future__ import annotations

from dataclasses import dataclass
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


#: a pixel counts as seen by both frames when its consistency weight is at least this
SEEN = 0.5
#: how far (pixels) an occluded pixel looks for a visible neighbour to borrow motion from
FILL_RADIUS = 16
#: floor of the consistency weight: an occluded pixel still fills a spot nothing else reaches
MIN_WEIGHT = 1e-2


@dataclass
class PairFlow:
    """Forward and backward flow of one frame pair, ``[H, W, 2]`` float32 each."""

    forward: np.ndarray
    backward: np.ndarray


class FlowEstimator:
    """DIS optical flow with one preset; keeps its OpenCV object between frame pairs."""

    def __init__(self, preset: str = "medium") -> None:
        import cv2

        if preset not in PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; use one of {', '.join(PRESETS)}")
        name, finest, refine = PRESETS[preset]
        dis: Any = cv2.DISOpticalFlow_create(getattr(cv2, name))
        dis.setFinestScale(finest)
        dis.setVariationalRefinementIterations(refine)
        self._dis = dis

    def gray(self, frame: np.ndarray) -> np.ndarray:
        """The 8-bit luma DIS works on."""
        import cv2

        return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)

    def flow(self, first_gray: np.ndarray, second_gray: np.ndarray) -> np.ndarray:
        """Flow from ``first_gray`` to ``second_gray`` (``[H, W, 2]`` float32)."""
        return self._dis.calc(first_gray, second_gray, None)

    def pair(self, first_gray: np.ndarray, second_gray: np.ndarray) -> PairFlow:
        """Forward and backward flow between two luma frames, occluded pixels filled."""
        forward = self.flow(first_gray, second_gray)
        backward = self.flow(second_gray, first_gray)
        return PairFlow(fill_occluded(forward, backward), fill_occluded(backward, forward))


def round_trip(flow: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``other`` read where ``flow`` points, with the landing coordinates (x, y)."""
    import cv2
    import numpy as np

    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x = xs + flow[..., 0]
    map_y = ys + flow[..., 1]
    back = cv2.remap(other, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return back, map_x, map_y


def fill_occluded(flow: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Give pixels the other frame cannot see the motion of their background.

    Flow there is a guess smeared from the occluder (DIS matches patches), which would drag
    uncovered background along with the object. An occluded pixel is background being covered
    or uncovered, so it takes the slowest visible motion within ``FILL_RADIUS``: the occluder is
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
    size = 2 * FILL_RADIUS + 1
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
