"""Warping a still image along a Motion: per-frame affine views, optional flow, two backends.

Coordinates: pixel centres sit at integers, the source image spans ``[0, W-1] x [0, H-1]``.
Each frame's view is an affine map from output pixels to source pixels; ``Motion.flow`` adds a
displacement (upsampled from its coarse grid) to that map. The OpenCV backend is the reference;
the torch backend (``grid_sample``) runs on the GPU and is tested against it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kinograph.api import Motion

if TYPE_CHECKING:
    import numpy as np

#: A view centre never comes closer to the image edge than this fraction of the image size.
EDGE_ROOM = 0.05


@dataclass(frozen=True)
class Views:
    """Per-frame output->source affine maps ``(a, b, c, d, e, f)``: ``x = a*u + b*v + c``, ``y = d*u + e*v + f``."""

    matrices: list[tuple[float, float, float, float, float, float]]
    extra_zoom: float
    #: source pixels per output pixel at the most zoomed-out frame (< 1 means the source is shrunk)
    min_scale: float


def plan_views(
    motion: Motion,
    source_size: tuple[int, int],
    output_size: tuple[int, int],
    border: str = "crop_zoom",
    flow_margin: list[tuple[float, float]] | None = None,
) -> Views:
    """The view of every frame of ``motion`` on a ``source_size`` image, for ``output_size`` frames.

    Zoom 1 fills the output with the image (cropping the longer side). With ``crop_zoom`` one
    extra zoom factor, the smallest that keeps every frame's rotated, panned (and flow-displaced)
    view inside the image, is applied to the whole clip, so no frame shows a border and the
    camera path keeps its shape. ``flow_margin`` is each frame's largest flow displacement in
    source pixels (x, y).
    """
    src_w, src_h = source_size
    out_w, out_h = output_size
    cover = max(out_w / src_w, out_h / src_h)
    half_u, half_v = (out_w - 1) / 2.0, (out_h - 1) / 2.0
    margins = flow_margin or [(0.0, 0.0)] * motion.steps
    centres = []
    extra = 1.0
    for i in range(motion.steps):
        cx = (src_w - 1) / 2.0 + motion.pan_x[i] * src_w
        cy = (src_h - 1) / 2.0 + motion.pan_y[i] * src_h
        if border == "crop_zoom":
            mx, my = margins[i]
            cx = _clamp(cx, mx + EDGE_ROOM * src_w, src_w - 1 - mx - EDGE_ROOM * src_w)
            cy = _clamp(cy, my + EDGE_ROOM * src_h, src_h - 1 - my - EDGE_ROOM * src_h)
            theta = math.radians(motion.rotation[i])
            scale = cover * motion.zoom[i]
            a, b = half_u / scale, half_v / scale
            reach_x = a * abs(math.cos(theta)) + b * abs(math.sin(theta))
            reach_y = a * abs(math.sin(theta)) + b * abs(math.cos(theta))
            room_x = max(min(cx, src_w - 1 - cx) - mx, 1e-6)
            room_y = max(min(cy, src_h - 1 - cy) - my, 1e-6)
            extra = max(extra, reach_x / room_x, reach_y / room_y)
        centres.append((cx, cy))
    matrices = []
    min_scale = math.inf
    for i, (cx, cy) in enumerate(centres):
        theta = math.radians(motion.rotation[i])
        scale = cover * motion.zoom[i] * extra
        min_scale = min(min_scale, scale)
        cos_t, sin_t = math.cos(theta) / scale, math.sin(theta) / scale
        # Positive rotation turns the picture counter-clockwise on screen (y points down).
        a, b, d, e = cos_t, -sin_t, sin_t, cos_t
        matrices.append((a, b, cx - a * half_u - b * half_v, d, e, cy - d * half_u - e * half_v))
    return Views(matrices, extra, min_scale)


def shrink_for(views: Views, source: np.ndarray) -> tuple[np.ndarray, Views]:
    """Shrink a large source once (area filter) so warping never minifies (no aliasing).

    Returns the smaller image and views rewritten for it.
    """
    import cv2

    if views.min_scale >= 0.8:
        return source, views
    src_h, src_w = source.shape[:2]
    new_w = max(2, round(src_w * views.min_scale))
    new_h = max(2, round(src_h * views.min_scale))
    fx, fy = new_w / src_w, new_h / src_h
    small = cv2.resize(source, (new_w, new_h), interpolation=cv2.INTER_AREA)
    # Pixel centres: x' = (x + 0.5) * fx - 0.5.
    matrices = [
        (a * fx, b * fx, (c + 0.5) * fx - 0.5, d * fy, e * fy, (f + 0.5) * fy - 0.5)
        for a, b, c, d, e, f in views.matrices
    ]
    return small, Views(matrices, views.extra_zoom, views.min_scale / min(fx, fy))


def flow_margins(motion: Motion, source_size: tuple[int, int]) -> list[tuple[float, float]] | None:
    """Each frame's largest flow displacement in source pixels (x, y), or None without flow."""
    if motion.flow is None:
        return None
    import numpy as np

    peak = np.abs(motion.flow).max(axis=(1, 2))  # [steps, 2]
    return [(float(x) * source_size[0], float(y) * source_size[1]) for x, y in peak]


