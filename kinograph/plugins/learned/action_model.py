"""The LSTM action generator network and the integration that turns its actions into camera motion.

The LSTM emits bounded *actions* (velocities) per step; they are smoothed over time, integrated
into an unbounded state, and squashed into camera values that keep a crop-zoomed, rotated view
inside the source image. So even untrained weights give bounded, smooth motion.

This module imports torch at import time: only the node's ``run`` and the training helper import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

CAMERA = ("pan_x", "pan_y", "zoom", "rotation")
#: Local motion is predicted on a fixed FLOW_BASIS x FLOW_BASIS grid, then resized to flow_grid,
#: so a checkpoint works for any flow_grid param.
FLOW_BASIS = 4
TIME_FEATURES = 8
#: How far (in state units) a full-speed action moves the camera over the whole sequence.
SPEED = 3.0
#: Worst aspect ratio (long side / short side) the rotation margin is computed for.
MAX_ASPECT = 2.0


@dataclass(frozen=True)
class MotionRanges:
    """Largest camera excursions at a given strength (strength 1 = the defaults)."""

    zoom: float
    rotation: float
    flow: float

    @classmethod
    def at(cls, strength: float) -> MotionRanges:
        return cls(zoom=0.3 * strength, rotation=2.0 * strength, flow=0.02 * strength)


class ActionGenerator(nn.Module):
    """Features [B, C] -> start state [B, 4] and per-step actions [B, steps, 4 + 2 * FLOW_BASIS**2]."""

    def __init__(self, feature_size: int, hidden_size: int = 32, layers: int = 1) -> None:
        super().__init__()
        self.feature_size = feature_size
        self.hidden_size = hidden_size
        self.layers = layers
        self.encode = nn.Linear(feature_size, hidden_size)
        self.initial = nn.Linear(hidden_size, 2 * layers * hidden_size)
        self.lstm = nn.LSTM(hidden_size + TIME_FEATURES, hidden_size, layers, batch_first=True)
        self.start = nn.Linear(hidden_size, len(CAMERA))
        self.action = nn.Linear(hidden_size, len(CAMERA) + 2 * FLOW_BASIS * FLOW_BASIS)

    def forward(self, features: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        batch = features.shape[0]
        # Standardise each vector: features from any extractor or weights have a usable scale,
        # and only the pattern across channels (what tells photos apart) drives the motion.
        f = features.float()
        f = (f - f.mean(dim=1, keepdim=True)) / (f.std(dim=1, keepdim=True) + 1e-6)
        code = torch.tanh(self.encode(f))
        h0, c0 = torch.tanh(self.initial(code)).view(batch, 2, self.layers, self.hidden_size).unbind(1)
        clock = time_encoding(steps, f.device)[None].expand(batch, -1, -1)
        inputs = torch.cat([code[:, None, :].expand(batch, steps, -1), clock], dim=2)
        state = (h0.transpose(0, 1).contiguous(), c0.transpose(0, 1).contiguous())
        out, _ = self.lstm(inputs, state)
        return self.start(code), self.action(out)


def time_encoding(steps: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """[steps, TIME_FEATURES] sinusoids of the sequence position in [0, 1] (independent of steps)."""
    t = torch.linspace(0.0, 1.0, steps, device=device)[:, None]
    freqs = torch.arange(1, TIME_FEATURES // 2 + 1, device=device, dtype=torch.float32)[None] * math.pi / 2
    return torch.cat([torch.sin(t * freqs), torch.cos(t * freqs)], dim=1)


def smooth(values: torch.Tensor, width: int) -> torch.Tensor:
    """Moving average over time ([B, steps, K]), edges padded by repetition."""
    if width <= 1 or values.shape[1] < 2:
        return values
    b, steps, k = values.shape
    x = values.permute(0, 2, 1).reshape(b * k, 1, steps)
    x = nn.functional.pad(x, (width // 2, width - 1 - width // 2), mode="replicate")
    kernel = torch.full((1, 1, width), 1.0 / width, device=values.device, dtype=values.dtype)
    return nn.functional.conv1d(x, kernel).reshape(b, k, steps).permute(0, 2, 1)


def integrate(
    start: torch.Tensor, actions: torch.Tensor, strength: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Start state and actions -> camera [B, steps, 4] and flow [B, steps, FLOW_BASIS, FLOW_BASIS, 2].

    Camera columns are pan_x, pan_y (fractions of the image), zoom (>= 1) and rotation (degrees).
    Every value is bounded: the rotated view of the image's aspect (up to MAX_ASPECT) at that
    zoom and pan stays inside the image.
    """
    b, steps, _ = actions.shape
    velocity = smooth(torch.tanh(actions), max(1, steps // 6) | 1)
    # Only the camera has a start state; local flow starts at rest.
    origin = nn.functional.pad(start, (0, velocity.shape[2] - start.shape[1]))[:, None, :]
    state = origin + torch.cumsum(velocity, dim=1) * (SPEED / steps)
    camera = camera_from_state(state[..., : len(CAMERA)], strength)
    ranges = MotionRanges.at(strength)
    flow = ranges.flow * torch.tanh(state[..., len(CAMERA) :] - state[:, :1, len(CAMERA) :])
    return camera, flow.reshape(b, steps, FLOW_BASIS, FLOW_BASIS, 2)


def camera_from_state(state: torch.Tensor, strength: float) -> torch.Tensor:
    """Unbounded state [..., 4] -> camera values [..., 4] (pan_x, pan_y, zoom, rotation), bounded."""
    ranges = MotionRanges.at(strength)
    rotation = ranges.rotation * torch.tanh(state[..., 3])
    theta = torch.deg2rad(rotation)
    # Zoom needed to keep a rotated view inside the frame (cos + aspect * |sin|), times the free
    # zoom on top; the free zoom leaves a margin the pan may use. |sin| has a kink at 0 that
    # would jolt the zoom whenever the rotation changes sign, so a smooth bound replaces it:
    # (s^2 + e^2) / 2e >= |s|, equal at the largest rotation e.
    largest = max(math.sin(math.radians(ranges.rotation)), 1e-6)
    cover = torch.cos(theta) + MAX_ASPECT * (torch.sin(theta) ** 2 + largest**2) / (2 * largest)
    free = 1.0 + ranges.zoom * torch.sigmoid(state[..., 2])
    margin = 0.5 * (1.0 - 1.0 / free)
    pan_x = margin * torch.tanh(state[..., 0])
    pan_y = margin * torch.tanh(state[..., 1])
    return torch.stack([pan_x, pan_y, cover * free, rotation], dim=-1)


def resize_flow(flow: torch.Tensor, grid: int) -> torch.Tensor:
    """[B, steps, FLOW_BASIS, FLOW_BASIS, 2] -> [B, steps, grid, grid, 2] by bilinear resampling."""
    b, steps = flow.shape[:2]
    x = flow.reshape(b * steps, FLOW_BASIS, FLOW_BASIS, 2).permute(0, 3, 1, 2)
    x = nn.functional.interpolate(x, size=(grid, grid), mode="bilinear", align_corners=True)
    return x.permute(0, 2, 3, 1).reshape(b, steps, grid, grid, 2)


def seeded_generator(feature_size: int, hidden_size: int, layers: int, seed: int) -> ActionGenerator:
    """An untrained generator whose weights depend only on its sizes and ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ActionGenerator(feature_size, hidden_size, layers)
