"""Scene cut detection: two neighbouring frames whose colours differ too much to morph.

The score is the total-variation distance between the two frames' colour histograms (per
channel, averaged): 0 for the same colours, 1 for none in common. Camera motion moves pixels but
keeps the colour mix, so pans and zooms score low while a cut to another shot scores high.
Histograms of small thumbnails keep it cheap at any resolution. On photo-like test frames, pans
of 40 px, 5% zooms and 5 degree turns score under 0.06, cuts between shots 0.19 or more; the
node's default threshold is 0.12.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

BINS = 16
THUMB_WIDTH = 96


def histogram(frame: np.ndarray) -> np.ndarray:
    """Normalised ``[3, BINS]`` colour histogram of a thumbnail of ``frame``."""
    import cv2
    import numpy as np

    h, w = frame.shape[:2]
    if w > THUMB_WIDTH:
        size = (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    pixels = frame.reshape(-1, 3)
    hist = np.stack([np.bincount(pixels[:, c] // (256 // BINS), minlength=BINS) for c in range(3)])
    return hist.astype(np.float64) / max(1, pixels.shape[0])


def cut_score(first_hist: np.ndarray, second_hist: np.ndarray) -> float:
    """Colour difference of two frames from their :func:`histogram`, in [0, 1]."""
    return float(0.5 * abs(first_hist - second_hist).sum(axis=1).mean())


def is_cut(first_hist: np.ndarray, second_hist: np.ndarray, threshold: float) -> bool:
    """Whether the step between two frames is a scene cut (score above ``threshold``)."""
    return cut_score(first_hist, second_hist) > threshold
