"""Motion smoothness: the jerk (third time derivative) of a camera path.

A steady camera move (constant speed, or a smooth ease) has little jerk; a shaky or stuttering
one has a lot, because jerk weighs frame-to-frame wobble by ``fps**3``. Jerk is worked out per
parameter of the :class:`Motion` (pan in frame widths, zoom as log-zoom so 1.1x and 1/1.1x
count alike, rotation in degrees), per second cubed, and never across a scene cut: a window of
four frames that spans a new segment (``meta["segments"]``) is skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kinograph.api import Motion

#: frames a jerk window needs (a third difference)
WINDOW = 4


@dataclass(frozen=True)
class Jerk:
    """Jerk of one camera path: per-frame pan jerk and root-mean-square values.

    ``per_frame[k]`` is the pan jerk magnitude at frame ``k`` (frame widths/s³), NaN where no
    whole window ends at ``k``. The RMS values are None when no window fits (fewer than four
    frames in every shot).
    """

    per_frame: list[float]
    pan: float | None
    zoom: float | None
    rotation: float | None
    windows: int


def third_differences(values: list[float], valid: list[bool]) -> list[float]:
    """``x[k] - 3x[k-1] + 3x[k-2] - x[k-3]`` where ``valid[k]``, else NaN."""
    out = []
    for k, ok in enumerate(valid):
        if not ok:
            out.append(math.nan)
            continue
        out.append(values[k] - 3 * values[k - 1] + 3 * values[k - 2] - values[k - 3])
    return out


def camera_jerk(motion: Motion, fps: float | None = None) -> Jerk:
    """The jerk of ``motion``'s camera path; ``fps`` defaults to ``motion.meta["fps"]``."""
    fps = float(fps if fps is not None else motion.meta.get("fps", 0) or 0)
    if fps <= 0:
        raise ValueError("the motion's frame rate is unknown: pass fps")
    n = motion.steps
    width, height = motion.meta.get("size", (1, 1))
    cuts = {int(s) for s in motion.meta.get("segments", [0]) if int(s) > 0}
    # a window k-3..k is whole when no shot starts at k-2, k-1 or k
    valid = [k >= WINDOW - 1 and not any(s in cuts for s in range(k - 2, k + 1)) for k in range(n)]
    scale = fps**3
    aspect = height / width if width else 1.0
    jx = third_differences(list(motion.pan_x), valid)
    # pan_y is a fraction of the height: in frame widths, so both axes count alike
    jy = third_differences([y * aspect for y in motion.pan_y], valid)
    jz = third_differences([math.log(z) for z in motion.zoom], valid)
    jr = third_differences(list(motion.rotation), valid)
    pan = [math.hypot(x, y) * scale for x, y in zip(jx, jy, strict=True)]
    windows = sum(valid)
    return Jerk(
        per_frame=pan,
        pan=rms(pan),
        zoom=rms([v * scale for v in jz]),
        rotation=rms([v * scale for v in jr]),
        windows=windows,
    )


def rms(values: list[float]) -> float | None:
    """Root mean square of the finite values, None when there are none."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return math.sqrt(sum(v * v for v in finite) / len(finite))
