"""The motion generator network, the bounded integration of its actions, and motion geometry.

The generator reads a photo's features (one pooled vector, or a coarse grid of the features
node's spatial maps, so it can tell left from right) and emits one *action* per step: a velocity
of pan, zoom and rotation, bounded by ``tanh``. Velocities are smoothed, integrated from the
identity (step 0 shows the photo as it is, like a measured clip's first frame) and softly
bounded, so even untrained weights give smooth motion that stays in range.

Time is physical: step ``k`` is ``k / step_rate`` seconds in, so a checkpoint trained on 4 s
clips at 12 steps per second generates the same move for 48 steps, and keeps moving sensibly
for more.

A ``variation`` seed feeds a noise vector into the encoder: 0 gives the deterministic move (the
mean the training fitted), other seeds give other takes (trained winner-takes-all, so they spread
over the moves the data allows).

This module imports torch at import time: only the node's ``run`` and training import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

CAMERA = ("pan_x", "pan_y", "zoom", "rotation")
TIME_FEATURES = 8
NOISE_SIZE = 8
CELL_SIZE = 16


@dataclass(frozen=True)
class MotionLimits:
    """Largest camera speeds (per second) and excursions the generator can produce (strength 1).

    Pans are fractions of the frame, zoom is in log units (``log(1.6)`` = 1.6x), rotation in
    degrees. Wide enough for a handheld push-in or a slow pan; a photo cannot show much more.
    """

    pan_speed: float = 0.5
    zoom_speed: float = 0.4
    rotation_speed: float = 6.0
    pan: float = 0.35
    zoom: float = math.log(1.6)
    rotation: float = 8.0

    def speeds(self) -> torch.Tensor:
        return torch.tensor([self.pan_speed, self.pan_speed, self.zoom_speed, self.rotation_speed])

    def reach(self) -> torch.Tensor:
        return torch.tensor([self.pan, self.pan, self.zoom, self.rotation])


LIMITS = MotionLimits()


class MotionGenerator(nn.Module):
    """Features -> per-step actions ``[B, steps, 4]`` (pre-``tanh`` velocities of the camera).

    ``grid`` 0 reads pooled vectors ``[B, C]``; ``grid`` N reads spatial maps ``[B, C, h, w]``
    pooled to N x N cells. Each cell goes through the same small projection (what is there),
    then their concatenation through the encoder (where it is).
    """

    def __init__(
        self,
        feature_size: int,
        grid: int = 3,
        hidden_size: int = 64,
        layers: int = 1,
        cell_size: int = CELL_SIZE,
        noise_size: int = NOISE_SIZE,
        horizon: float = 4.0,
    ) -> None:
        super().__init__()
        self.feature_size = feature_size
        self.grid = grid
        self.hidden_size = hidden_size
        self.layers = layers
        self.noise_size = noise_size
        cells = grid * grid if grid else 1
        # Feature statistics of the training set (identity until training sets them).
        self.register_buffer("feature_mean", torch.zeros(feature_size))
        self.register_buffer("feature_std", torch.ones(feature_size))
        # Seconds the training clips lasted: the clock the LSTM reads is time / horizon.
        self.register_buffer("horizon", torch.tensor(float(horizon)))
        self.cell = nn.Linear(feature_size, cell_size)
        self.encode = nn.Linear(cells * cell_size + noise_size, hidden_size)
        self.dropout = nn.Dropout(0.1)
        self.initial = nn.Linear(hidden_size, 2 * layers * hidden_size)
        self.lstm = nn.LSTM(hidden_size + TIME_FEATURES, hidden_size, layers, batch_first=True)
        self.action = nn.Linear(hidden_size, len(CAMERA))

    def cells(self, features: torch.Tensor) -> torch.Tensor:
        """Features as ``[B, cells, C]``: the grid of a spatial map, or one pooled vector."""
        f = features.float()
        if self.grid:
            if f.ndim != 4:
                raise ValueError(f"this generator reads spatial maps [N, C, h, w], got {list(f.shape)}")
            f = nn.functional.adaptive_avg_pool2d(f, self.grid)
            return f.flatten(2).transpose(1, 2)
        if f.ndim == 4:
            f = f.mean(dim=(2, 3))
        return f[:, None, :]

    def forward(
        self, features: torch.Tensor, steps: int, step_rate: float, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = self.cells(features)
        batch = x.shape[0]
        # Features of any extractor: compress the heavy tail, then the training set's scale.
        x = torch.sign(x) * torch.log1p(x.abs())
        x = (x - self.feature_mean) / self.feature_std
        x = torch.relu(self.cell(x)).flatten(1)
        if noise is None:
            noise = x.new_zeros(batch, self.noise_size)
        code = torch.tanh(self.encode(torch.cat([x, noise.to(x)], dim=1)))
        code = self.dropout(code)
        h0, c0 = torch.tanh(self.initial(code)).view(batch, 2, self.layers, self.hidden_size).unbind(1)
        clock = time_encoding(steps, step_rate, float(self.horizon), x.device)[None].expand(batch, -1, -1)
        inputs = torch.cat([code[:, None, :].expand(batch, steps, -1), clock], dim=2)
        out, _ = self.lstm(inputs, (h0.transpose(0, 1).contiguous(), c0.transpose(0, 1).contiguous()))
        return self.action(out)


def time_encoding(steps: int, step_rate: float, horizon: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """``[steps, TIME_FEATURES]``: the clock in units of the training clips' length, and sinusoids of it."""
    t = (torch.arange(steps, device=device, dtype=torch.float32) / step_rate / max(horizon, 1e-3))[:, None]
    freqs = torch.arange(1, TIME_FEATURES // 2 + 1, device=device, dtype=torch.float32)[None] * math.pi / 2
    return torch.cat([torch.sin(t * freqs), torch.cos(t * freqs)], dim=1)


def smooth(values: torch.Tensor, width: int) -> torch.Tensor:
    """Trailing moving average over time (``[B, steps, K]``) from rest: before step 0 the
    values are 0, so a move eases in over ``width`` steps however the network starts it."""
    if width <= 1 or values.shape[1] < 2:
        return values
    b, steps, k = values.shape
    x = values.permute(0, 2, 1).reshape(b * k, 1, steps)
    x = nn.functional.pad(x, (width - 1, 0))
    kernel = torch.full((1, 1, width), 1.0 / width, device=values.device, dtype=values.dtype)
    return nn.functional.conv1d(x, kernel).reshape(b, k, steps).permute(0, 2, 1)


def integrate(actions: torch.Tensor, step_rate: float, strength: float = 1.0, limits: MotionLimits = LIMITS) -> torch.Tensor:
    """Actions ``[B, steps, 4]`` -> camera ``[B, steps, 4]`` (pan_x, pan_y, zoom, rotation).

    Step 0 is the identity (pan 0, zoom 1, rotation 0). Velocities are bounded and eased in from
    rest over about 0.4 s (a trailing average); positions are bounded softly (``tanh``) by ``limits``; ``strength`` scales
    the whole move (0 holds still, 2 moves twice as far; zoom in log units).
    """
    velocity = torch.tanh(actions.float()) * limits.speeds().to(actions.device)
    velocity = smooth(velocity, max(1, round(step_rate * 0.4)))
    position = torch.cumsum(velocity[:, :-1], dim=1) / step_rate
    position = nn.functional.pad(position, (0, 0, 1, 0))
    reach = limits.reach().to(actions.device)
    position = reach * torch.tanh(position / reach) * strength
    return torch.cat([position[..., :2], torch.exp(position[..., 2:3]), position[..., 3:]], dim=-1)


def as_log(camera: torch.Tensor) -> torch.Tensor:
    """Camera ``[..., 4]`` with zoom replaced by log zoom (the space moves add and scale in)."""
    return torch.cat([camera[..., :2], torch.log(camera[..., 2:3].clamp_min(1e-6)), camera[..., 3:]], dim=-1)


def from_log(values: torch.Tensor) -> torch.Tensor:
    return torch.cat([values[..., :2], torch.exp(values[..., 2:3]), values[..., 3:]], dim=-1)


def corners(camera: torch.Tensor, aspect: float | torch.Tensor) -> torch.Tensor:
    """Where each view's frame corners land in the first frame: ``[..., 4 corners, 2]``.

    Units are frame widths (the frame spans ``1 x 1/aspect``), the geometry Animate image uses:
    ``source = centre + R(rotation) / zoom @ offset``. ``aspect`` (width / height) is a number or
    a tensor that broadcasts against ``camera.shape[:-1]`` (one per clip: ``[B, 1]``).
    """
    height = 1.0 / torch.as_tensor(aspect, dtype=camera.dtype, device=camera.device)
    height = height.expand(camera.shape[:-1])[..., None]
    sx = torch.tensor([-0.5, 0.5, 0.5, -0.5], device=camera.device, dtype=camera.dtype)
    sy = torch.tensor([-0.5, -0.5, 0.5, 0.5], device=camera.device, dtype=camera.dtype) * height
    pan_x, pan_y, zoom, rotation = (v[..., None] for v in camera.unbind(-1))
    theta = torch.deg2rad(rotation)
    cos, sin = torch.cos(theta) / zoom, torch.sin(theta) / zoom
    x = pan_x + cos * sx - sin * sy
    y = pan_y * height + sin * sx + cos * sy
    return torch.stack([x, y], dim=-1)


def corner_error(camera: torch.Tensor, target: torch.Tensor, aspect: float | torch.Tensor) -> torch.Tensor:
    """Mean distance between the two paths' frame corners, per path (``[...]``), in frame widths."""
    return (corners(camera, aspect) - corners(target, aspect)).norm(dim=-1).mean(dim=(-1, -2))


def mirrored(camera: torch.Tensor) -> torch.Tensor:
    """The move of the mirrored photo: pan_x and rotation change sign."""
    return camera * torch.tensor([-1.0, 1.0, 1.0, -1.0], device=camera.device, dtype=camera.dtype)


def variation_noise(variation: int, batch: int = 1, size: int = NOISE_SIZE) -> torch.Tensor | None:
    """The noise a ``variation`` seed feeds the generator: None (deterministic) for 0."""
    if variation == 0:
        return None
    g = torch.Generator().manual_seed(int(variation))
    return torch.randn(batch, size, generator=g)


def seeded_generator(feature_size: int, grid: int, hidden_size: int, layers: int, seed: int) -> MotionGenerator:
    """An untrained generator whose weights depend only on its sizes and ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MotionGenerator(feature_size, grid, hidden_size, layers)
