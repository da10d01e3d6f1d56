"""The torch backend of flow interpolation: the steps of :mod:`.warp_opencv` with
``index_add_`` splatting and ``grid_sample`` warping, on ``ctx.device`` (CUDA, MPS or the CPU).

It follows the OpenCV backend step for step so the two give the same frames (tests compare
them on the CPU); only the flow itself always comes from OpenCV's DIS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinograph.plugins.interpolation.blend import second_share
from kinograph.plugins.interpolation.flow import MOTION_EDGE, PairFlow, consistency_weight

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
        self._grids: dict[tuple[int, int], tuple[Any, Any]] = {}

    def grid(self, height: int, width: int) -> tuple[Any, Any]:
        """Column and row coordinates ``(xs, ys)`` of a ``height x width`` grid on the device."""
        if (height, width) not in self._grids:
            torch = self.torch
            ys, xs = torch.meshgrid(
                torch.arange(height, dtype=torch.float32, device=self.device),
                torch.arange(width, dtype=torch.float32, device=self.device),
                indexing="ij",
            )
            self._grids[(height, width)] = (xs, ys)
        return self._grids[(height, width)]

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
                share = self.nearest_up(second_share(density_first, density_second, t))
                seen_first = self.sample(first_t, self.to_frame_size(to_first))
                seen_second = self.sample(second_t, self.to_frame_size(to_second))
                # the same arithmetic as blend.mix_by_share, so both backends round alike
                mixed = seen_first + (seen_second - seen_first) * share
                frames.append((mixed.clamp(0, 255) + 0.5).to(torch.uint8))
            out = torch.stack(frames).permute(0, 2, 3, 1)
            return out.contiguous().cpu().numpy()

    def _image(self, frame: np.ndarray) -> Any:
        """uint8 ``[H, W, 3]`` -> float ``[3, H, W]`` on the device."""
        return self.torch.from_numpy(frame).to(self.device).permute(2, 0, 1).float()

    def consistency(self, flow: Any, other: Any) -> Any:
        """Weight per pixel: near 1 where ``flow`` and ``other`` (the reverse flow) cancel."""
        h, w = flow.shape[:2]
        xs, ys = self.grid(h, w)
        map_x = xs + flow[..., 0]
        map_y = ys + flow[..., 1]
        back = remap(other.permute(2, 0, 1), map_x, map_y).permute(1, 2, 0)
        return consistency_weight(self.torch, flow, back, map_x, map_y, w, h)

    def splat(self, flow: Any, weight: Any, t: float) -> tuple[Any, Any]:
        """Push pixels ``t`` along ``flow``: (flow from time t back to the frame, landed weight).

        As in the OpenCV backend: sums into a frame with a one-pixel border, cropped after.
        """
        torch = self.torch
        h, w = flow.shape[:2]
        xs, ys = self.grid(h, w)
        fx = flow[..., 0].reshape(-1)
        fy = flow[..., 1].reshape(-1)
        land_x = (xs.reshape(-1) + t * fx).clamp(-2.0, w + 1.0)
        land_y = (ys.reshape(-1) + t * fy).clamp(-2.0, h + 1.0)
        x0 = torch.floor(land_x)
        y0 = torch.floor(land_y)
        ax = land_x - x0
        ay = land_y - y0
        keep = (x0 >= -1) & (x0 <= w - 1) & (y0 >= -1) & (y0 <= h - 1)
        src = torch.where(keep, weight.reshape(-1), torch.zeros_like(ax))
        stride = w + 2
        corner = ((y0.clamp(-1, h - 1) + 1) * stride + (x0.clamp(-1, w - 1) + 1)).long()
        right = ax * src
        left = src - right
        # three 1-D sums: index_add_ on rows of a [N, 3] tensor is several times slower
        size = (h + 2) * stride
        density = torch.zeros(size, dtype=torch.float32, device=self.device)
        sum_x = torch.zeros_like(density)
        sum_y = torch.zeros_like(density)
        for offset, wts in (
            (0, left * (1 - ay)),
            (1, right * (1 - ay)),
            (stride, left * ay),
            (stride + 1, right * ay),
        ):
            index = corner + offset
            density.index_add_(0, index, wts)
            sum_x.index_add_(0, index, wts * fx)
            sum_y.index_add_(0, index, wts * fy)
        density = density.reshape(h + 2, stride)[1 : h + 1, 1 : w + 1]
        scale = -t / density.clamp_min(1e-12)
        sum_x = sum_x.reshape(h + 2, stride)[1 : h + 1, 1 : w + 1]
        sum_y = sum_y.reshape(h + 2, stride)[1 : h + 1, 1 : w + 1]
        return torch.stack([sum_x * scale, sum_y * scale], -1), density

    def to_frame_size(self, back: Any) -> Any:
        """A flow made on a smaller grid, scaled up as the OpenCV backend does."""
        import torch.nn.functional as F  # noqa: N812

        h, w = back.shape[:2]
        if (h, w) == (self.height, self.width):
            return back
        size = (self.height, self.width)
        # the 3x3 spread (max - min) of each component, edges repeated, as cv2.dilate - cv2.erode
        grid = F.pad(back.permute(2, 0, 1)[None], (1, 1, 1, 1), mode="replicate")
        spread = F.max_pool2d(grid, 3, stride=1) + F.max_pool2d(-grid, 3, stride=1)
        edge = (spread[0].amax(0) > MOTION_EDGE).float()
        scale = self.torch.tensor([self.width / w, self.height / h], device=self.device)
        scaled = (back * scale).permute(2, 0, 1)[None]
        up = F.interpolate(scaled, size=size, mode="bilinear", align_corners=False)[0]
        nearest = F.interpolate(scaled, size=size, mode="nearest")[0]
        edge_up = F.interpolate(edge[None, None], size=size, mode="nearest")[0, 0] > 0.5
        return self.torch.where(edge_up[None], nearest, up).permute(1, 2, 0)

    def nearest_up(self, grid: Any) -> Any:
        """A per-pixel map ``[h, w]`` made on the flow grid, at frame size (nearest)."""
        import torch.nn.functional as F  # noqa: N812

        if tuple(grid.shape) == (self.height, self.width):
            return grid
        return F.interpolate(grid[None, None], size=(self.height, self.width), mode="nearest")[0, 0]

    def sample(self, image: Any, flow: Any) -> Any:
        """``image`` ``[C, H, W]`` read at each pixel plus ``flow`` (bicubic, edges repeated)."""
        xs, ys = self.grid(self.height, self.width)
        return remap(image, xs + flow[..., 0], ys + flow[..., 1], mode="bicubic")


def remap(image: Any, map_x: Any, map_y: Any, mode: str = "bilinear") -> Any:
    """``cv2.remap`` of ``image`` ``[C, h, w]`` with BORDER_REPLICATE, as ``grid_sample``
    (bilinear = INTER_LINEAR, bicubic = INTER_CUBIC)."""
    import torch.nn.functional as F  # noqa: N812

    height, width = image.shape[1:]
    grid = torch_grid(map_x, map_y, width, height)
    return F.grid_sample(image[None], grid[None], mode=mode, padding_mode="border", align_corners=True)[0]


def torch_grid(map_x: Any, map_y: Any, width: int, height: int) -> Any:
    """Pixel coordinates -> ``grid_sample``'s [-1, 1] grid (pixel centres at the ends)."""
    import torch

    gx = map_x * (2.0 / max(width - 1, 1)) - 1.0
    gy = map_y * (2.0 / max(height - 1, 1)) - 1.0
    return torch.stack([gx, gy], -1)
