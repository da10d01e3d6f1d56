"""How good generated motion is: errors against measured moves, beside three baselines.

The error of a move is the mean distance between where its frames' corners land and where the
measured move's corners land, over all steps, in % of the frame width: pan, zoom and rotation
in one geometric unit (a 1% error is a corner 1% of the frame off). Baselines:

- ``untrained``: the generator's architecture with seeded random weights (what the node gives
  without a checkpoint);
- ``mean_motion``: the training set's mean move, the same for every photo (what a generator that
  ignores the photo would learn at best);
- ``no_motion``: the camera holds still.

Spread says whether the moves differ: across photos (mean pairwise distance between different
clips' moves) and across ``variation`` seeds of one photo.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import torch

from kinograph.plugins.learned.motion_model import corner_error, corners

#: ``variation`` seeds compared for the spread across takes.
VARIATIONS = (1, 2, 3, 4)
#: Pairs of clips are compared among at most this many clips (the spread is a mean of pairs).
MAX_SPREAD_CLIPS = 200


def path_errors(generated: torch.Tensor, targets: torch.Tensor, aspect: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per clip: ``corner`` (mean corner distance, frame widths) and ``squared`` (mean squared
    corner distance in %^2, the training loss without its extra terms)."""
    a = aspect.reshape(-1, 1).to(generated)
    difference = (corners(generated, a) - corners(targets.to(generated), a)) * 100.0
    return {
        "corner": difference.norm(dim=-1).mean(dim=(1, 2)) / 100.0,
        "squared": (difference**2).sum(-1).mean(dim=(1, 2)),
    }


def spread(moves: torch.Tensor, aspect: torch.Tensor) -> float:
    """Mean corner distance between the moves of different clips (% of the frame width)."""
    n = moves.shape[0]
    if n < 2:
        return 0.0
    pick = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:MAX_SPREAD_CLIPS]
    moves, aspect = moves[pick], aspect[pick]
    pairs = torch.tensor(list(itertools.combinations(range(len(pick)), 2)))
    a = aspect[pairs[:, 0]].reshape(-1, 1)
    return float(corner_error(moves[pairs[:, 0]], moves[pairs[:, 1]], a).mean() * 100)


def component_errors(generated: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Mean absolute error of each camera value over all steps (pan in %, zoom in %, degrees)."""
    d = (generated - targets.to(generated)).abs().reshape(-1, 4).mean(dim=0)
    return {
        "pan_x_percent": round(float(d[0]) * 100, 4),
        "pan_y_percent": round(float(d[1]) * 100, 4),
        "zoom_percent": round(float(d[2]) * 100, 4),
        "rotation_degrees": round(float(d[3]), 4),
    }


def compare(
    generate: Callable[[int], torch.Tensor],
    untrained: torch.Tensor,
    mean_motion: torch.Tensor,
    targets: torch.Tensor,
    aspect: torch.Tensor,
) -> dict[str, Any]:
    """The numbers ``kinograph evaluate motion`` prints and training records.

    ``generate(variation)`` gives the trained generator's moves ``[n, steps, 4]`` for the clips
    whose measured moves are ``targets``; ``untrained`` the untrained generator's; ``mean_motion``
    ``[steps, 4]`` the training set's mean move.
    """
    trained = generate(0)
    n = trained.shape[0]
    still = torch.zeros_like(targets)
    still[..., 2] = 1.0
    mean = mean_motion.to(targets)[None].expand(n, -1, -1)
    moves = {"trained": trained, "untrained": untrained, "mean_motion": mean, "no_motion": still}
    errors = {name: float(path_errors(m, targets, aspect)["corner"].mean() * 100) for name, m in moves.items()}
    takes = [trained] + [generate(v) for v in VARIATIONS]
    per_clip = []
    for i in range(n):
        clip_takes = torch.stack([t[i] for t in takes])
        per_clip.append(spread(clip_takes, aspect[i].expand(len(takes))))
    return {
        "clips": n,
        "error_percent": {k: round(v, 4) for k, v in errors.items()},
        "ratio_to_mean_motion": round(errors["trained"] / max(errors["mean_motion"], 1e-9), 4),
        "components": {name: component_errors(m, targets) for name, m in moves.items()},
        "spread_percent": {
            "across_photos": round(spread(trained, aspect), 4),
            "measured_across_photos": round(spread(targets, aspect), 4),
            "across_variation": round(sum(per_clip) / max(1, len(per_clip)), 4),
        },
    }


def format_table(result: dict[str, Any]) -> str:
    """The comparison as a terminal table."""
    errors = result["error_percent"]
    components = result["components"]
    names = {"trained": "trained generator", "untrained": "untrained generator",
             "mean_motion": "training set's mean motion", "no_motion": "no motion"}
    lines = [
        f"motion error on {result['clips']} clips (mean frame-corner distance, % of frame width)",
        f"{'':28} {'error %':>8} {'pan_x %':>8} {'pan_y %':>8} {'zoom %':>8} {'rot deg':>8}",
    ]
    for key, label in names.items():
        c = components[key]
        lines.append(
            f"{label:28} {errors[key]:8.3f} {c['pan_x_percent']:8.3f} {c['pan_y_percent']:8.3f} "
            f"{c['zoom_percent']:8.3f} {c['rotation_degrees']:8.3f}"
        )
    spread_ = result["spread_percent"]
    lines.append(f"trained / mean motion: {result['ratio_to_mean_motion']:.3f}")
    lines.append(
        f"spread across photos: {spread_['across_photos']:.3f}% (measured: {spread_['measured_across_photos']:.3f}%); "
        f"across variation: {spread_['across_variation']:.3f}%"
    )
    return "\n".join(lines)
