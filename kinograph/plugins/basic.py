"""Basic nodes: constants and a synthetic test pattern stream (no heavy dependencies)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kinograph.api import (
    BOOL,
    FRAME_STREAM,
    NUMBER,
    TEXT,
    FrameChunk,
    FrameStream,
    Node,
    NodeParams,
    Output,
    RunContext,
    Slider,
    hookimpl,
)


class Number(Node["Number.Params"]):
    type_id = "kinograph.value.number"
    display_name = "Number"
    category = "Values"
    description = "A constant number."
    outputs = [Output("value", NUMBER, "The number.")]

    class Params(NodeParams):
        value: float = 0.0

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"value": self.params.value}


class Text(Node["Text.Params"]):
    type_id = "kinograph.value.text"
    display_name = "Text"
    category = "Values"
    description = "A constant string."
    outputs = [Output("value", TEXT, "The text.")]

    class Params(NodeParams):
        value: str = ""

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"value": self.params.value}


class Boolean(Node["Boolean.Params"]):
    type_id = "kinograph.value.boolean"
    display_name = "Boolean"
    category = "Values"
    description = "A constant true or false (to drive a yes/no param of another node)."
    outputs = [Output("value", BOOL, "The value.")]

    class Params(NodeParams):
        value: bool = False

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"value": self.params.value}


class TestPattern(Node["TestPattern.Params"]):
    type_id = "kinograph.frames.test_pattern"
    display_name = "Test pattern"
    category = "Frames"
    description = "A synthetic moving colour pattern, streamed: for trying pipelines without files."
    outputs = [Output("frames", FRAME_STREAM, "The generated frames.")]

    class Params(NodeParams):
        width: int = Slider(320, ge=16, le=7680, step=2, description="Frame width in pixels.")
        height: int = Slider(240, ge=16, le=4320, step=2, description="Frame height in pixels.")
        frames: int = Slider(48, ge=1, le=1_000_000, description="Number of frames.")
        fps: float = Slider(24.0, ge=1.0, le=240.0, description="Frames per second.")
        chunk: int = Slider(8, ge=1, le=256, description="Frames per chunk.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        p = self.params

        def chunks() -> Iterator[FrameChunk]:
            import numpy as np

            ys, xs = np.mgrid[0 : p.height, 0 : p.width]
            for start in range(0, p.frames, p.chunk):
                n = min(p.chunk, p.frames - start)
                out = np.empty((n, p.height, p.width, 3), dtype=np.uint8)
                for i in range(n):
                    t = start + i
                    out[i, ..., 0] = (xs + 4 * t) % 256
                    out[i, ..., 1] = (ys + 2 * t) % 256
                    out[i, ..., 2] = ((xs + ys) // 2 + 3 * t) % 256
                yield FrameChunk(start, out)

        return {"frames": FrameStream(chunks, fps=p.fps, width=p.width, height=p.height, frame_count=p.frames)}


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [Number, Text, Boolean, TestPattern]
