"""The stream cache's files and the checks they pass before anything reads them.

An entry is a folder ``<key>/`` holding ``manifest.json`` and chunk files ``000000.npy``,
``000001.npy``, ... The manifest names every chunk with its first frame, frame count, byte size
and a content hash of each frame, and carries a checksum of itself. A chunk file is a plain ``.npy`` file
(the editor memory-maps it) whose header must be byte for byte the one the cache writes for
``uint8 [frames, height, width, 3]``: nothing in a cache file is parsed beyond that, so a
crafted file can neither unpickle nor reshape anything. Chunk names must be the ones the cache
generates, so a manifest cannot point outside its folder.

Hashing costs about 1 ms per MB (BLAKE2b). Frames are hashed one by one, so a viewer showing
one frame checks only that frame. A file (or frame) that passed is remembered by its stat
signature (device, inode, size, mtime, ctime), so re-reading it in the same process does not
hash it again while it is unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    import numpy as np

MANIFEST = "manifest.json"
FORMAT = "kinograph.stream-cache"
VERSION = 2
HASH = "blake2b-128"
#: A manifest lists about 36 bytes per frame: room for well over a million frames.
MANIFEST_LIMIT = 64 * 1024**2
#: An entry's folder name: content key and port (``[A-Za-z0-9_-]``), never a path.
KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,199}")
# A FIFO or device put where a chunk belongs must not block the open; no symlink is followed.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class CacheDamaged(Exception):
    """A cache entry failed a check; the message says which file and why."""


def chunk_name(index: int) -> str:
    """The only name the cache gives the ``index``-th chunk of an entry."""
    return f"{index:06d}.npy"


def new_hash() -> Any:
    return hashlib.blake2b(digest_size=16)


@lru_cache(maxsize=64)
def chunk_header(frames: int, height: int, width: int) -> bytes:
    """The ``.npy`` header of a ``uint8 [frames, height, width, 3]`` chunk, as numpy writes it."""
    import numpy as np

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "|u1", "fortran_order": False, "shape": (frames, height, width, 3)}
    )
    return buffer.getvalue()


def chunk_bytes(frames: int, height: int, width: int) -> int:
    return len(chunk_header(frames, height, width)) + frames * height * width * 3


class ChunkRecord(BaseModel):
    """One chunk file as the manifest lists it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field(max_length=32)
    start: int = Field(ge=0)
    frames: int = Field(ge=1)
    bytes: int = Field(ge=1)
    hashes: list[Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]]

    @model_validator(mode="after")
    def _one_hash_per_frame(self) -> ChunkRecord:
        if len(self.hashes) != self.frames:
            raise ValueError(f"chunk {self.name} lists {len(self.hashes)} hashes for {self.frames} frames")
        return self


