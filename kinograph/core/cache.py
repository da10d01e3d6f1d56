"""Caches: node values in memory (LRU in a RAM budget) and streams on disk (chunks, lossless).

Keys are content keys: node type + version + params + fingerprint + upstream keys, so a cached
value is reused only when everything that made it is the same.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import logging
import math
import numbers
import os
import re
import shutil
import sys
import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kinograph.core.cache_checks import (
    FORMAT,
    HASH,
    KEY,
    MANIFEST,
    VERSION,
    CacheDamaged,
    ChunkRecord,
    Manifest,
    check_chunk,
    check_frame,
    read_chunk,
    read_manifest,
    write_chunk,
    write_manifest,
)
from kinograph.core.errors import KinographError
from kinograph.core.frames import FrameChunk, FrameStream

DEFAULT_RAM_BUDGET = 2 * 1024**3
DEFAULT_DISK_BUDGET = 4 * 1024**3
#: what the stream cache leaves free on its disk, so caching never starves the outputs
DEFAULT_KEEP_FREE = 256 * 1024**2

log = logging.getLogger(__name__)
#: receives one warning message (the scheduler passes its node warning)
Warn = Callable[[str], None]


def size_of(value: Any) -> int:
    """Rough bytes held by a value (arrays and tensors by their buffers)."""
    if isinstance(value, (int, float, str, bytes)) or value is None:
        return sys.getsizeof(value)
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

    @property
    def empty(self) -> bool:
        return not self._items

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
    """Streams stored on disk as ``.npy`` chunks plus a manifest, within a disk budget.

    An entry counts only once its manifest is written, i.e. after the whole stream passed; a
    stream cut short (failure, cancel) leaves no entry. Everything read is checked first (see
    :mod:`kinograph.core.cache_checks`): an entry that fails is dropped with a warning and its
    frames are computed again. A cache that cannot be written (full disk, unwritable folder)
    only means a stream is not cached, with a warning; it never fails a run.

    Methods that can warn take ``warn``, a callable given one message (the scheduler passes
    its node warning); without one, warnings go to this module's logger.
    """

    def __init__(self, root: Path, budget: int = DEFAULT_DISK_BUDGET, keep_free: int = DEFAULT_KEEP_FREE) -> None:
        self.root = Path(root)
        self.budget = budget
        #: bytes left free on the cache's disk for outputs and everything else
        self.keep_free = keep_free
        self._pins: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _dir(self, key: str) -> Path | None:
        return self.root / key if KEY.fullmatch(key) else None

    def has(self, key: str) -> bool:
        """Whether an entry for ``key`` seems present (:meth:`replay` checks it)."""
        folder = self._dir(key)
        return folder is not None and (folder / MANIFEST).is_file()

    def manifest(self, key: str, warn: Warn | None = None) -> dict[str, Any] | None:
        """The entry's manifest (fps, width, height, frame_count, chunks...), checked, or None."""
        found = self._manifest(key, warn)
        return found[1].model_dump() if found else None

    def replay(self, key: str, warn: Warn | None = None) -> FrameStream | None:
        """The cached stream, read back one chunk at a time, or None when absent or damaged.

        Every chunk is checked (size, header, hash) before the stream is handed out, so a
        damaged entry is dropped while its node can still run; each chunk is checked again as
        it is read.
        """
        found = self._manifest(key, warn)
        if found is None:
            return None
        folder, manifest = found
        try:
            for chunk in manifest.chunks:
                check_chunk(folder, chunk, manifest)
        except (CacheDamaged, OSError) as exc:
            self._drop(folder, exc, warn)
            return None
        with contextlib.suppress(OSError):
            os.utime(folder / MANIFEST)  # most recently used: evicted last
        with self._lock:
            self._pins[key] += 1

        def chunks() -> Iterator[FrameChunk]:
            for chunk in manifest.chunks:
                try:
                    pixels = read_chunk(folder, chunk, manifest)
                except (CacheDamaged, OSError) as exc:
                    # Checked a moment ago: only something outside this run can have changed it.
                    _remove(folder)
                    raise KinographError(
                        f"the stream cache entry {key} changed while this run read it ({_reason(exc)}); "
                        "run again to compute the frames"
                    ) from None
                yield FrameChunk(chunk.start, pixels)

        stream = FrameStream(
            chunks,
            fps=manifest.fps,
            width=manifest.width,
            height=manifest.height,
            frame_count=manifest.frame_count,
            audio=manifest.audio,
            meta={**manifest.meta, "cached": True},
        )
        # Pinned while the stream lives: this process never evicts what a run is reading.
        weakref.finalize(stream, self._unpin, key)
        return stream

    def read_frame(self, key: str, index: int, warn: Warn | None = None) -> Any:
        """One frame by index (the editor's scrubber), or None when not cached."""
        found = self.chunk_path(key, index, warn)
        if found is None:
            return None
        import numpy as np

        path, row = found
        try:
            # chunk_path checked the header and this frame: mapping the file parses only that header.
            pixels = np.load(path, mmap_mode="r", allow_pickle=False)
            return np.array(pixels[row])
        except (OSError, ValueError, IndexError):
            return None

    def chunk_path(self, key: str, index: int, warn: Warn | None = None) -> tuple[Path, int] | None:
        """The file holding frame ``index`` and the frame's row in it (for viewers that map files).

        The header and that frame are checked (the scrubber asks for every frame it shows).
        """
        found = self._manifest(key, warn)
        if found is None:
            return None
        folder, manifest = found
        if not 0 <= index < manifest.frame_count:
            return None
        position = bisect.bisect_right([chunk.start for chunk in manifest.chunks], index) - 1
        chunk = manifest.chunks[position]
        row = index - chunk.start
        try:
            check_frame(folder, chunk, manifest, row)
        except (CacheDamaged, OSError) as exc:
            self._drop(folder, exc, warn)
            return None
        return folder / chunk.name, row

    def record(self, key: str, stream: FrameStream, warn: Warn | None = None) -> FrameStream:
        """Pass ``stream`` through, writing each chunk; the entry is kept only when complete."""
        estimate = (stream.frame_count or 0) * stream.width * stream.height * 3
        if estimate > self.budget or self._dir(key) is None:
            return stream

        def chunks() -> Iterator[FrameChunk]:
            writer = _EntryWriter(self, key, stream, warn or _log_warning)
            complete = False
            try:
                writer.start(estimate)
                for chunk in stream:
                    writer.add(chunk)
                    yield chunk
                complete = True
            finally:
                writer.close(complete)

        return stream.derive(chunks)

    def evict(self) -> None:
        """Remove the least recently used entries until the cache, partial ones included, fits its budget."""
        entries, total = self._survey(sweep=True)
        with self._lock:
            pinned = {key for key, count in self._pins.items() if count > 0}
        for _, size, key in sorted(entries):
            if total <= self.budget:
                break
            if key not in pinned:
                _remove(self.root / key)
                total -= size

    def used(self) -> int:
        """Bytes the cache holds on disk, partly written entries included."""
        return self._survey(sweep=False)[1]

    def sweep_partials(self) -> None:
        """Remove the partly written entries of processes that are gone (a ``kill -9`` leaves them)."""
        self._survey(sweep=True)

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- internals --

    def _manifest(self, key: str, warn: Warn | None) -> tuple[Path, Manifest] | None:
        folder = self._dir(key)
        if folder is None:
            return None
        try:
            found = read_manifest(folder, key)
        except (CacheDamaged, OSError) as exc:
            self._drop(folder, exc, warn)
            return None
        return None if found is None else (folder, found[0])

    def _drop(self, folder: Path, exc: BaseException, warn: Warn | None) -> None:
        _remove(folder)
        (warn or _log_warning)(
            f"cached frames not used: {_reason(exc)}; the entry was removed and the frames are computed again"
        )

    def _unpin(self, key: str) -> None:
        with self._lock:
            self._pins[key] -= 1
            if self._pins[key] <= 0:
                del self._pins[key]

    def _survey(self, sweep: bool) -> tuple[list[tuple[float, int, str]], int]:
        """Complete entries as (last used, bytes, key), and the bytes of all entries and partials."""
        try:
            items = list(os.scandir(self.root))
        except OSError:
            return [], 0
        entries: list[tuple[float, int, str]] = []
        total = 0
        for item in items:
            if not item.is_dir(follow_symlinks=False):
                continue
            partial = PARTIAL.fullmatch(item.name)
            if partial is not None:
                if sweep and _partial_is_stale(item, int(partial["pid"])):
                    _remove(Path(item.path))
                else:
                    total += _folder_size(item.path)
                continue
            if not KEY.fullmatch(item.name):
                continue
            size = _folder_size(item.path)
            try:
                last_used = os.stat(os.path.join(item.path, MANIFEST)).st_mtime
            except OSError:
                last_used = 0.0  # no manifest: never complete, goes first
            entries.append((last_used, size, item.name))
            total += size
        return entries, total


