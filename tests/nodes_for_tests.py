"""Small real nodes used by the core tests (registered in-process as a plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kinograph.api import (
    FRAME_STREAM,
    NUMBER,
    PATH,
    FrameChunk,
    FrameStream,
    Input,
    InputPath,
    Node,
    NodeParams,
    Output,
    OutputPath,
    RunContext,
    atomic_output,
    hookimpl,
    output_target,
)

CALLS: dict[str, int] = {}


def _count(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1


class Add(Node):
    type_id = "test.add"
    category = "Test"
    inputs = [Input("a", NUMBER), Input("b", NUMBER, optional=True)]
    outputs = [Output("sum", NUMBER)]

    class Params(NodeParams):
        offset: float = 0.0

    def run(self, ctx: RunContext, a: float, b: float = 0.0) -> dict[str, Any]:
        _count("add")
        return {"sum": a + b + self.params.offset}


class Fail(Node):
    type_id = "test.fail"
    category = "Test"
    inputs = [Input("a", NUMBER)]
    outputs = [Output("out", NUMBER)]

    def run(self, ctx: RunContext, a: float) -> dict[str, Any]:
        raise ValueError("this node always fails")


class Noop(Node):
    type_id = "test.noop"
    category = "Test"
    inputs = [Input("a", NUMBER, optional=True)]
    outputs = [Output("out", NUMBER)]

    def run(self, ctx: RunContext, a: float = 0.0) -> dict[str, Any]:
        return {"out": a}


class Record(Node):
    """Output node that keeps what it received in a module-level list."""

    type_id = "test.record"
    category = "Test"
    output_node = True
    inputs = [Input("value", "Any")]
    outputs = []
    received: list[Any] = []

    class Params(NodeParams):
        label: str = ""

    def run(self, ctx: RunContext, value: Any) -> dict[str, Any]:
        Record.received.append((self.params.label, value))
        return {}


class ReadFile(Node):
    type_id = "test.read_file"
    category = "Test"
    outputs = [Output("size", NUMBER)]

    class Params(NodeParams):
        path: str = InputPath("", filters=["Any (*)"])

    def run(self, ctx: RunContext) -> dict[str, Any]:
        _count("read_file")
        with open(self.params.path, "rb") as f:
            return {"size": len(f.read())}


class Source(Node):
    type_id = "test.source"
    category = "Test"
    outputs = [Output("frames", FRAME_STREAM)]

    class Params(NodeParams):
        frames: int = 16
        size: int = 32
        chunk: int = 4
        delay: float = 0.0  # seconds of work per chunk (time accounting tests)

    def run(self, ctx: RunContext) -> dict[str, Any]:
        p = self.params
        _count("source")

        def chunks() -> Iterator[FrameChunk]:
            import time

            import numpy as np

            for start in range(0, p.frames, p.chunk):
                time.sleep(p.delay)
                n = min(p.chunk, p.frames - start)
                pixels = np.empty((n, p.size, p.size, 3), dtype=np.uint8)
                for i in range(n):
                    pixels[i] = (start + i) % 256
                yield FrameChunk(start, pixels)

        return {"frames": FrameStream(chunks, fps=24.0, width=p.size, height=p.size, frame_count=p.frames)}


class Invert(Node):
    """Pass-through stage; fails at ``fail_at`` frames when set."""

    type_id = "test.invert"
    category = "Test"
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("frames", FRAME_STREAM)]

    class Params(NodeParams):
        fail_at: int = -1

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        fail_at = self.params.fail_at

        def chunks() -> Iterator[FrameChunk]:
            for chunk in frames:
                if 0 <= fail_at < chunk.stop:
                    raise RuntimeError(f"broken at frame {fail_at}")
                yield FrameChunk(chunk.start, 255 - chunk.pixels)

        return {"frames": frames.derive(chunks)}


class Collect(Node):
    """Output node that checks frame order and keeps only counts (bounded memory)."""

    type_id = "test.collect"
    category = "Test"
    output_node = True
    inputs = [Input("frames", FRAME_STREAM), Input("gate", NUMBER, optional=True)]
    outputs = [Output("count", NUMBER)]
    seen: dict[str, list[int]] = {}

    class Params(NodeParams):
        label: str = "sink"
        delay: float = 0.0  # seconds per chunk: a slow reader
        fail: bool = False  # fails before reading anything

    def run(self, ctx: RunContext, frames: FrameStream, gate: float = 0.0) -> dict[str, Any]:
        import time

        if self.params.fail:
            raise RuntimeError("the sink failed before reading")
        firsts = Collect.seen.setdefault(self.params.label, [])
        count = 0
        for chunk in frames:
            time.sleep(self.params.delay)
            for i in range(chunk.count):
                firsts.append(int(chunk.pixels[i, 0, 0, 0]))
            count += chunk.count
        return {"count": count}


class WriteText(Node):
    """Output node writing a file atomically, honouring if_exists."""

    type_id = "test.write_text"
    category = "Test"
    output_node = True
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("path", PATH)]

    class Params(NodeParams):
        path: str = OutputPath("out.txt")
        if_exists: str = "overwrite"

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        target = output_target(self.params.path, self.params.if_exists)  # type: ignore[arg-type]
        output = atomic_output(target, self.params.if_exists)  # type: ignore[arg-type]
        with output as temp, open(temp, "w") as f:
            for chunk in frames:
                f.write(f"{chunk.start} {chunk.count}\n")
        return {"path": str(output.target)}




class RefuseStream(Node):
    """Output node that fails before reading its stream."""

    type_id = "test.refuse_stream"
    category = "Test"
    output_node = True
    inputs = [Input("frames", FRAME_STREAM)]

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        raise ValueError("refusing to read")


class TakeFirst(Node):
    """Output node that reads one chunk and stops (like a preview)."""

    type_id = "test.take_first"
    category = "Test"
    output_node = True
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("first", NUMBER)]

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        chunk = next(iter(frames))
        return {"first": int(chunk.pixels[0, 0, 0, 0])}


EXTRA_NODES = [RefuseStream, TakeFirst]


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [Add, Fail, Noop, Record, ReadFile, Source, Invert, Collect, WriteText, *EXTRA_NODES]
