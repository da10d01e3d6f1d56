"""Load image: one still picture from a file, as uint8 RGB, whatever its mode or orientation."""

from __future__ import annotations

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

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
IMAGE_FILTERS = [
    "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)",
    "All files (*)",
]


def read_image(path: str | Path, background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Read an image file as a C-contiguous uint8 ``[H, W, 3]`` RGB array.

    EXIF orientation is applied, transparency is composited over ``background``, grayscale
    becomes RGB and 16-bit or float samples are scaled to 8 bits. Missing or unreadable files
    raise :class:`NodeFailure` naming the path.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    file = Path(path)
    if not file.exists():
        raise NodeFailure(f"image file not found: {file} (check the path param)")
    if file.is_dir():
        raise NodeFailure(f"{file} is a folder, not an image file (use Load images for folders)")
    try:
        with Image.open(file) as opened:
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            return image_to_rgb(upright if upright is not None else opened, background)
    except Image.DecompressionBombError as exc:
        raise NodeFailure(f"{file} is too large to load safely: {exc}") from exc
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


class LoadImage(Node):
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