class Manifest(BaseModel):
    """What an entry holds: the stream's properties and its chunks, in order."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    format: Literal["kinograph.stream-cache"]
    version: Literal[2]
    key: str = Field(max_length=200)
    fps: float = Field(gt=0, allow_inf_nan=False)
    width: int = Field(ge=1, le=1 << 16)
    height: int = Field(ge=1, le=1 << 16)
    frame_count: int = Field(ge=0)
    audio: str | None = Field(default=None, max_length=4096)
    meta: dict[str, str | int | float | bool] = Field(default_factory=dict)
    hash: Literal["blake2b-128"]
    chunks: list[ChunkRecord]

    @model_validator(mode="after")
    def _chunks_fit_together(self) -> Manifest:
        # Names, order and sizes follow from the stream's size: anything else is damage.
        frame = 0
        for index, chunk in enumerate(self.chunks):
            if chunk.name != chunk_name(index):
                raise ValueError(f"chunk {index} is named {chunk.name!r}, expected {chunk_name(index)!r}")
            if chunk.start != frame:
                raise ValueError(f"chunk {chunk.name} starts at frame {chunk.start}, expected {frame}")
            if chunk.bytes != chunk_bytes(chunk.frames, self.height, self.width):
                raise ValueError(f"chunk {chunk.name} is listed with {chunk.bytes} bytes, which does not fit its frames")
            frame += chunk.frames
        if frame != self.frame_count:
            raise ValueError(f"chunks hold {frame} frames but frame_count says {self.frame_count}")
        return self


# -- the memory of files that passed --

#: (path, row or WHOLE) -> (stat signature, expected hashes) of what passed
_verified: OrderedDict[tuple[str, int], tuple[tuple[int, ...], tuple[str, ...]]] = OrderedDict()
_verified_lock = threading.Lock()
_VERIFIED_LIMIT = 8192
WHOLE = -1


def _signature(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _known_good(path: Path, row: int, expected: tuple[str, ...], info: os.stat_result) -> bool:
    with _verified_lock:
        return _verified.get((str(path), row)) == (_signature(info), expected)


def _remember(path: Path, row: int, expected: tuple[str, ...], info: os.stat_result) -> None:
    with _verified_lock:
        _verified[(str(path), row)] = (_signature(info), expected)
        _verified.move_to_end((str(path), row))
        while len(_verified) > _VERIFIED_LIMIT:
            _verified.popitem(last=False)


def forget_checked() -> None:
    """Forget which files passed, so the next read checks everything (benchmarks measure that)."""
    with _verified_lock:
        _verified.clear()
        _manifests.clear()


# -- chunks --


def _digest(data: memoryview) -> str:
    digest = new_hash()
    digest.update(data)
    return digest.hexdigest()


def write_chunk(folder: Path, index: int, start: int, pixels: np.ndarray) -> ChunkRecord:
    """Write one C-contiguous ``uint8 [n, H, W, 3]`` chunk; OSError when the disk refuses."""
    frames, height, width, _ = pixels.shape
    header = chunk_header(frames, height, width)
    # One hash per frame: a viewer that shows one frame checks just that frame.
    hashes = [_digest(memoryview(frame).cast("B")) for frame in pixels]
    data = memoryview(pixels).cast("B")
    name = chunk_name(index)
    with open(folder / name, "xb") as file:
        file.write(header)
        file.write(data)
    return ChunkRecord(name=name, start=start, frames=frames, bytes=len(header) + len(data), hashes=hashes)


def _open_chunk(folder: Path, chunk: ChunkRecord) -> tuple[Any, os.stat_result]:
    try:
        fd = os.open(folder / chunk.name, _OPEN_FLAGS)
    except FileNotFoundError:
        raise CacheDamaged(f"chunk {chunk.name} is missing") from None
    except OSError as exc:
        raise CacheDamaged(f"chunk {chunk.name} cannot be read ({exc.strerror or exc})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise CacheDamaged(f"chunk {chunk.name} is not a regular file")
    if info.st_size != chunk.bytes:
        os.close(fd)
        raise CacheDamaged(f"chunk {chunk.name} is {info.st_size} bytes, expected {chunk.bytes}")
    return open(fd, "rb", buffering=0), info


def _read_exactly(file: Any, view: memoryview) -> None:
    done = 0
    while done < len(view):
        count = file.readinto(view[done:])
        if not count:
            raise CacheDamaged("a chunk file shrank while it was read")
        done += count


def _check_header(file: Any, chunk: ChunkRecord, manifest: Manifest) -> int:
    """Read and compare the chunk's header; its size (where the frames begin)."""
    expected = chunk_header(chunk.frames, manifest.height, manifest.width)
    head = bytearray(len(expected))
    _read_exactly(file, memoryview(head))
    if head != expected:
        raise CacheDamaged(
            f"chunk {chunk.name} does not hold {chunk.frames} uint8 frames of "
            f"{manifest.width}x{manifest.height} RGB"
        )
    return len(expected)


def _check_frame_hash(chunk: ChunkRecord, row: int, data: memoryview) -> None:
    if _digest(data) != chunk.hashes[row]:
        raise CacheDamaged(f"chunk {chunk.name} does not match its hash at frame {chunk.start + row} (its content changed)")


def check_chunk(folder: Path, chunk: ChunkRecord, manifest: Manifest) -> None:
    """Raise :class:`CacheDamaged` unless the chunk file is exactly what the manifest lists."""
    path = folder / chunk.name
    expected = tuple(chunk.hashes)
    file, info = _open_chunk(folder, chunk)
    with file:
        if _known_good(path, WHOLE, expected, info):
            return
        _check_header(file, chunk, manifest)
        frame = memoryview(bytearray(manifest.height * manifest.width * 3))
        for row in range(chunk.frames):
            _read_exactly(file, frame)
            _check_frame_hash(chunk, row, frame)
        if file.read(1):
            raise CacheDamaged(f"chunk {chunk.name} grew while it was read")
    _remember(path, WHOLE, expected, info)


def check_frame(folder: Path, chunk: ChunkRecord, manifest: Manifest, row: int) -> None:
    """Like :func:`check_chunk` for one frame of the chunk (and its header): what a viewer needs."""
    path = folder / chunk.name
    expected = (chunk.hashes[row],)
    file, info = _open_chunk(folder, chunk)
    with file:
        if _known_good(path, WHOLE, tuple(chunk.hashes), info) or _known_good(path, row, expected, info):
            return
        header_size = _check_header(file, chunk, manifest)
        frame = memoryview(bytearray(manifest.height * manifest.width * 3))
        file.seek(header_size + row * len(frame))
        _read_exactly(file, frame)
        _check_frame_hash(chunk, row, frame)
    _remember(path, row, expected, info)


