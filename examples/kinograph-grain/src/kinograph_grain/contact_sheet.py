"""Contact sheet: an output node that tiles every Nth frame of a stream into one PNG.

It pulls the stream chunk by chunk and keeps only the small thumbnails, so memory does not grow
with the video's length. The PNG embeds the graph that made it (text chunk ``kinograph:graph``).
"""

from __future__ import annotations

from typing import Any

from kinograph.api import (
    FRAME_STREAM,
    PATH,
    FrameStream,
    IfExists,
    Input,
    Node,
    NodeParams,
    Output,
    OutputPath,
    RunContext,
    Slider,
    atomic_output,
    output_target,
)


class ContactSheet(Node["ContactSheet.Params"]):
    """Writes a grid of thumbnails (every Nth frame) as a PNG."""

    type_id = "grain.contact_sheet"
    display_name = "Contact sheet (PNG)"
    category = "Output"
    description = "Tiles every Nth frame into one PNG: a quick look at a whole clip."
    output_node = True
    inputs = [Input("frames", FRAME_STREAM, "The frames to sample.")]
    outputs = [Output("path", PATH, "The PNG written.")]

    class Params(NodeParams):
        path: str = OutputPath("contact_sheet.png", filters=["PNG (*.png)"], description="PNG to write.")
        every: int = Slider(8, ge=1, le=10_000, description="Take every Nth frame, starting with the first.")
        columns: int = Slider(4, ge=1, le=64, description="Thumbnails per row.")
        thumb_width: int = Slider(160, ge=16, le=1920, step=16, description="Width of one thumbnail.")
        if_exists: IfExists = "overwrite"

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        import numpy as np
        from PIL import Image, PngImagePlugin

        p = self.params
        thumb_h = max(1, round(frames.height * p.thumb_width / frames.width))
        thumbs = []
        for chunk in frames:
            for i in range(chunk.count):
                if (chunk.start + i) % p.every == 0:
                    image = Image.fromarray(chunk.pixels[i]).resize((p.thumb_width, thumb_h), Image.Resampling.BILINEAR)
                    thumbs.append(np.asarray(image))
            ctx.check_cancelled()
        if not thumbs:
            ctx.warn("the stream had no frames: the contact sheet is empty")
            thumbs.append(np.zeros((thumb_h, p.thumb_width, 3), dtype=np.uint8))
        rows = -(-len(thumbs) // p.columns)
        columns = min(p.columns, len(thumbs))
        sheet = np.zeros((rows * thumb_h, columns * p.thumb_width, 3), dtype=np.uint8)
        for n, thumb in enumerate(thumbs):
            r, c = divmod(n, p.columns)
            sheet[r * thumb_h : (r + 1) * thumb_h, c * p.thumb_width : (c + 1) * p.thumb_width] = thumb
        target = output_target(p.path, p.if_exists)
        info = PngImagePlugin.PngInfo()
        if ctx.graph_json:
            info.add_text("kinograph:graph", ctx.graph_json)
        output = atomic_output(target, p.if_exists)  # another run may take the name first
        with output as temp:
            Image.fromarray(sheet).save(temp, format="PNG", pnginfo=info)
        return {"path": str(output.target)}
