"""Caches: node values in memory (LRU in a RAM budget) and streams on disk (chunks, lossless).

Keys are content keys: node type + version + params + fingerprint + upstream keys, so a cached
value is reused only when everything that made it is the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kinograph.core.frames import FrameChunk, FrameStream

DEFAULT_RAM_BUDGET = 2 * 1024**3
DEFAULT_DISK_BUDGET = 4 * 1024**3


def size_of(value: Any) -> int:
    """Rough bytes held by a value (arrays and tensors by their buffers)."""
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    if hasattr(value, "element_size") and hasattr(value, "nelement"):
        return int(value.element_size() * value.nelement())
    if isinstance(value, (list, tuple)):
        return sum(size_of(v) for v in value) + sys.getsizeof(value)
    if isinstance(value, dict):
        return sum(size_of(v) for v in value.values()) + sys.getsizeof(value)
    if hasattr(value, "__dict__"):
        return sum(size_of(v) for v in vars(value).values()) + sys.getsizeof(value)
    return sys.getsizeof(value)


class ValueCache:
    """Least-recently-used values within a RAM budget."""

    def __init__(self, budget: int = DEFAULT_RAM_BUDGET) -> None:
        self.budget = budget
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key][0]

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def put(self, key: str, value: Any) -> None:
        size = size_of(value)
        if size > self.budget:
            return
        with self._lock:
            if key in self._items:
                self._used -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._used += size
            while self._used > self.budget and self._items:
                _, (_, old_size) = self._items.popitem(last=False)
                self._used -= old_size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._used = 0

    @property
    def used(self) -> int:
        return self._used


class StreamCache:
    """Streams stored on disk as raw ``.npy`` chunks plus a manifest, within a disk budget.

    An entry counts only once its manifest is written, i.e. after the whole stream passed; a
    stream cut short (failure, cancel) leaves no entry.
    """

    def __init__(self, root: Path, budget: int = DEFAULT_DISK_BUDGET) -> None:
        self.root = Path(root)
        self.budget = budget

    def _dir(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        return (self._dir(key) / "manifest.json").is_file()

    def manifest(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self._dir(key) / "manifest.json").read_text())
        except (OSError, ValueError):
            return None

    def replay(self, key: str) -> FrameStream | None:
        """The cached stream, read back one chunk at a time, or None when absent."""
        manifest = self.manifest(key)
        if manifest is None:
            return None
        folder = self._dir(key)
        with contextlib.suppress(OSError):
            os.utime(folder / "manifest.json")

        def chunks() -> Iterator[FrameChunk]:
            import numpy as np

            for name, start in manifest["chunks"]:
                pixels = np.load(folder / name, allow_pickle=False)
                yield FrameChunk(int(start), pixels)

        return FrameStream(
            chunks,
            fps=manifest["fps"],
            width=manifest["width"],
            height=manifest["height"],
            frame_count=manifest["frame_count"],
            audio=manifest.get("audio"),
            meta={**manifest.get("meta", {}), "cached": True},
        )

    def read_frame(self, key: str, index: int) -> Any:
        """One frame by index (the editor's scrubber), or None when not cached."""
        found = self.chunk_path(key, index)
        if found is None:
            return None
        import numpy as np

        path, row = found
        pixels = np.load(path, mmap_mode="r", allow_pickle=False)
        if row >= pixels.shape[0]:
            return None
        return np.array(pixels[row])

    def chunk_path(self, key: str, index: int) -> tuple[Path, int] | None:
        """The file holding frame ``index`` and the frame's row in it (for viewers that map files)."""
        manifest = self.manifest(key)
        if manifest is None or not 0 <= index < manifest["frame_count"]:
            return None
        import bisect

        chunks = manifest["chunks"]
        position = bisect.bisect_right([start for _, start in chunks], index) - 1
        name, start = chunks[position]
        return self._dir(key) / name, index - start

    def record(self, key: str, stream: FrameStream) -> FrameStream:
        """Pass ``stream`` through, writing each chunk; the entry is kept only when complete."""
        estimate = (stream.frame_count or 0) * stream.width * stream.height * 3
        if estimate > self.budget:
            return stream
        folder = self._dir(key)
        partial = folder.with_name(f"{key}.partial-{os.getpid()}-{threading.get_ident()}")

        def chunks() -> Iterator[FrameChunk]:
            import numpy as np

            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True, exist_ok=True)
            written: list[tuple[str, int]] = []
            frames = 0
            size = 0
            complete = False
            recording = True
            try:
                for chunk in stream:
                    if recording:
                        size += chunk.pixels.nbytes
                        if size > self.budget:
                            # Longer than the budget (length was unknown): stop recording.
                            recording = False
                            shutil.rmtree(partial, ignore_errors=True)
                        else:
                            name = f"{len(written):06d}.npy"
                            np.save(partial / name, chunk.pixels, allow_pickle=False)
                            written.append((name, chunk.start))
                    frames += chunk.count
                    yield chunk
                complete = recording
            finally:
                if complete:
                    manifest = {
                        "fps": stream.fps,
                        "width": stream.width,
                        "height": stream.height,
                        "frame_count": frames,
                        "audio": stream.audio,
                        "meta": {k: v for k, v in stream.meta.items() if isinstance(v, (str, int, float, bool))},
                        "chunks": written,
                    }
                    (partial / "manifest.json").write_text(json.dumps(manifest))
                    shutil.rmtree(folder, ignore_errors=True)
                    with contextlib.suppress(OSError):
                        os.replace(partial, folder)
                    self.evict()
                shutil.rmtree(partial, ignore_errors=True)

        return stream.derive(chunks)

    def evict(self) -> None:
        """Remove the least recently used entries until the cache fits its budget."""
        if not self.root.is_dir():
            return
        entries = []
        total = 0
        for folder in self.root.iterdir():
            manifest = folder / "manifest.json"
            if not manifest.is_file():
                continue
            size = sum(f.stat().st_size for f in folder.iterdir())
            entries.append((manifest.stat().st_mtime, size, folder))
            total += size
        for _, size, folder in sorted(entries):
            if total <= self.budget:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= size

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