class _EntryWriter:
    """Writes one stream into ``KEY.partial-PID-TID`` and publishes it as ``KEY`` once complete.

    Never raises for the disk's sake: the first write that fails ends the recording with one
    warning, removes what was written, and the stream goes on.
    """

    def __init__(self, cache: StreamCache, key: str, stream: FrameStream, warn: Warn) -> None:
        self.cache = cache
        self.key = key
        self.stream = stream
        self.warn = warn
        self.name = f"{key}.partial-{os.getpid()}-{threading.get_ident()}"
        self.partial = cache.root / self.name
        self.chunks: list[ChunkRecord] = []
        self.frames = 0
        self.size = 0
        self.recording = False
        self.claimed = False
        self.warned = False

    def start(self, estimate: int) -> None:
        with _live_lock:
            if self.name in _live:
                return  # this very stream is already being written by this thread
            _live.add(self.name)
            self.claimed = True
        try:
            self.cache.root.mkdir(parents=True, exist_ok=True)
            self.cache.sweep_partials()
            if not self._room_for(estimate):
                return
            _remove(self.partial)
            self.partial.mkdir()
        except OSError as exc:
            self.give_up(exc)
            return
        self.recording = True

    def add(self, chunk: FrameChunk) -> None:
        if not self.recording:
            return
        import numpy as np

        pixels = chunk.pixels
        stream = self.stream
        if (
            chunk.start != self.frames
            or not isinstance(pixels, np.ndarray)
            or pixels.dtype != np.uint8
            or pixels.shape[1:] != (stream.height, stream.width, 3)
            or not pixels.flags["C_CONTIGUOUS"]
        ):
            self.stop()  # not a stream the cache can index by frame: the stream's own checks speak
            return
        self.size += pixels.nbytes
        if self.size > self.cache.budget:
            self.stop()  # longer than the budget (its length was unknown)
            return
        try:
            if self._room_for(pixels.nbytes):
                self.chunks.append(write_chunk(self.partial, len(self.chunks), chunk.start, pixels))
                self.frames += chunk.count
        except OSError as exc:
            self.give_up(exc)

    def close(self, complete: bool) -> None:
        try:
            if complete and self.recording:
                self.publish()
        finally:
            if self.claimed:
                _remove(self.partial)
                with _live_lock:
                    _live.discard(self.name)

    def publish(self) -> None:
        stream = self.stream
        try:
            manifest = Manifest(
                format=FORMAT,
                version=VERSION,
                key=self.key,
                fps=float(stream.fps),
                width=int(stream.width),
                height=int(stream.height),
                frame_count=self.frames,
                audio=None if stream.audio is None else str(stream.audio),
                meta=_plain_meta(stream.meta),
                hash=HASH,
                chunks=self.chunks,
            )
        except (ValidationError, TypeError, ValueError) as exc:
            self.stop(f"frames not cached: the stream's properties cannot be stored ({exc})")
            return
        folder = self.cache.root / self.key
        try:
            write_manifest(self.partial, manifest)
        except ValueError:
            self.stop("frames not cached: the stream has too many frames for one cache entry")
            return
        except OSError as exc:
            self.give_up(exc)
            return
        try:
            _remove(folder)
            os.replace(self.partial, folder)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):  # else another run published it first
                self.give_up(exc)
            return
        with contextlib.suppress(OSError):
            self.cache.evict()

    def _room_for(self, size: int) -> bool:
        """Whether ``size`` more bytes leave the disk its reserve; warns (once) when not."""
        free = shutil.disk_usage(self.cache.root).free
        if free - size >= self.cache.keep_free:
            return True
        self.stop(
            f"frames not cached: the disk holding the stream cache ({self.cache.root}) has only "
            f"{free / 1024**2:.0f} MB free and the cache leaves {self.cache.keep_free / 1024**2:.0f} MB "
            "for outputs; the run goes on without caching"
        )
        return False

    def give_up(self, exc: OSError) -> None:
        self.stop(
            f"frames not cached: cannot write to the stream cache in {self.cache.root} ({_reason(exc)}); "
            "the run goes on without caching (free some space there or make it writable)"
        )

    def stop(self, message: str | None = None) -> None:
        if message is not None and not self.warned:
            self.warned = True
            self.warn(message)
        self.recording = False
        _remove(self.partial)
        self.chunks.clear()


