"""Content hashes of files and folders: what the training cache and weights identities key on.

A file's identity is its bytes, not its name or date: a renamed copy of a video hits the same
cache entries, and an edited one misses them. Hashes are remembered per process by (path,
size, mtime), so asking twice reads the file once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_KNOWN: dict[tuple[str, int, int], str] = {}
BLOCK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's content (hex), remembered per (path, size, mtime) in this process."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    known = _KNOWN.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    _KNOWN[key] = digest.hexdigest()
    return _KNOWN[key]


def files_sha256(paths: list[Path]) -> str:
    """One hash over several files' contents in order (an image sequence)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(file_sha256(path).encode())
        digest.update(os.fsencode(path.name))
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
