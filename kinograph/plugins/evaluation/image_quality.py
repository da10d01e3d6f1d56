"""Full-reference image quality: PSNR and SSIM of a rebuilt frame against the true one.

Both come from scikit-image (``skimage.metrics``), the reference implementations most image
papers cite: SSIM is computed as Wang et al. (2004) define it (Gaussian window, sigma 1.5,
population covariance), on the RGB channels and averaged over them, with an 8-bit data range.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kinograph.api import KinographError

if TYPE_CHECKING:
    import numpy as np

#: SSIM's Gaussian window needs frames at least this big on each side (11 x 11 taps)
MIN_SIDE = 11


def psnr(truth: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (8-bit range); ``inf`` when the frames are identical."""
    import numpy as np

    _check_pair(truth, test)
    if np.array_equal(truth, test):
        return math.inf  # a perfect rebuild: infinite, never a clamp that would look like a score
    from skimage.metrics import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(truth, test, data_range=255))


def ssim(truth: np.ndarray, test: np.ndarray) -> float:
    """Structural similarity (1 for identical frames), mean over the RGB channels."""
    from skimage.metrics import structural_similarity

    _check_pair(truth, test)
    if min(truth.shape[:2]) < MIN_SIDE:
        raise KinographError(
            f"frames are {truth.shape[1]}x{truth.shape[0]}; SSIM needs at least {MIN_SIDE}x{MIN_SIDE} pixels"
        )
    return float(
        structural_similarity(
            truth,
            test,
            channel_axis=-1,
            data_range=255,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )


def mse(truth: np.ndarray, test: np.ndarray) -> float:
    """Mean squared error over all pixels and channels (8-bit levels squared)."""
    from skimage.metrics import mean_squared_error

    _check_pair(truth, test)
    return float(mean_squared_error(truth, test))


def _check_pair(truth: np.ndarray, test: np.ndarray) -> None:
    if truth.shape != test.shape:
        raise KinographError(f"cannot compare frames of shapes {truth.shape} and {test.shape}")
