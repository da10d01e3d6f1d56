"""Fitting the LSTM action generator to target camera paths, and saving the result as a checkpoint.

The default checkpoint shipped with kinograph comes from :func:`synthetic_dataset` (Ken Burns
style eased moves whose direction and amount are a fixed function of the photo's features) via
``scripts/make_default_checkpoint.py``. Real training data (features of photos paired with the
camera paths of real videos) goes through the same :func:`fit_action_generator`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from kinograph.plugins.learned.action_model import (
    CAMERA,
    FLOW_BASIS,
    ActionGenerator,
    MotionRanges,
    camera_from_state,
    integrate,
    seeded_generator,
)
from kinograph.plugins.learned.checkpoints import save_checkpoint

PATH_MAPPING_SEED = 20261125


@dataclass
class FitResult:
    """A fitted generator, the metadata its checkpoint records, and the loss per epoch."""

    model: ActionGenerator
    metadata: dict[str, Any]
    losses: list[float] = field(default_factory=list)

    def save(self, path: str | Path) -> Path:
        """Write the checkpoint (``.safetensors`` or ``.pt``)."""
        return save_checkpoint(path, self.model.state_dict(), self.metadata)


def synthetic_dataset(
    feature_size: int, samples: int, steps: int, seed: int = 0, strength: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Feature vectors like a ResNet's (non-negative, sparse) and eased camera paths they determine.

    Returns features ``[samples, feature_size]`` and camera targets ``[samples, steps, 4]``. Each
    path eases (smoothstep) from a start to an end camera state; both states are a fixed random
    projection of the standardised features, so different photos ask for different moves.
    """
    g = torch.Generator().manual_seed(seed)
    features = torch.relu(torch.randn(samples, feature_size, generator=g)) * torch.rand(samples, 1, generator=g) * 2
    # The feature -> path mapping is fixed (not drawn from ``seed``) so every sample set agrees.
    mapping = torch.Generator().manual_seed(PATH_MAPPING_SEED)
    projection = torch.randn(feature_size, 2 * len(CAMERA), generator=mapping) / feature_size**0.5
    standard = (features - features.mean(1, keepdim=True)) / (features.std(1, keepdim=True) + 1e-6)
    # Mostly pans and zooms; rotation stays gentle (a tilting horizon reads as a mistake).
    reach = torch.tensor([2.0, 2.0, 2.5, 0.6])
    ends = reach * torch.tanh(standard @ projection).view(samples, 2, len(CAMERA))
    t = torch.linspace(0.0, 1.0, steps)
    ease = (t * t * (3 - 2 * t))[None, :, None]
    state = ends[:, :1] + (ends[:, 1:] - ends[:, :1]) * ease
    return features, camera_from_state(state, strength)


def camera_loss(camera: torch.Tensor, target: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Mean squared error with each camera value scaled to a comparable range."""
    ranges = MotionRanges.at(max(strength, 1e-3))
    scale = torch.tensor([8.0, 8.0, 1.0 / max(ranges.zoom, 1e-3), 1.0 / max(ranges.rotation, 1e-3)])
    return (((camera - target) * scale) ** 2).mean()


def fit_action_generator(
    features: torch.Tensor,
    targets: torch.Tensor,
    *,
    extractor: str,
    hidden_size: int = 32,
    layers: int = 1,
    epochs: int = 200,
    lr: float = 1e-2,
    batch_size: int = 64,
    strength: float = 1.0,
    seed: int = 0,
    log: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Fit a generator so features ``[N, C]`` produce camera paths ``targets`` ``[N, steps, 4]``.

    Deterministic for a given ``seed`` (init, batch order) on the CPU. ``extractor`` names the
    feature extractor the features came from; the checkpoint records it with the sizes.
    """
    samples, steps = targets.shape[0], targets.shape[1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = seeded_generator(features.shape[1], hidden_size, layers, seed)
        optimiser = torch.optim.Adam(model.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
        losses = []
        for epoch in range(epochs):
            order = torch.randperm(samples)
            total = 0.0
            for first in range(0, samples, batch_size):
                index = order[first : first + batch_size]
                start, actions = model(features[index], steps)
                camera, _ = integrate(start, actions, strength)
                loss = camera_loss(camera, targets[index], strength)
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimiser.step()
                total += loss.item() * len(index)
            schedule.step()
            losses.append(total / samples)
            if log is not None:
                log(epoch, losses[-1])
    metadata = {
        "feature_size": features.shape[1],
        "extractor": extractor,
        "steps": steps,
        "hidden_size": hidden_size,
        "layers": layers,
        "flow_basis": FLOW_BASIS,
        "strength": strength,
        "epochs": epochs,
        "seed": seed,
        "final_loss": round(losses[-1], 6) if losses else None,
    }
    return FitResult(model.eval(), metadata, losses)
