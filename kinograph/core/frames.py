"""Frames and streams: the data a video pipeline pulls through the graph chunk by chunk.

A chunk is a C-contiguous ``uint8`` array ``[n, H, W, 3]`` (RGB) with the index of its first
frame. A :class:`FrameStream` knows its fps, size and (when known) frame count, and yields chunks
once, lazily: nothing is computed until a sink pulls, and no stage holds the whole video.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from kinograph.core.errors import Cancelled, NodeFailure

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

    def map(
        self,
        fn: Callable[[np.ndarray, int], Any],
        *,
        per: Literal["frame", "chunk"] = "frame",
        **changes: Any,
    ) -> FrameStream:
        """A stream with ``fn`` applied to every frame (or chunk): the way to write an effect.

        ``per="frame"``: ``fn(frame, index)`` gets one frame ``[H, W, 3]`` and its index in the
        stream and returns the new frame. ``per="chunk"``: ``fn(pixels, start)`` gets a whole
        chunk ``[n, H, W, 3]`` and the index of its first frame and returns ``n`` new frames, for
        effects that are faster on many frames at once (numpy, torch on a GPU). Either may
        return a uint8 numpy array or torch tensor; ``changes`` sets new properties (``width``,
        ``height`` for an effect that resizes).

        Nothing runs until a consumer pulls; one chunk at a time is in memory. When ``fn``
        raises, the node fails with the frame it was at, e.g. ``failed at frame 120: ...``
        (the original traceback is kept for ``--debug``).
        """
        if per not in ("frame", "chunk"):
            raise ValueError(f"per must be 'frame' or 'chunk', not {per!r}")
        derived = self.derive(lambda: (), **changes)
        width, height = derived.width, derived.height

        def generate() -> Iterator[FrameChunk]:
            import numpy as np

            for chunk in self:
                if per == "chunk":
                    where = f"frame {chunk.start}" if chunk.count == 1 else f"frames {chunk.start}-{chunk.stop - 1}"
                    pixels = _as_frames(_call(fn, chunk.pixels, chunk.start, where), where, chunk.count, width, height)
                else:
                    pixels = np.empty((chunk.count, height, width, 3), dtype=np.uint8)
                    for i in range(chunk.count):
                        where = f"frame {chunk.start + i}"
                        frame = _call(fn, chunk.pixels[i], chunk.start + i, where)
                        pixels[i] = _as_frames(frame, where, None, width, height)
                yield FrameChunk(chunk.start, pixels)

        derived.chunks = generate
        return derived

    def map_chunks(self, fn: Callable[[np.ndarray], np.ndarray], **changes: Any) -> FrameStream:
        """``fn(pixels)`` on every chunk: the older form of ``map(..., per="chunk")``."""
        return self.map(lambda pixels, _start: fn(pixels), per="chunk", **changes)

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


def _call(fn: Callable[[Any, int], Any], pixels: Any, index: int, where: str) -> Any:
    """``fn(pixels, index)``, its failure named by the frame it was at."""
    try:
        return fn(pixels, index)
    except Cancelled:
        raise
    except NodeFailure as exc:
        raise NodeFailure(f"failed at {where}: {exc}") from exc
    except Exception as exc:
        raise NodeFailure(f"failed at {where}: {type(exc).__name__}: {exc}") from exc


def _as_frames(result: Any, where: str, count: int | None, width: int, height: int) -> Any:
    """``result`` as C-contiguous uint8 frames, or a NodeFailure saying what was returned.

    ``count`` None: one frame ``[H, W, 3]``; otherwise ``count`` frames ``[count, H, W, 3]``.
    """
    import numpy as np

    if hasattr(result, "detach"):  # a torch tensor, wherever it lives
        result = result.detach().cpu().numpy()
    if not isinstance(result, np.ndarray):
        raise NodeFailure(f"failed at {where}: the effect returned {type(result).__name__}, not a uint8 array")
    expected = (height, width, 3) if count is None else (count, height, width, 3)
    if result.dtype != np.uint8:
        raise NodeFailure(
            f"failed at {where}: the effect returned {result.dtype} values; return uint8"
            " (e.g. np.clip(x + 0.5, 0, 255).astype(np.uint8))"
        )
    if result.shape != expected:
        shape = "[H, W, 3]" if count is None else "[n, H, W, 3]"
        raise NodeFailure(
            f"failed at {where}: the effect returned shape {tuple(result.shape)}, expected {expected} {shape}"
            + ("; pass width= and height= to map() when it resizes" if result.shape[-3:-1] != expected[-3:-1] else "")
        )
    return np.ascontiguousarray(result)