def read_chunk(folder: Path, chunk: ChunkRecord, manifest: Manifest) -> np.ndarray:
    """The chunk's frames ``uint8 [n, H, W, 3]`` (writable), checked; :class:`CacheDamaged` otherwise."""
    import numpy as np

    path = folder / chunk.name
    expected = tuple(chunk.hashes)
    file, info = _open_chunk(folder, chunk)
    with file:
        header_size = _check_header(file, chunk, manifest)
        buffer = bytearray(chunk.bytes - header_size)
        view = memoryview(buffer)
        _read_exactly(file, view)
        if file.read(1):
            raise CacheDamaged(f"chunk {chunk.name} grew while it was read")
    # The bytes used are the bytes hashed: a file that passed earlier is trusted again only
    # while its stat signature is unchanged.
    if not _known_good(path, WHOLE, expected, info):
        size = manifest.height * manifest.width * 3
        for row in range(chunk.frames):
            _check_frame_hash(chunk, row, view[row * size : (row + 1) * size])
        _remember(path, WHOLE, expected, info)
    return np.frombuffer(buffer, dtype=np.uint8).reshape(chunk.frames, manifest.height, manifest.width, 3)


# -- manifests --


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def manifest_checksum(body: dict[str, Any]) -> str:
    """The checksum a manifest file carries of the rest of its content.

    It catches corruption and hand edits; whoever can write the cache folder can also
    recompute it, which is why every other check still runs.
    """
    digest = new_hash()
    digest.update(_canonical(body))
    return digest.hexdigest()


def manifest_text(manifest: Manifest) -> bytes:
    """The manifest file's content: the manifest plus a checksum of it."""
    body = manifest.model_dump(mode="json")
    return json.dumps({**body, "checksum": manifest_checksum(body)}, allow_nan=False).encode()


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` into an entry folder.

    OSError when the disk refuses; ValueError when the manifest would pass the size limit.
    """
    text = manifest_text(manifest)
    if len(text) > MANIFEST_LIMIT:
        raise ValueError(f"the manifest would be {len(text)} bytes, over the {MANIFEST_LIMIT}-byte limit")
    (folder / MANIFEST).write_bytes(text)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def read_manifest(folder: Path, key: str) -> tuple[Manifest, os.stat_result] | None:
    """The entry's manifest, checked, and its stat; None when there is no manifest.

    Raises :class:`CacheDamaged` for anything that is not a manifest this cache wrote for
    ``key``.
    """
    try:
        where = os.lstat(folder)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISDIR(where.st_mode):
        raise CacheDamaged("the entry is a link or a file, not a folder of the cache")
    path = folder / MANIFEST
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise CacheDamaged(f"{MANIFEST} cannot be read ({exc.strerror or exc})") from None
    with open(fd, "rb", buffering=0) as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CacheDamaged(f"{MANIFEST} is not a regular file")
        if info.st_size > MANIFEST_LIMIT:
            raise CacheDamaged(f"{MANIFEST} is {info.st_size} bytes, over the {MANIFEST_LIMIT}-byte limit")
        cached = _parsed_manifest(str(path), _signature(info))
        if cached is not None:
            return cached, info
        text = file.read(MANIFEST_LIMIT + 1)
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise CacheDamaged(f"{MANIFEST} is not valid JSON") from None
    if not isinstance(data, dict):
        raise CacheDamaged(f"{MANIFEST} holds {type(data).__name__}, not a manifest")
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise CacheDamaged(f"{MANIFEST} is not a version-{VERSION} stream cache manifest (an older kinograph wrote it?)")
    checksum = data.pop("checksum", None)
    try:
        expected = manifest_checksum(data)
    except (ValueError, TypeError, RecursionError):
        raise CacheDamaged(f"{MANIFEST} is not valid JSON") from None
    if checksum != expected:
        raise CacheDamaged(f"{MANIFEST} does not match its checksum (it was edited or cut short)")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise CacheDamaged(f"{MANIFEST}: {_first_problem(exc)}") from None
    if manifest.key != key:
        raise CacheDamaged(f"{MANIFEST} belongs to another stream ({manifest.key[:60]!r})")
    _remember_manifest(str(path), _signature(info), manifest)
    return manifest, info


# Parsed manifests by stat signature: the editor's scrubber asks for one on every frame.
_manifests: OrderedDict[str, tuple[tuple[int, ...], Manifest]] = OrderedDict()
_MANIFESTS_LIMIT = 64


def _parsed_manifest(path: str, signature: tuple[int, ...]) -> Manifest | None:
    with _verified_lock:
        found = _manifests.get(path)
        if found is None or found[0] != signature:
            return None
        _manifests.move_to_end(path)
        return found[1]


def _remember_manifest(path: str, signature: tuple[int, ...], manifest: Manifest) -> None:
    with _verified_lock:
        _manifests[path] = (signature, manifest)
        _manifests.move_to_end(path)
        while len(_manifests) > _MANIFESTS_LIMIT:
            _manifests.popitem(last=False)
