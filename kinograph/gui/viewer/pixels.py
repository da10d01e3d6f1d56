"""Pixels to Qt: RGB arrays (frames read from the stream cache or a video file) as QImages."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QImage


def to_qimage(pixels: Any) -> QImage:
    """An ``[H, W, 3]`` uint8 RGB array as a QImage (copied, so the array may go)."""
    import numpy as np

    array = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = int(array.shape[0]), int(array.shape[1])
    return QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
