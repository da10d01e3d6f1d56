"""Frames and streams: the data a video pipeline pulls through the graph chunk by chunk.

A chunk is a C-contiguous ``uint8`` array ``[n, H, W, 3]`` (RGB) with the index of its first
frame. A :class:`FrameStream` knows its fps, size and (when known) frame count, and yields chunks
once, lazily: nothing is computed until a sink pulls, and no stage holds the whole video.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

DEFAULT_CHUNK = 8


@dataclass(frozen=True)
class FrameChunk:
    """Consecutive frames ``pixels[n, H, W, 3]`` (uint8 RGB) starting at frame ``start``."""

    start: int
    pixels: np.ndarray

    @property
    def count(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def stop(self) -> int:
        return self.start + self.count

    def problem(self, width: int | None = None, height: int | None = None) -> str | None:
        """Why this chunk breaks the frame contract, or None when it keeps it."""
        px = self.pixels
        if getattr(px, "dtype", None) is None or str(px.dtype) != "uint8":
            return f"chunk at frame {self.start} has dtype {getattr(px, 'dtype', type(px))}, expected uint8"
        if px.ndim != 4 or px.shape[-1] != 3:
            return f"chunk at frame {self.start} has shape {tuple(px.shape)}, expected [n, H, W, 3]"
        if not px.flags["C_CONTIGUOUS"]:
            return f"chunk at frame {self.start} is not C-contiguous"
        if width is not None and height is not None and (px.shape[1], px.shape[2]) != (height, width):
            return (
                f"chunk at frame {self.start} is {px.shape[2]}x{px.shape[1]}, "
                f"but the stream says {width}x{height}"
            )
        return None


@dataclass
class FrameStream:
    """A lazy, single-pass sequence of :class:`FrameChunk` with its video properties.

    ``chunks`` is an iterable (usually a generator) or a zero-argument callable returning one;
    it is consumed once. ``audio`` optionally names a media file whose audio a writer may copy.
    """

    chunks: Iterable[FrameChunk] | Callable[[], Iterable[FrameChunk]]
    fps: float
    width: int
    height: int
    frame_count: int | None = None
    audio: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _used: bool = field(default=False, init=False, repr=False)

    @property
    def used(self) -> bool:
        """Whether a consumer has started pulling this stream (it is single-pass)."""
        return self._used

    def __iter__(self) -> Iterator[FrameChunk]:
        if self._used:
            raise RuntimeError("a FrameStream can be iterated only once; pull it from one consumer")
        self._used = True
        source = self.chunks() if callable(self.chunks) else self.chunks
        return iter(source)

    def frames(self) -> Iterator[np.ndarray]:
        """Yield single frames ``[H, W, 3]`` (views into the chunks)."""
        for chunk in self:
            yield from chunk.pixels

    def derive(self, chunks: Iterable[FrameChunk] | Callable[[], Iterable[FrameChunk]], **changes: Any) -> FrameStream:
        """A new stream with other chunks and the same properties except ``changes``."""
        props = {
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "frame_count": self.frame_count,
            "audio": self.audio,
            "meta": dict(self.meta),
        }
        props.update(changes)
        return FrameStream(chunks, **props)

    def map_chunks(self, fn: Callable[[np.ndarray], np.ndarray], **changes: Any) -> FrameStream:
        """Apply ``fn`` to every chunk's pixels (a per-frame effect that keeps frame count)."""

        def generate() -> Iterator[FrameChunk]:
            import numpy as np

            for chunk in self:
                yield FrameChunk(chunk.start, np.ascontiguousarray(fn(chunk.pixels)))

        return self.derive(generate, **changes)

    @classmethod
    def from_frames(
        cls,
        frames: Iterable[np.ndarray],
        *,
        fps: float,
        width: int,
        height: int,
        frame_count: int | None = None,
        chunk_size: int = DEFAULT_CHUNK,
        **kwargs: Any,
    ) -> FrameStream:
        """Group single frames ``[H, W, 3]`` into chunks of ``chunk_size``."""

        def generate() -> Iterator[FrameChunk]:
            import numpy as np

            batch: list[np.ndarray] = []
            start = 0
            for frame in frames:
                batch.append(frame)
                if len(batch) == chunk_size:
                    yield FrameChunk(start, np.ascontiguousarray(np.stack(batch), dtype=np.uint8))
                    start += len(batch)
                    batch = []
            if batch:
                yield FrameChunk(start, np.ascontiguousarray(np.stack(batch), dtype=np.uint8))

        return cls(generate, fps=fps, width=width, height=height, frame_count=frame_count, **kwargs)

    @classmethod
    def from_array(cls, array: np.ndarray, *, fps: float, chunk_size: int = DEFAULT_CHUNK) -> FrameStream:
        """A stream over frames already in memory (``[N, H, W, 3]`` uint8)."""
        n, h, w = int(array.shape[0]), int(array.shape[1]), int(array.shape[2])
        return cls.from_frames(iter(array), fps=fps, width=w, height=h, frame_count=n, chunk_size=chunk_size)
