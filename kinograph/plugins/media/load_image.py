"""Load image: one still picture from a file, as uint8 RGB, whatever its mode or orientation."""

from __future__ import annotations

import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinograph.api import (
    IMAGE,
    Color,
    InputPath,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    parse_color,
)

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image as PilImage

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
IMAGE_FILTERS = [
    "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)",
    "All files (*)",
]
#: The largest picture read, in pixels (e.g. 10000 x 10000; 300 MB as RGB). Pillow warns above
#: 89 MP ("decompression bomb") and refuses above 179 MP; one limit of our own gives one rule,
#: one clear message, and no raw library warning.
MAX_IMAGE_PIXELS = 100_000_000


@contextmanager
def open_image(file: Path) -> Iterator[PilImage]:
    """Open an image with Pillow (header only), refusing pictures above :data:`MAX_IMAGE_PIXELS`."""
    from PIL import Image

    limit = f"pictures of at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels are read (scale it down first)"
    with warnings.catch_warnings():
        # Our limit replaces Pillow's warning, which would reach the user's terminal raw.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            opened = Image.open(file)
        except Image.DecompressionBombError as exc:
            # Pillow refuses before telling the size, but its message holds the pixel count.
            found = re.search(r"\((\d+) pixels\)", str(exc))
            size = f" ({int(found.group(1)) / 1e6:.0f} megapixels)" if found else ""
            raise NodeFailure(f"{file} is too large{size}: {limit}") from None
    with opened:
        width, height = opened.size
        if width * height > MAX_IMAGE_PIXELS:
            raise NodeFailure(
                f"{file} is too large ({width} x {height} = {width * height / 1e6:.0f} megapixels): {limit}"
            )
        yield opened


def read_image(path: str | Path, background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Read an image file as a C-contiguous uint8 ``[H, W, 3]`` RGB array.

    EXIF orientation is applied, transparency is composited over ``background``, grayscale
    becomes RGB and 16-bit or float samples are scaled to 8 bits. Missing or unreadable files
    raise :class:`NodeFailure` naming the path.
    """
    from PIL import ImageOps, UnidentifiedImageError

    file = Path(path)
    try:
        mode = file.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise NodeFailure(f"image file not found: {file} (check the path param)") from None
    except (OSError, ValueError) as exc:  # a name too long for the system, a NUL character
        raise NodeFailure(f"cannot read image {file}: {getattr(exc, 'strerror', None) or exc}") from None
    if stat.S_ISDIR(mode):
        raise NodeFailure(f"{file} is a folder, not an image file (use Load images for folders)")
    if not stat.S_ISREG(mode):  # reading a FIFO would wait forever, a device never ends
        raise NodeFailure(f"{file} is not a regular file (a pipe or a device?), so it is not read as an image")
    try:
        with open_image(file) as opened:
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            return image_to_rgb(upright if upright is not None else opened, background)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NodeFailure(
            f"cannot read image {file}: {exc} (is it a complete PNG, JPEG, WebP, BMP or TIFF file?)"
        ) from exc


def image_to_rgb(image: Any, background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """A Pillow image in any mode -> uint8 ``[H, W, 3]`` RGB (alpha composited over ``background``)."""
    import numpy as np

    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _gray_high_depth(np.asarray(image))
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if not has_alpha:
        return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
    alpha = rgba[..., 3:4] / 255.0
    under = np.asarray(background, dtype=np.float32).reshape(1, 1, 3)
    mixed = rgba[..., :3] * alpha + under * (1.0 - alpha)
    return np.ascontiguousarray(np.clip(np.rint(mixed), 0, 255).astype(np.uint8))


def _gray_high_depth(samples: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit integer or float grayscale -> 8-bit RGB."""
    import numpy as np

    values = samples.astype(np.float64)
    if samples.dtype.kind == "f":
        # Float images are usually 0..1; some tools write 0..255.
        scale = 255.0 if float(values.max(initial=0.0)) <= 1.0 else 1.0
    elif samples.dtype.itemsize >= 2:
        scale = 255.0 / 65535.0
    else:
        scale = 1.0
    gray = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(gray[..., None], 3, axis=2))


class LoadImage(Node["LoadImage.Params"]):
    """Reads one image file (PNG, JPEG, WebP, BMP, TIFF) as an RGB image."""

    type_id = "kinograph.image.load"
    display_name = "Load image"
    category = "Image"
    description = (
        "Reads a PNG, JPEG, WebP, BMP or TIFF file as an RGB image: EXIF orientation applied, "
        "transparency composited over the background colour, 16-bit scaled to 8-bit."
    )
    outputs = [Output("image", IMAGE, "The picture, RGB uint8 [H, W, 3].")]

    class Params(NodeParams):
        path: str = InputPath("", description="The image file.", filters=IMAGE_FILTERS)
        background: str = Color("#000000", description="Colour shown through transparent pixels.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"image": read_image(self.params.path, parse_color(self.params.background))}
