"""The OpenCV backend of flow interpolation: numpy splatting and ``cv2.remap`` on the CPU.

For an in-between time ``t`` each neighbour is warped backwards to ``t``:

1. *Consistency*: a pixel whose forward and backward flow do not cancel is one the other frame
   cannot see (it gets covered or leaves); it gets a weight near 0, others near 1.
2. *Flow to time t*: every pixel of the first frame is pushed ("splatted") ``t`` of the way along
   its forward flow, carrying its flow and weight; where several land on one spot, the visible
   (consistent) ones win. The second frame does the same with ``1 - t`` of its backward flow.
   Spots nothing lands on are ones that neighbour cannot see at time ``t``.
3. *Backward warping*: each neighbour is sampled where the splatted flow points (``cv2.remap``).
4. *Occlusion-aware blending* (:mod:`.blend`): the two warped neighbours are mixed by ``1 - t`` and
   ``t`` times how much of each landed there, so a spot only one neighbour sees comes from it.

:mod:`.warp_torch` does the same steps with torch on any device; tests compare the two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinograph.plugins.interpolation.blend import mix_by_share, second_share
from kinograph.plugins.interpolation.flow import (
    MOTION_EDGE,
    PairFlow,
    consistency_weight,
    pixel_grid,
    pixel_map,
)

if TYPE_CHECKING:
    import numpy as np


class OpenCVWarp:
    """Makes in-between frames of a pair on the CPU with OpenCV remaps."""

    name = "opencv"

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width

    def interpolate(
        self, first: np.ndarray, second: np.ndarray, flow: PairFlow, times: list[float]
    ) -> np.ndarray:
        """In-between frames ``[len(times), H, W, 3]`` uint8 at each ``t`` in (0, 1)."""
        import numpy as np

        first_f = first.astype(np.float32)
        second_f = second.astype(np.float32)
        # steps 1-2 and the mix weights run on the flow's grid (maybe smaller than the frames)
        weight_first = self.consistency(flow.forward, flow.backward)
        weight_second = self.consistency(flow.backward, flow.forward)
        out = np.empty((len(times), self.height, self.width, 3), dtype=np.uint8)
        for k, t in enumerate(times):
            to_first, density_first = self.splat(flow.forward, weight_first, t)
            to_second, density_second = self.splat(flow.backward, weight_second, 1.0 - t)
            share = self.nearest_up(second_share(density_first, density_second, t))
            seen_first = self.sample(first_f, self.to_frame_size(to_first))
            seen_second = self.sample(second_f, self.to_frame_size(to_second))
            mix_by_share(seen_first, seen_second, share, out=out[k])
        return out

    def consistency(self, flow: np.ndarray, other: np.ndarray) -> np.ndarray:
        """Weight per pixel: near 1 where ``flow`` and ``other`` (the reverse flow) cancel."""
        import cv2
        import numpy as np

        h, w = flow.shape[:2]
        xs, ys = pixel_grid(h, w)
        map_x = xs + flow[..., 0]
        map_y = ys + flow[..., 1]
        back = cv2.remap(other, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return consistency_weight(np, flow, back, map_x, map_y, w, h).astype(np.float32, copy=False)

    def splat(self, flow: np.ndarray, weight: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Push pixels ``t`` along ``flow``: (flow from time t back to the frame, landed weight).

        Bilinear splatting as sums over pixel indices (``np.bincount``) into a frame with a
        one-pixel border, so a pixel landing half outside needs no per-corner bounds checks.
        """
        import numpy as np

        h, w = flow.shape[:2]
        xs, ys = pixel_grid(h, w)
        fx, fy = flow[..., 0], flow[..., 1]
        # clipped to the border ring, so whole-pixel indices stay small and never wrap
        land_x = np.clip(xs + t * fx, -2.0, w + 1.0)
        land_y = np.clip(ys + t * fy, -2.0, h + 1.0)
        x0 = np.floor(land_x)
        y0 = np.floor(land_y)
        ax = land_x - x0
        ay = land_y - y0
        # a pixel whose 2x2 footprint misses the frame entirely carries nothing
        keep = (x0 >= -1) & (x0 <= w - 1) & (y0 >= -1) & (y0 <= h - 1)
        src = np.where(keep, weight, np.float32(0.0))
        stride = w + 2
        corner = ((np.clip(y0, -1, h - 1) + 1) * stride + (np.clip(x0, -1, w - 1) + 1)).astype(np.intp)
        index = np.concatenate([corner, corner + 1, corner + stride, corner + stride + 1], axis=None)
        right = ax * src
        left = src - right
        wts = np.stack([left * (1 - ay), right * (1 - ay), left * ay, right * ay]).reshape(4, -1)
        size = (h + 2) * stride
        density = np.bincount(index, wts.ravel(), minlength=size)
        sum_x = np.bincount(index, (wts * fx.reshape(1, -1)).ravel(), minlength=size)
        sum_y = np.bincount(index, (wts * fy.reshape(1, -1)).ravel(), minlength=size)
        inner = (slice(1, h + 1), slice(1, w + 1))
        density = density.reshape(h + 2, stride)[inner]
        # the flow from time t back to the frame is minus the part of the motion already made
        scale = -t / np.maximum(density, 1e-12)
        back = np.empty((h, w, 2), dtype=np.float32)
        back[..., 0] = sum_x.reshape(h + 2, stride)[inner] * scale
        back[..., 1] = sum_y.reshape(h + 2, stride)[inner] * scale
        return back, density.astype(np.float32)

    def to_frame_size(self, back: np.ndarray) -> np.ndarray:
        """A flow made on a smaller grid, scaled up to the frames (vectors too).

        Smooth motion is scaled up bilinearly; grid pixels at motion edges (``MOTION_EDGE``) keep
        their own vector (nearest), so edges stay as sharp as the grid has them.
        """
        import cv2
        import numpy as np

        h, w = back.shape[:2]
        if (h, w) == (self.height, self.width):
            return back
        size = (self.width, self.height)
        kernel = np.ones((3, 3), np.uint8)
        spread = cv2.dilate(back, kernel, borderType=cv2.BORDER_REPLICATE)
        spread -= cv2.erode(back, kernel, borderType=cv2.BORDER_REPLICATE)
        edge = (np.maximum(spread[..., 0], spread[..., 1]) > MOTION_EDGE).view(np.uint8)
        scaled = back * np.array([self.width / w, self.height / h], dtype=np.float32)
        up = cv2.resize(scaled, size, interpolation=cv2.INTER_LINEAR)
        if edge.any():
            edge = cv2.resize(edge, size, interpolation=cv2.INTER_NEAREST)
            cv2.copyTo(cv2.resize(scaled, size, interpolation=cv2.INTER_NEAREST), edge, up)
        return up

    def nearest_up(self, grid: np.ndarray) -> np.ndarray:
        """A per-pixel map made on the flow grid, at frame size (nearest: mix weights stay exact)."""
        import cv2

        if grid.shape[:2] == (self.height, self.width):
            return grid
        return cv2.resize(grid, (self.width, self.height), interpolation=cv2.INTER_NEAREST)

    def sample(self, frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
        """``frame`` read at each pixel plus ``flow`` (bicubic, edges repeated)."""
        import cv2

        where = pixel_map(self.height, self.width) + flow
        return cv2.remap(frame, where, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
