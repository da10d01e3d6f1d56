"""Frames by index, read on demand: from the core's disk stream cache, or from a video file.

The scrubber asks for one frame at a time; neither source ever loads the whole video.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from kinograph.host import StreamCache


class FrameSource:
    """A video seen as frames by index: ``count``, ``fps``, ``width``, ``height``, ``frame(i)``."""

    count: int = 0
    fps: float = 24.0
    width: int = 0
    height: int = 0
    label: str = ""

    def frame(self, index: int) -> np.ndarray | Any | None:  # pragma: no cover - interface
        """Frame ``index`` as an ``[H, W, 3]`` uint8 array (or a QImage), None when out of range."""
        raise NotImplementedError

    def close(self) -> None:
        """Release open files."""


class CachedFrames(FrameSource):
    """A stream the core recorded in its disk cache (``.npy`` chunks + manifest), memory-mapped."""

    def __init__(self, streams: StreamCache, key: str) -> None:
        manifest = streams.manifest(key)
        if manifest is None:
            raise FileNotFoundError(f"stream {key} is not in the cache (run the graph again)")
        self.streams = streams
        self.key = key
        self.count = int(manifest.get("frame_count") or 0)
        self.fps = float(manifest.get("fps") or 24.0)
        self.width = int(manifest.get("width") or 0)
        self.height = int(manifest.get("height") or 0)
        self.label = "stream cache"
        # the chunk file last read, memory-mapped: scrubbing within a chunk re-reads nothing
        self._open: tuple[Path, Any] | None = None

    def frame(self, index: int) -> np.ndarray | None:
        import numpy as np

        found = self.streams.chunk_path(self.key, index)
        if found is None:
            return None
        path, row = found
        if self._open is None or self._open[0] != path:
            try:
                self._open = (path, np.load(path, mmap_mode="r", allow_pickle=False))
            except OSError:
                # The cache evicted it meanwhile: fall back to the core's own reader.
                return self.streams.read_frame(self.key, index)
        pixels = self._open[1]
        if row >= pixels.shape[0]:
            return None
        return np.array(pixels[row])

    def close(self) -> None:
        self._open = None


class VideoFrames(FrameSource):
    """A video file read with PyAV: seeks to the nearest keyframe, decodes forward to the frame."""

    def __init__(self, path: str | Path) -> None:
        import av

        self.path = Path(path)
        self.container = av.open(str(path))
        if not self.container.streams.video:
            self.container.close()
            raise ValueError(f"{path} has no video track")
        self.stream = self.container.streams.video[0]
        rate = self.stream.average_rate or self.stream.guessed_rate or 24
        self.fps = float(rate)
        self.width = int(self.stream.codec_context.width)
        self.height = int(self.stream.codec_context.height)
        self.count = int(self.stream.frames or 0)
        if not self.count:
            seconds = 0.0
            if self.stream.duration is not None:
                seconds = float(self.stream.duration * self.stream.time_base)
            elif self.container.duration is not None:
                seconds = self.container.duration / 1_000_000
            self.count = max(1, round(seconds * self.fps))
        self.label = self.path.name
        self._start = self.stream.start_time or 0
        self._frames: Any = None
        self._next = -1

    def _index_of(self, frame: Any) -> int:
        if frame.pts is None:
            return self._next
        return round(float((frame.pts - self._start) * self.stream.time_base) * self.fps)

    def frame(self, index: int) -> np.ndarray | None:
        if not 0 <= index < self.count:
            return None
        if self._frames is None or index < self._next or index > self._next + 12:
            # Far away (or backwards): seek to the keyframe before it, then decode forward.
            target = self._start + int(index / self.fps / float(self.stream.time_base))
            self.container.seek(target, stream=self.stream, backward=True, any_frame=False)
            self._frames = self.container.decode(self.stream)
            self._next = -1
        last = None
        for decoded in self._frames:
            found = self._index_of(decoded)
            self._next = found + 1
            last = decoded
            if found >= index:
                break
        if last is None:
            self._frames = None
            return None
        return last.to_ndarray(format="rgb24")

    def close(self) -> None:
        self._frames = None
        self.container.close()
