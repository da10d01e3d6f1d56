"""Optical flow between two neighbouring frames: DIS (OpenCV), forward and backward.

``forward[y, x]`` is where pixel ``(x, y)`` of the first frame moved to in the second, as
``(dx, dy)`` in pixels; ``backward`` is the same from the second frame to the first. The
interpolation needs both: one to move each neighbour towards the in-between time, and the pair
of them to find pixels that only one neighbour can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: preset name -> (OpenCV preset, finest pyramid level, variational refinement iterations).
#: The finest level is 0 (full resolution) for "medium": sub-pixel accuracy decides how sharp
#: the in-between frames are, and the coarser default (level 1) blurs fine texture.
PRESETS: dict[str, tuple[str, int, int]] = {
    "ultrafast": ("DISOPTICAL_FLOW_PRESET_ULTRAFAST", 2, 0),
    "fast": ("DISOPTICAL_FLOW_PRESET_FAST", 1, 5),
    "medium": ("DISOPTICAL_FLOW_PRESET_MEDIUM", 0, 5),
}


@dataclass
class PairFlow:
    """Forward and backward flow of one frame pair, ``[H, W, 2]`` float32 each."""

    forward: np.ndarray
    backward: np.ndarray


class FlowEstimator:
    """DIS optical flow with one preset; keeps its OpenCV object between frame pairs."""

    def __init__(self, preset: str = "medium") -> None:
        import cv2

        if preset not in PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; use one of {', '.join(PRESETS)}")
        name, finest, refine = PRESETS[preset]
        dis: Any = cv2.DISOpticalFlow_create(getattr(cv2, name))
        dis.setFinestScale(finest)
        dis.setVariationalRefinementIterations(refine)
        self._dis = dis

    def gray(self, frame: np.ndarray) -> np.ndarray:
        """The 8-bit luma DIS works on."""
        import cv2

        return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)

    def flow(self, first_gray: np.ndarray, second_gray: np.ndarray) -> np.ndarray:
        """Flow from ``first_gray`` to ``second_gray`` (``[H, W, 2]`` float32)."""
        return self._dis.calc(first_gray, second_gray, None)

    def pair(self, first_gray: np.ndarray, second_gray: np.ndarray) -> PairFlow:
        """Forward and backward flow between two luma frames."""
        return PairFlow(self.flow(first_gray, second_gray), self.flow(second_gray, first_gray))
