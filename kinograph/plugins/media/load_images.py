"""Load images: a folder or glob of pictures in natural order, as a batch or a frame stream."""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from kinograph.api import (
    FRAME_STREAM,
    IMAGES,
    Color,
    FrameStream,
    InputPath,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    Slider,
    parse_color,
)
from kinograph.plugins.media.load_image import IMAGE_SUFFIXES, open_image, read_image

if TYPE_CHECKING:
    import numpy as np

#: EXIF orientations that swap width and height (rotations by 90 or 270 degrees).
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}


def natural_key(path: Path) -> list[Any]:
    """Sort key that orders ``img2`` before ``img10`` (numbers compared as numbers)."""
    parts = re.split(r"(\d+)", path.name.lower())
    return [int(part) if part.isdigit() else part for part in parts]


def list_images(pattern: str) -> list[Path]:
    """The image files in a folder, or matching a glob, in natural sort order."""
    target = Path(pattern)
    if target.is_dir():
        found = [p for p in target.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    elif glob.has_magic(pattern):
        found = [Path(p) for p in glob.glob(pattern) if Path(p).is_file()]
    elif target.is_file():
        found = [target]
    else:
        raise NodeFailure(f"no folder or file at {pattern} (check the path param)")
    if not found:
        raise NodeFailure(
            f"no images in {pattern} (looked for {', '.join(IMAGE_SUFFIXES)}; check the path param)"
        )
    return sorted(found, key=natural_key)


def upright_size(path: Path) -> tuple[int, int]:
    """(width, height) after EXIF orientation, read from the header only."""
    from PIL import UnidentifiedImageError

    try:
        with open_image(path) as image:
            width, height = image.size
            orientation = image.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NodeFailure(f"cannot read image {path}: {exc}") from exc
    if orientation in _SWAPPING_ORIENTATIONS:
        return height, width
    return width, height


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to cover ``width`` x ``height`` and crop the centre: sizes match, shapes stay true."""
    import cv2
    import numpy as np

    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    scale = max(width / w, height / h)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    left, top = (new_w - width) // 2, (new_h - height) // 2
    return np.ascontiguousarray(scaled[top : top + height, left : left + width])


class LoadImages(Node["LoadImages.Params"]):
    """Reads every image of a folder or glob, in natural order (img2 before img10)."""

    type_id = "kinograph.image.load_folder"
    display_name = "Load images"
    category = "Image"
    description = (
        "Reads a folder (or a glob such as photos/*.jpg) of images in natural order, as a batch "
        "of Images or as a FrameStream at the given fps. Images of other sizes than the first "
        "are resized (cropping to keep their shape) or refused."
    )
    outputs = [
        Output("images", IMAGES, "All images as one batch [N, H, W, 3] (held in memory; made when linked or when as_stream is off)."),
        Output("frames", FRAME_STREAM, "The images as frames, read one chunk at a time."),
    ]

    class Params(NodeParams):
        path: str = InputPath("", description="A folder, or a glob such as shots/*.png.", folder=True)
        fps: float = Slider(24.0, ge=0.1, le=240.0, description="Frame rate of the frames output.")
        as_stream: bool = True
        mismatch: Literal["resize", "error"] = Field(
            "resize", description="Images of another size than the first: resize (cover and crop the centre) or error."
        )
        background: str = Color("#000000", description="Colour shown through transparent pixels.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        p = self.params
        files = list_images(p.path)
        width, height = upright_size(files[0])
        # Headers only: cheap even for long sequences, and a resized frame should never be a surprise.
        others = [(file, size) for file in files[1:] if (size := upright_size(file)) != (width, height)]
        if others and p.mismatch == "error":
            file, size = others[0]
            raise NodeFailure(
                f"{file} is {size[0]}x{size[1]} but {files[0].name} is {width}x{height} "
                "(set mismatch to 'resize', or make the images the same size)"
            )
        if others:
            file, size = others[0]
            ctx.warn(
                f"{len(others)} of {len(files)} images are not {width}x{height} like {files[0].name} "
                f"(e.g. {file.name} is {size[0]}x{size[1]}): resized and centre-cropped to fit "
                "(set mismatch to 'error' to refuse them)"
            )
        background = parse_color(p.background)

        def frames() -> Iterator[np.ndarray]:
            for file in files:
                yield fit(read_image(file, background), width, height)

        outputs: dict[str, Any] = {}
        # A linked `images` output needs the whole batch in memory, whatever as_stream says.
        if p.as_stream and not (ctx.wanted_outputs and "images" in ctx.wanted_outputs):
            stream = FrameStream.from_frames(
                frames(), fps=p.fps, width=width, height=height, frame_count=len(files)
            )
            outputs["frames"] = stream
        else:
            import numpy as np

            batch = np.empty((len(files), height, width, 3), dtype=np.uint8)
            for index, frame in enumerate(frames()):
                ctx.check_cancelled()
                batch[index] = frame
                ctx.progress(index + 1, len(files))
            outputs["images"] = batch
            outputs["frames"] = FrameStream.from_array(batch, fps=p.fps)
        ctx.logger.info("%d images, %dx%d", len(files), width, height)
        return outputs
