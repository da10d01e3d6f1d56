"""Blending: the plain cross-fade method, the nearest-side rule at scene cuts, and the
occlusion-aware mix the flow method ends with (shared by both backends)."""

from __future__ import annotations

from typing import Any

#: weight a neighbour keeps where nothing of it landed, so a spot neither sees still gets a fade
HOLE_WEIGHT = 1e-4


def cross_fade(first: Any, second: Any, times: list[float]) -> Any:
    """The ``blend`` method: ``(1 - t) * first + t * second`` for each ``t`` (uint8 out)."""
    import numpy as np

    a = first.astype(np.float32)
    b = second.astype(np.float32)
    out = np.empty((len(times), *first.shape), dtype=np.uint8)
    for k, t in enumerate(times):
        out[k] = np.clip((1.0 - t) * a + t * b + 0.5, 0, 255).astype(np.uint8)
    return out


def nearest_side(first: Any, second: Any, times: list[float]) -> Any:
    """At a scene cut: each in-between frame repeats the closer neighbour, never a mix."""
    import numpy as np

    return np.stack([first if t < 0.5 else second for t in times])


def side_weights(density_first: Any, density_second: Any, t: float) -> tuple[Any, Any]:
    """How much each warped neighbour counts at every pixel.

    Time closeness (``1 - t`` and ``t``) times how much of that neighbour landed there (capped
    at 1): where only one neighbour sees a spot, the other's share is near zero.
    """
    w_first = (1.0 - t) * (density_first.clip(0.0, 1.0) + HOLE_WEIGHT)
    w_second = t * (density_second.clip(0.0, 1.0) + HOLE_WEIGHT)
    return w_first, w_second


def second_share(density_first: Any, density_second: Any, t: float) -> Any:
    """The second neighbour's share of each pixel, ``w_second / (w_first + w_second)``."""
    w_first, w_second = side_weights(density_first, density_second, t)
    return w_second / (w_first + w_second)


def mix_by_share(seen_first: Any, seen_second: Any, share: Any, out: Any = None) -> Any:
    """Per-pixel weighted mean of two float frames ``[H, W, 3]`` -> uint8 (numpy), into ``out``.

    ``share`` ``[H, W]`` is the second frame's weight (:func:`second_share`). Written as
    ``first + (second - first) * share`` in place: one frame-sized temporary.
    """
    import numpy as np

    mixed = np.subtract(seen_second, seen_first)
    mixed *= share[..., None]
    mixed += seen_first
    np.clip(mixed, 0.0, 255.0, out=mixed)
    mixed += 0.5
    if out is None:
        out = np.empty(mixed.shape, dtype=np.uint8)
    np.copyto(out, mixed, casting="unsafe")  # truncates: with the 0.5 above, rounds to nearest
    return out
