"""Palettes: a port type of this plugin, two nodes using it and converters to built-in types.

A ``Palette`` output can feed a ``Text`` input (as ``"#rrggbb, #rrggbb"``) or a ``Tensor``
input (as a uint8 array ``[k, 3]``) through the converters below; anything else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import field_validator

from kinograph.api import (
    FRAME_STREAM,
    TENSOR,
    TEXT,
    Converter,
    FrameStream,
    Input,
    Node,
    NodeParams,
    Output,
    PortType,
    Preview,
    RunContext,
    Slider,
    parse_color,
)

PALETTE = PortType(
    "Palette",
    "An ordered list of RGB colours (kinograph-grain).",
    color="#ffd54f",
)


@dataclass(frozen=True)
class Palette:
    """The value a ``Palette`` port carries: RGB colours as (r, g, b) tuples of 0-255."""

    colors: tuple[tuple[int, int, int], ...]

    @classmethod
    def parse(cls, text: str) -> Palette:
        """``"#rrggbb, #rrggbb"`` -> Palette; raises ValueError naming the bad entry."""
        entries = [e.strip() for e in text.replace(";", ",").split(",") if e.strip()]
        if not entries:
            raise ValueError("a palette needs at least one colour, e.g. '#000000, #ffffff'")
        colors = []
        for entry in entries:
            if len(entry) != 7 or not entry.startswith("#"):
                raise ValueError(f"{entry!r} is not a colour: write #rrggbb")
            try:
                colors.append(parse_color(entry))
            except ValueError:
                raise ValueError(f"{entry!r} is not a colour: write #rrggbb") from None
        return cls(tuple(colors))

    def to_text(self) -> str:
        return ", ".join(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in self.colors)

    def to_array(self) -> Any:
        import numpy as np

        return np.array(self.colors, dtype=np.uint8).reshape(-1, 3)


def palette_to_text(palette: Palette) -> str:
    return palette.to_text()


def palette_to_tensor(palette: Palette) -> Any:
    return palette.to_array()


CONVERTERS = [
    Converter("Palette", TEXT.name, palette_to_text, "a palette becomes '#rrggbb, #rrggbb, ...'"),
    Converter("Palette", TENSOR.name, palette_to_tensor, "a palette becomes a uint8 array [k, 3]"),
]


def palette_swatches(palette: Palette) -> Any:
    """The viewer's picture of a palette: one 32x32 swatch per colour, in a row (uint8 RGB)."""
    import numpy as np

    return np.repeat(np.repeat(palette.to_array()[None, :, :], 32, axis=0), 32, axis=1)


#: How the editor's viewer shows a Palette value (instead of its repr): the swatches above.
PREVIEWS = [Preview("Palette", palette_swatches, "one swatch per colour")]


class PaletteNode(Node["PaletteNode.Params"]):
    """A palette typed in as hex colours."""

    type_id = "grain.palette"
    display_name = "Palette"
    category = "Colour"
    description = "A palette from hex colours, e.g. '#1b1b2f, #e43f5a, #f9d56e'."
    outputs = [Output("palette", PALETTE, "The colours.")]

    class Params(NodeParams):
        colors: str = "#1b1b2f, #1f4068, #e43f5a, #f9d56e, #f3ecc2"

        @field_validator("colors")
        @classmethod
        def _check(cls, value: str) -> str:
            Palette.parse(value)  # a bad colour is a param error the inspector and CLI show
            return value

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"palette": Palette.parse(self.params.colors)}


class PaletteMap(Node["PaletteMap.Params"]):
    """Recolours frames with the nearest palette colour, streamed chunk by chunk."""

    type_id = "grain.palette_map"
    display_name = "Palette map"
    category = "Colour"
    description = "Replaces every pixel by the nearest colour of a palette; 'mix' blends with the original."
    inputs = [
        Input("frames", FRAME_STREAM, "Frames to recolour."),
        Input("palette", PALETTE, "The colours to use."),
    ]
    outputs = [Output("frames", FRAME_STREAM, "The recoloured frames.")]

    class Params(NodeParams):
        mix: float = Slider(1.0, ge=0.0, le=1.0, step=0.05, description="1 = palette only, 0 = original.")

    def run(self, ctx: RunContext, frames: FrameStream, palette: Palette) -> dict[str, Any]:
        colors = palette.to_array()
        mix = self.params.mix
        # Frame by frame: the distances are [H, W, k] floats, too big for a whole chunk at once.
        return {"frames": frames.map(lambda frame, _index: map_to_palette(frame, colors, mix))}


def map_to_palette(frame: Any, colors: Any, mix: float = 1.0) -> Any:
    """Each pixel of ``frame`` [H, W, 3] -> its nearest colour in ``colors`` [k, 3], blended by ``mix``."""
    import numpy as np

    pixels = frame.astype(np.int32)
    distance = ((pixels[:, :, None, :] - colors.astype(np.int32)[None, None]) ** 2).sum(axis=-1)
    mapped = colors[distance.argmin(axis=-1)]
    if mix >= 1.0:
        return mapped
    blended = frame.astype(np.float32) * (1 - mix) + mapped.astype(np.float32) * mix
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)
