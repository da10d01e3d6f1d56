"""The torch backend of flow interpolation: the steps of :mod:`.warp_opencv` with
``index_add_`` splatting and ``grid_sample`` warping, on ``ctx.device`` (CUDA, MPS or the CPU).

It follows the OpenCV backend step for step so the two give the same frames (tests compare
them on the CPU); only the flow itself always comes from OpenCV's DIS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinograph.plugins.interpolation.blend import side_weights
from kinograph.plugins.interpolation.flow import PairFlow, consistency_weight

if TYPE_CHECKING:
    import numpy as np


class TorchWarp:
    """Makes in-between frames of a pair with torch on one device."""

    name = "torch"

    def __init__(self, height: int, width: int, device: str = "cpu") -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.height, self.width = height, width
        ys, xs = torch.meshgrid(
            torch.arange(height, dtype=torch.float32, device=self.device),
            torch.arange(width, dtype=torch.float32, device=self.device),
            indexing="ij",
        )
        self.xs, self.ys = xs, ys

    def interpolate(
        self, first: np.ndarray, second: np.ndarray, flow: PairFlow, times: list[float]
    ) -> np.ndarray:
        """In-between frames ``[len(times), H, W, 3]`` uint8 at each ``t`` in (0, 1)."""
        torch = self.torch
        with torch.inference_mode():
            first_t = self._image(first)
            second_t = self._image(second)
            forward = torch.from_numpy(flow.forward).to(self.device)
            backward = torch.from_numpy(flow.backward).to(self.device)
            weight_first = self.consistency(forward, backward)
            weight_second = self.consistency(backward, forward)
            frames = []
            for t in times:
                to_first, density_first = self.splat(forward, weight_first, t)
                to_second, density_second = self.splat(backward, weight_second, 1.0 - t)
                seen_first = self.sample(first_t, to_first)
                seen_second = self.sample(second_t, to_second)
                w_first, w_second = side_weights(density_first, density_second, t)
                mixed = (seen_first * w_first + seen_second * w_second) / (w_first + w_second)
                frames.append((mixed + 0.5).clamp(0, 255).to(torch.uint8))
            out = torch.stack(frames).permute(0, 2, 3, 1)
            return out.contiguous().cpu().numpy()

    def _image(self, frame: np.ndarray) -> Any:
        """uint8 ``[H, W, 3]`` -> float ``[3, H, W]`` on the device."""
        return self.torch.from_numpy(frame).to(self.device).permute(2, 0, 1).float()

    def consistency(self, flow: Any, other: Any) -> Any:
        """Weight per pixel: near 1 where ``flow`` and ``other`` (the reverse flow) cancel."""
        map_x = self.xs + flow[..., 0]
        map_y = self.ys + flow[..., 1]
        back = self._remap(other.permute(2, 0, 1), map_x, map_y).permute(1, 2, 0)
        return consistency_weight(self.torch, flow, back, map_x, map_y, self.width, self.height)

    def splat(self, flow: Any, weight: Any, t: float) -> tuple[Any, Any]:
        """Push pixels ``t`` along ``flow``: (flow from time t back to the frame, landed weight)."""
        torch = self.torch
        h, w = self.height, self.width
        land_x = (self.xs + t * flow[..., 0]).reshape(-1)
        land_y = (self.ys + t * flow[..., 1]).reshape(-1)
        x0 = torch.floor(land_x)
        y0 = torch.floor(land_y)
        ax = land_x - x0
        ay = land_y - y0
        x0 = x0.long()
        y0 = y0.long()
        src_w = weight.reshape(-1)
        fx = flow[..., 0].reshape(-1)
        fy = flow[..., 1].reshape(-1)
        # three 1-D sums: index_add_ on rows of a [N, 3] tensor is several times slower
        density = torch.zeros(h * w, dtype=torch.float32, device=self.device)
        sum_x = torch.zeros_like(density)
        sum_y = torch.zeros_like(density)
        for dx, dy, corner in (
            (0, 0, (1 - ax) * (1 - ay)),
            (1, 0, ax * (1 - ay)),
            (0, 1, (1 - ax) * ay),
            (1, 1, ax * ay),
        ):
            xi = x0 + dx
            yi = y0 + dy
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            index = torch.where(inside, yi * w + xi, torch.zeros_like(xi))
            wts = torch.where(inside, corner * src_w, torch.zeros_like(src_w))
            density.index_add_(0, index, wts)
            sum_x.index_add_(0, index, wts * fx)
            sum_y.index_add_(0, index, wts * fy)
        safe = density.clamp_min(1e-12)
        back = torch.stack([-t * sum_x / safe, -t * sum_y / safe], 1).reshape(h, w, 2)
        return back, density.reshape(h, w)

    def sample(self, image: Any, flow: Any) -> Any:
        """``image`` ``[C, H, W]`` read at each pixel plus ``flow`` (bicubic, edges repeated)."""
        return self._remap(image, self.xs + flow[..., 0], self.ys + flow[..., 1], mode="bicubic")

    def _remap(self, image: Any, map_x: Any, map_y: Any, mode: str = "bilinear") -> Any:
        """``cv2.remap`` with BORDER_REPLICATE, as ``grid_sample`` (bilinear = INTER_LINEAR, bicubic = INTER_CUBIC)."""
        import torch.nn.functional as F  # noqa: N812

        grid = torch_grid(map_x, map_y, self.width, self.height)
        return F.grid_sample(image[None], grid[None], mode=mode, padding_mode="border", align_corners=True)[0]


def torch_grid(map_x: Any, map_y: Any, width: int, height: int) -> Any:
    """Pixel coordinates -> ``grid_sample``'s [-1, 1] grid (pixel centres at the ends)."""
    import torch

    gx = map_x * (2.0 / max(width - 1, 1)) - 1.0
    gy = map_y * (2.0 / max(height - 1, 1)) - 1.0
    return torch.stack([gx, gy], -1)
