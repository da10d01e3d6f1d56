"""Save image: write one image to a PNG (graph embedded), JPEG, WebP, BMP or TIFF file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from kinograph.api import (
    IMAGE,
    PATH,
    IfExists,
    Input,
    KinographError,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    OutputPath,
    RunContext,
    atomic_output,
    output_target,
)
from kinograph.plugins.media.embed import png_text

SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}


def save_image(
    pixels: Any, target: Path, graph_json: str | None = None, quality: int = 95, if_exists: IfExists = "overwrite"
) -> Path:
    """Write uint8 RGB ``pixels`` to ``target`` atomically; PNGs (and JPEG comments) carry the graph.

    Returns the path written: with ``increment``, another run may have taken ``target`` meanwhile.
    """
    from PIL import Image

    kind = SAVE_FORMATS.get(target.suffix.lower())
    if kind is None:
        raise NodeFailure(f"cannot save {target}: use one of {', '.join(SAVE_FORMATS)}")
    image = Image.fromarray(pixels)
    options: dict[str, Any] = {}
    if kind == "PNG":
        info = png_text(graph_json)
        if info is not None:
            options["pnginfo"] = info
    elif kind in ("JPEG", "WEBP"):
        options["quality"] = quality
        if kind == "JPEG" and graph_json:
            options["comment"] = graph_json.encode("utf-8")
    output = atomic_output(target, if_exists)
    try:
        with output as temp:
            image.save(temp, format=kind, **options)
    except OSError as exc:  # a read-only or special folder, a full disk: the user's to fix
        raise NodeFailure(
            f"cannot write {target}: {exc.strerror or exc} (choose a folder you can write to)"
        ) from exc
    return output.target


class SaveImage(Node["SaveImage.Params"]):
    """Writes an image file; PNG files embed the graph that made them."""

    type_id = "kinograph.image.save"
    display_name = "Save image"
    category = "Image"
    description = (
        "Writes the image to a PNG, JPEG, WebP, BMP or TIFF file (by the path's suffix). PNG files "
        "embed the graph in a text chunk, so the editor can reopen it from the picture."
    )
    output_node = True
    inputs = [Input("image", IMAGE, "The image to save.")]
    outputs = [Output("path", PATH, "The file written.")]

    class Params(NodeParams):
        path: str = OutputPath(
            "out/image.png", description="The file to write.", filters=["PNG (*.png)", "JPEG (*.jpg)", "WebP (*.webp)"]
        )
        if_exists: IfExists = "overwrite"
        quality: int = Field(95, ge=1, le=100, description="JPEG / WebP quality.")

    def run(self, ctx: RunContext, image: Any) -> dict[str, Any]:
        import numpy as np

        pixels = np.asarray(image)
        if pixels.ndim == 4 and pixels.shape[0] == 1:
            pixels = pixels[0]
        if pixels.ndim != 3 or pixels.shape[-1] != 3 or pixels.dtype != np.uint8:
            raise NodeFailure(f"expected an RGB uint8 image [H, W, 3], got {pixels.dtype} {tuple(pixels.shape)}")
        try:
            target = output_target(self.params.path, self.params.if_exists)
        except KinographError as exc:
            raise NodeFailure(str(exc)) from exc
        except OSError as exc:
            raise NodeFailure(f"cannot write to {self.params.path}: {exc.strerror or exc}") from exc
        written = save_image(np.ascontiguousarray(pixels), target, ctx.graph_json, self.params.quality, self.params.if_exists)
        return {"path": str(written)}
