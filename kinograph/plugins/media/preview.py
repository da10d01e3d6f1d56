"""Preview: a small thumbnail of an image or of one frame of a stream, for the editor."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kinograph.api import (
    FRAME_STREAM,
    IMAGE,
    FrameStream,
    Input,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
)


def thumbnail(pixels: Any, size: int) -> Any:
    """Shrink uint8 RGB ``pixels`` so the longer side is at most ``size`` (area filter)."""
    import cv2
    import numpy as np

    height, width = pixels.shape[:2]
    scale = min(1.0, size / max(height, width))
    if scale >= 1.0:
        return np.ascontiguousarray(pixels)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.ascontiguousarray(cv2.resize(pixels, new_size, interpolation=cv2.INTER_AREA))


def frame_of(frames: FrameStream, index: int) -> Any:
    """Frame ``index`` of a stream (or its last frame when shorter); stops pulling right after."""
    import numpy as np

    iterator = iter(frames)
    last = None
    try:
        for chunk in iterator:
            if chunk.start <= index < chunk.stop:
                return np.array(chunk.pixels[index - chunk.start])
            last = chunk.pixels[-1]
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    if last is None:
        raise NodeFailure("the frames input had no frames to preview")
    return np.array(last)


class Preview(Node["Preview.Params"]):
    """Shows a thumbnail of an image or of one frame of a stream."""

    type_id = "kinograph.image.preview"
    display_name = "Preview"
    category = "Image"
    description = (
        "Makes a small thumbnail for the editor from the image input, or from one frame of the "
        "frames input (it stops pulling the stream after that frame)."
    )
    output_node = True
    inputs = [
        Input("image", IMAGE, "An image to preview.", optional=True),
        Input("frames", FRAME_STREAM, "A stream to preview one frame of.", optional=True),
    ]
    outputs = [Output("thumbnail", IMAGE, "The thumbnail, RGB uint8.")]

    class Params(NodeParams):
        size: int = Field(256, ge=16, le=4096, description="Longest side of the thumbnail in pixels.")
        frame: int = Field(0, ge=0, description="Which frame of the stream to show.")

    @classmethod
    def check_inputs(cls, params: NodeParams, inputs: dict[str, dict[str, Any]]) -> list[str]:
        # Both inputs are optional, but one of them must be linked: say so before anything runs.
        if not inputs:
            return ["nothing to preview: link its image or frames input"]
        return []

    def run(self, ctx: RunContext, image: Any = None, frames: FrameStream | None = None) -> dict[str, Any]:
        if image is not None:
            import numpy as np

            pixels = np.asarray(image)
            if pixels.ndim == 4:
                pixels = pixels[0]
        elif frames is not None:
            pixels = frame_of(frames, self.params.frame)
        else:
            raise NodeFailure("nothing to preview: link an image or frames input")
        return {"thumbnail": thumbnail(pixels, self.params.size)}
