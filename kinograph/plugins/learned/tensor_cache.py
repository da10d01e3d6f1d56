"""A disk cache of tensors for training: safetensors files checked on every read.

Same rules as the stream cache: an entry is trusted only if its key, tensor names, dtypes,
shapes and content hash all match what was written; anything else (a truncated file, a flipped
bit, another version's layout) is a miss, and the caller recomputes and overwrites it. Files are
written atomically, never pickled. A cache that cannot be written (full disk, read-only folder)
is switched off with one warning; training goes on without it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def tensors_sha256(tensors: dict[str, np.ndarray]) -> str:
    """A hash of names, dtypes, shapes and bytes of ``tensors`` (in name order)."""
    import numpy as np

    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.data)
    return digest.hexdigest()


class TensorCache:
    """Entries ``root/<kind>/<key[:2]>/<key>.safetensors``: numpy tensors plus JSON metadata."""

    def __init__(self, root: Path | None, warn: Callable[[str], None] | None = None) -> None:
        self.root = root
        self.warn = warn
        self.hits = 0
        self.misses = 0

    def path(self, kind: str, key: str) -> Path:
        assert self.root is not None
        return self.root / kind / key[:2] / f"{key}.safetensors"

    def get(self, kind: str, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The tensors and metadata stored under ``key``, or None (missing or in doubt)."""
        if self.root is None:
            return None
        path = self.path(kind, key)
        found = self._read(path, key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def _read(self, path: Path, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        if not path.is_file():
            return None
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="numpy") as f:
                header = f.metadata() or {}
                tensors = {name: f.get_tensor(name) for name in f.keys()}
            meta = json.loads(header.get("meta", "{}"))
            shapes = json.loads(header.get("shapes", "{}"))
        except Exception:
            return None  # unreadable: recompute
        if header.get("key") != key or set(shapes) != set(tensors):
            return None
        for name, array in tensors.items():
            dtype, shape = shapes[name]
            if array.dtype.str != dtype or list(array.shape) != shape:
                return None
        if tensors_sha256(tensors) != header.get("sha256"):
            return None
        return tensors, meta

    def put(self, kind: str, key: str, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Store an entry (atomically); on an OS error, warn once and stop caching."""
        if self.root is None:
            return
        import numpy as np
        from safetensors.numpy import save_file

        from kinograph.api import atomic_output

        arrays = {name: np.ascontiguousarray(a) for name, a in tensors.items()}
        header = {
            "key": key,
            "sha256": tensors_sha256(arrays),
            "shapes": json.dumps({n: [a.dtype.str, list(a.shape)] for n, a in arrays.items()}),
            "meta": json.dumps(meta),
        }
        path = self.path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(path) as temp:
                save_file(arrays, str(temp), metadata=header)
        except Exception as exc:  # a full or read-only disk must not stop training
            if self.warn is not None:
                self.warn(f"the training cache at {self.root} cannot be written ({exc}); going on without it")
            self.root = None
