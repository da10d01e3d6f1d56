"""Output timing: which point between which two input frames each output frame shows.

Output frame ``j`` is shown at ``j / out_fps`` seconds, which is input position
``p = j * in_fps / out_fps`` (frame ``floor(p)`` blended towards the next by ``p - floor(p)``).
The output keeps the input's duration, so audio stays in sync: ``N`` input frames give
``ceil(N * out_fps / in_fps)`` output frames, and positions past the last input frame repeat it.
Fractions keep the arithmetic exact, so factor 2 never drifts over a long video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Timing:
    """The rate change of one interpolation: ``ratio = out_fps / in_fps`` as an exact fraction."""

    in_fps: float
    out_fps: float
    ratio: Fraction

    def position(self, j: int) -> Fraction:
        """Input position (in frames) of output frame ``j``."""
        return j / self.ratio

    def has_between(self, index: int) -> bool:
        """Whether an output frame falls strictly between input frames ``index - 1`` and ``index``."""
        # the first output past index - 1 is j = floor((index - 1) * ratio) + 1
        first = math.floor((index - 1) * self.ratio) + 1
        return first < index * self.ratio

    def output_count(self, input_count: int) -> int:
        """How many output frames ``input_count`` input frames give (same duration)."""
        if input_count <= 0:
            return 0
        return math.ceil(input_count * self.ratio)


def fps_fraction(fps: float) -> Fraction:
    """An fps as an exact fraction: 30000/1001 (NTSC, as a float) comes back as 30000/1001."""
    exact = Fraction(fps).limit_denominator(1001)
    return exact if exact > 0 else Fraction(fps)


def timing_for(in_fps: float, mode: str, factor: int, target_fps: float) -> Timing:
    """Timing for ``mode`` "factor" (``in_fps * factor``) or "fps" (``target_fps``)."""
    if mode == "factor":
        ratio = Fraction(factor)
        return Timing(in_fps, in_fps * factor, ratio)
    ratio = fps_fraction(target_fps) / fps_fraction(in_fps)
    return Timing(in_fps, target_fps, ratio)


def split_position(position: Fraction) -> tuple[int, float]:
    """``(frame index, t in [0, 1))`` of an input position."""
    index = math.floor(position)
    return index, float(position - index)
