"""The stream cache's files and the checks they pass before anything reads them.

An entry is a folder ``<key>/`` holding ``manifest.json`` and chunk files ``000000.npy``,
``000001.npy``, ... The manifest names every chunk with its first frame, frame count, byte size
and a content hash, and carries a checksum of itself. A chunk file is a plain ``.npy`` file
(the editor memory-maps it) whose header must be byte for byte the one the cache writes for
``uint8 [frames, height, width, 3]``: nothing in a cache file is parsed beyond that, so a
crafted file can neither unpickle nor reshape anything. Chunk names must be the ones the cache
generates, so a manifest cannot point outside its folder.

Hashing costs about 1 ms per MB (BLAKE2b); a file that passed is remembered by its stat
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
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    import numpy as np

MANIFEST = "manifest.json"
FORMAT = "kinograph.stream-cache"
VERSION = 2
HASH = "blake2b-128"
#: A manifest lists one line per chunk; even a 4 GB cache of tiny chunks stays far below this.
MANIFEST_LIMIT = 64 * 1024**2
#: An entry's folder name: content key and port (``[A-Za-z0-9_-]``), never a path.
KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,199}")
_BLOCK = 1024**2
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
    hash: str = Field(pattern=r"^[0-9a-f]{32}$")


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

_verified: OrderedDict[tuple[str, str], tuple[int, ...]] = OrderedDict()
_verified_lock = threading.Lock()
_VERIFIED_LIMIT = 8192


def _signature(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _known_good(path: Path, digest: str, info: os.stat_result) -> bool:
    with _verified_lock:
        return _verified.get((str(path), digest)) == _signature(info)


def forget_checked() -> None:
    """Forget which files passed, so the next read checks everything (benchmarks measure that)."""
    with _verified_lock:
        _verified.clear()
        _manifests.clear()


def _remember(path: Path, digest: str, info: os.stat_result) -> None:
    with _verified_lock:
        _verified[(str(path), digest)] = _signature(info)
        _verified.move_to_end((str(path), digest))
        while len(_verified) > _VERIFIED_LIMIT:
            _verified.popitem(last=False)


# -- chunks --


def write_chunk(folder: Path, index: int, start: int, pixels: np.ndarray) -> ChunkRecord:
    """Write one C-contiguous ``uint8 [n, H, W, 3]`` chunk; OSError when the disk refuses."""
    frames, height, width, _ = pixels.shape
    header = chunk_header(frames, height, width)
    digest = new_hash()
    digest.update(header)
    data = memoryview(pixels).cast("B")
    digest.update(data)
    name = chunk_name(index)
    with open(folder / name, "xb") as file:
        file.write(header)
        file.write(data)
    return ChunkRecord(name=name, start=start, frames=frames, bytes=len(header) + len(data), hash=digest.hexdigest())


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


def _check_header(chunk: ChunkRecord, head: bytes | memoryview, manifest: Manifest) -> None:
    if bytes(head) != chunk_header(chunk.frames, manifest.height, manifest.width):
        raise CacheDamaged(
            f"chunk {chunk.name} does not hold {chunk.frames} uint8 frames of "
            f"{manifest.width}x{manifest.height} RGB"
        )


def _read_exactly(file: Any, view: memoryview) -> None:
    done = 0
    while done < len(view):
        count = file.readinto(view[done:])
        if not count:
            raise CacheDamaged("a chunk file shrank while it was read")
        done += count


def check_chunk(folder: Path, chunk: ChunkRecord, manifest: Manifest) -> None:
    """Raise :class:`CacheDamaged` unless the chunk file is exactly what the manifest lists."""
    file, info = _open_chunk(folder, chunk)
    with file:
        if _known_good(folder / chunk.name, chunk.hash, info):
            return
        header_size = len(chunk_header(chunk.frames, manifest.height, manifest.width))
        block = bytearray(min(_BLOCK, chunk.bytes))
        view = memoryview(block)
        digest = new_hash()
        left = chunk.bytes
        first = True
        while left:
            size = min(left, len(block))
            _read_exactly(file, view[:size])
            if first:
                _check_header(chunk, view[:header_size], manifest)
                first = False
            digest.update(view[:size])
            left -= size
        if file.read(1):
            raise CacheDamaged(f"chunk {chunk.name} grew while it was read")
    if digest.hexdigest() != chunk.hash:
        raise CacheDamaged(f"chunk {chunk.name} does not match its hash (its content changed)")
    _remember(folder / chunk.name, chunk.hash, info)


def read_chunk(folder: Path, chunk: ChunkRecord, manifest: Manifest) -> np.ndarray:
    """The chunk's frames ``uint8 [n, H, W, 3]`` (writable), checked; :class:`CacheDamaged` otherwise."""
    import numpy as np

    file, info = _open_chunk(folder, chunk)
    buffer = bytearray(chunk.bytes)
    view = memoryview(buffer)
    with file:
        _read_exactly(file, view)
        if file.read(1):
            raise CacheDamaged(f"chunk {chunk.name} grew while it was read")
    header_size = len(chunk_header(chunk.frames, manifest.height, manifest.width))
    _check_header(chunk, view[:header_size], manifest)
    # The bytes used are the bytes hashed: a file that passed earlier is trusted again only
    # while its stat signature is unchanged.
    if not _known_good(folder / chunk.name, chunk.hash, info):
        digest = new_hash()
        digest.update(view)
        if digest.hexdigest() != chunk.hash:
            raise CacheDamaged(f"chunk {chunk.name} does not match its hash (its content changed)")
        _remember(folder / chunk.name, chunk.hash, info)
    pixels = np.frombuffer(buffer, dtype=np.uint8, offset=header_size)
    return pixels.reshape(chunk.frames, manifest.height, manifest.width, 3)


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
    """Write ``manifest.json`` into an entry folder (OSError when the disk refuses)."""
    text = manifest_text(manifest)
    if len(text) > MANIFEST_LIMIT:
        raise OSError(f"the manifest would be {len(text)} bytes, over the {MANIFEST_LIMIT}-byte limit")
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