def warp_opencv(
    source: np.ndarray,
    matrix: tuple[float, ...],
    output_size: tuple[int, int],
    border: str,
    flow: np.ndarray | None = None,
    flow_scale: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """One frame: the source seen through ``matrix`` (plus upsampled ``flow``), with OpenCV."""
    import cv2
    import numpy as np

    out_w, out_h = output_size
    mode = cv2.BORDER_REPLICATE if border == "crop_zoom" else cv2.BORDER_REFLECT_101
    a, b, c, d, e, f = matrix
    if flow is None:
        m = np.array([[a, b, c], [d, e, f]], dtype=np.float64)
        return cv2.warpAffine(source, m, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=mode)
    u, v = np.meshgrid(np.arange(out_w, dtype=np.float32), np.arange(out_h, dtype=np.float32))
    dense = cv2.resize(flow.astype(np.float32), (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    map_x = (a * u + b * v + c + dense[..., 0] * flow_scale[0]).astype(np.float32)
    map_y = (d * u + e * v + f + dense[..., 1] * flow_scale[1]).astype(np.float32)
    return cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=mode)


class TorchWarper:
    """Warps batches of frames with ``torch.nn.functional.grid_sample`` on any device."""

    def __init__(self, source: np.ndarray, output_size: tuple[int, int], border: str, device: Any) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        # A copy: the source may be a read-only view, which torch refuses to wrap.
        self.source = torch.from_numpy(source.copy()).to(self.device).permute(2, 0, 1)[None].float()
        self.src_h, self.src_w = source.shape[:2]
        out_w, out_h = output_size
        self.output_size = output_size
        v, u = torch.meshgrid(
            torch.arange(out_h, dtype=torch.float32, device=self.device),
            torch.arange(out_w, dtype=torch.float32, device=self.device),
            indexing="ij",
        )
        self.u, self.v = u, v
        self.padding = "border" if border == "crop_zoom" else "reflection"

    def warp(
        self,
        matrices: Sequence[tuple[float, ...]],
        flow: np.ndarray | None = None,
        flow_scale: tuple[float, float] = (1.0, 1.0),
    ) -> np.ndarray:
        """Frames ``[n, H, W, 3]`` uint8 for ``n`` matrices (and ``flow[n, gh, gw, 2]``)."""
        import torch.nn.functional as F  # noqa: N812

        torch = self.torch
        out_w, out_h = self.output_size
        m = torch.tensor(matrices, dtype=torch.float32, device=self.device)[:, :, None, None]  # [n, 6, 1, 1]
        x = m[:, 0] * self.u + m[:, 1] * self.v + m[:, 2]
        y = m[:, 3] * self.u + m[:, 4] * self.v + m[:, 5]
        if flow is not None:
            coarse = torch.from_numpy(flow).to(self.device).float().permute(0, 3, 1, 2)
            dense = F.interpolate(coarse, size=(out_h, out_w), mode="bilinear", align_corners=False)
            x = x + dense[:, 0] * flow_scale[0]
            y = y + dense[:, 1] * flow_scale[1]
        grid = torch.stack((x * (2.0 / (self.src_w - 1)) - 1.0, y * (2.0 / (self.src_h - 1)) - 1.0), dim=-1)
        source = self.source.expand(len(matrices), -1, -1, -1)
        with torch.no_grad():
            frames = F.grid_sample(source, grid, mode="bilinear", padding_mode=self.padding, align_corners=True)
        frames = frames.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        return frames.contiguous().cpu().numpy()


def _clamp(value: float, low: float, high: float) -> float:
    if low > high:
        return (low + high) / 2.0
    return min(max(value, low), high)