# -- files of dead processes --

#: ``KEY.partial-PID-TID``: an entry being written by thread TID of process PID
PARTIAL = re.compile(r"(?P<key>[A-Za-z0-9_][A-Za-z0-9_-]*)\.partial-(?P<pid>\d{1,12})-(?P<tid>\d{1,24})")
# partial folders this process is writing (by name); any other with our pid is a dead namesake's
_live: set[str] = set()
_live_lock = threading.Lock()


def _partial_is_stale(item: os.DirEntry[str], pid: int) -> bool:
    """Whether the process that wrote a partial entry is gone (never true for a live writer)."""
    if pid == os.getpid():
        with _live_lock:
            return item.name not in _live
    if os.name == "nt":
        return False  # os.kill(pid, 0) does not merely probe on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OverflowError:
        return True  # no process can have that id
    except OSError:
        return False  # alive, another user's
    # A live process with that id: after a kill -9 the id may have been given to a newer one,
    # which cannot be writing a folder last written before it started.
    started = _process_start(pid)
    try:
        written = item.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    return started is not None and started > written + 2.0


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), where /proc tells; else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _plain_meta(meta: dict[str, Any]) -> dict[str, str | int | float | bool]:
    """The stream's simple properties (numpy scalars as Python ones); anything else is left out."""
    kept: dict[str, str | int | float | bool] = {}
    for name, value in meta.items():
        if type(value).__name__ in ("bool", "bool_"):  # numpy's bool is no int
            kept[str(name)] = bool(value)
        elif isinstance(value, str):
            kept[str(name)] = str(value)
        elif isinstance(value, numbers.Integral):
            kept[str(name)] = int(value)
        elif isinstance(value, numbers.Real) and math.isfinite(value):
            kept[str(name)] = float(value)
    return kept


def _folder_size(path: str) -> int:
    total = 0
    try:
        for item in os.scandir(path):
            with contextlib.suppress(OSError):
                if item.is_file(follow_symlinks=False):
                    total += item.stat(follow_symlinks=False).st_size
    except OSError:
        pass
    return total


def _remove(path: Path) -> None:
    """Remove a cache folder; a link or file in its place goes too (never what a link points to)."""
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
    except OSError:
        pass


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _log_warning(message: str) -> None:
    log.warning("%s", message)
