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

from kinograph.plugins.interpolation.blend import mix_weighted, side_weights
from kinograph.plugins.interpolation.flow import PairFlow, consistency_weight

if TYPE_CHECKING:
    import numpy as np


class OpenCVWarp:
    """Makes in-between frames of a pair on the CPU with OpenCV remaps."""

    name = "opencv"

    def __init__(self, height: int, width: int) -> None:
        import numpy as np

        self.height, self.width = height, width
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        self.xs, self.ys = xs, ys

    def interpolate(
        self, first: np.ndarray, second: np.ndarray, flow: PairFlow, times: list[float]
    ) -> np.ndarray:
        """In-between frames ``[len(times), H, W, 3]`` uint8 at each ``t`` in (0, 1)."""
        import numpy as np

        first_f = first.astype(np.float32)
        second_f = second.astype(np.float32)
        weight_first = self.consistency(flow.forward, flow.backward)
        weight_second = self.consistency(flow.backward, flow.forward)
        out = np.empty((len(times), self.height, self.width, 3), dtype=np.uint8)
        for k, t in enumerate(times):
            to_first, density_first = self.splat(flow.forward, weight_first, t)
            to_second, density_second = self.splat(flow.backward, weight_second, 1.0 - t)
            seen_first = self.sample(first_f, to_first)
            seen_second = self.sample(second_f, to_second)
            w_first, w_second = side_weights(density_first, density_second, t)
            out[k] = mix_weighted(seen_first, seen_second, w_first, w_second)
        return out

    def consistency(self, flow: np.ndarray, other: np.ndarray) -> np.ndarray:
        """Weight per pixel: near 1 where ``flow`` and ``other`` (the reverse flow) cancel."""
        import cv2
        import numpy as np

        map_x = self.xs + flow[..., 0]
        map_y = self.ys + flow[..., 1]
        back = cv2.remap(other, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return consistency_weight(np, flow, back, map_x, map_y, self.width, self.height)

    def splat(self, flow: np.ndarray, weight: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Push pixels ``t`` along ``flow``: (flow from time t back to the frame, landed weight)."""
        import numpy as np

        h, w = self.height, self.width
        land_x = (self.xs + t * flow[..., 0]).ravel()
        land_y = (self.ys + t * flow[..., 1]).ravel()
        x0 = np.floor(land_x)
        y0 = np.floor(land_y)
        ax = land_x - x0
        ay = land_y - y0
        x0 = x0.astype(np.int64)
        y0 = y0.astype(np.int64)
        src_w = weight.ravel()
        fx = flow[..., 0].ravel()
        fy = flow[..., 1].ravel()
        indices, weights = [], []
        for dx, dy, corner in (
            (0, 0, (1 - ax) * (1 - ay)),
            (1, 0, ax * (1 - ay)),
            (0, 1, (1 - ax) * ay),
            (1, 1, ax * ay),
        ):
            xi = x0 + dx
            yi = y0 + dy
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            indices.append(np.where(inside, yi * w + xi, 0))
            weights.append(np.where(inside, corner * src_w, 0.0))
        index = np.concatenate(indices)
        wts = np.concatenate(weights)
        size = h * w
        density = np.bincount(index, wts, minlength=size)
        sum_x = np.bincount(index, wts * np.tile(fx, 4), minlength=size)
        sum_y = np.bincount(index, wts * np.tile(fy, 4), minlength=size)
        safe = np.maximum(density, 1e-12)
        # the flow from time t back to the frame is minus the part of the motion already made
        back = np.empty((h, w, 2), dtype=np.float32)
        back[..., 0] = (-t * sum_x / safe).reshape(h, w)
        back[..., 1] = (-t * sum_y / safe).reshape(h, w)
        return back, density.reshape(h, w).astype(np.float32)

    def sample(self, frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
        """``frame`` read at each pixel plus ``flow`` (bicubic, edges repeated)."""
        import cv2

        return cv2.remap(
            frame,
            self.xs + flow[..., 0],
            self.ys + flow[..., 1],
            cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )
