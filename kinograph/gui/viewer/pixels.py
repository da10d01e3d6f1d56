"""Pixels to Qt: RGB arrays as QImages, and the picture inside an Image or Images value."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QImage


def image_of(value: Any) -> Any:
    """An ``[H, W, 3]`` uint8 array from an Image or Images value, or None."""
    shape = getattr(value, "shape", None)
    if shape is None or str(getattr(value, "dtype", "")) != "uint8":
        return None
    if len(shape) == 4 and shape[0] > 0 and shape[-1] == 3:
        return value[0]
    if len(shape) == 3 and shape[-1] == 3:
        return value
    return None


def to_qimage(pixels: Any) -> QImage:
    """An ``[H, W, 3]`` uint8 RGB array as a QImage (copied, so the array may go)."""
    import numpy as np

    array = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = int(array.shape[0]), int(array.shape[1])
    return QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
