"""Content hashes that decide whether a finished job can be skipped on the next run.

A job is the same job when the graph, its params and its input files are the same: the graph
hash leaves out what does not change a render (node positions, the graph's name), so moving a
node in the editor does not re-render 10,000 clips, while any param, link or node change does.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_hash(value: Any) -> str:
    """Hash of a JSON value in a canonical form (sorted keys, no spaces)."""
    return text_hash(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str))


def graph_hash(file_data: dict[str, Any]) -> str:
    """Hash of what a graph computes: node types, versions, params, bypass flags and links."""
    nodes = {
        node_id: {k: entry.get(k) for k in ("type", "version", "params", "bypass")}
        for node_id, entry in file_data.get("nodes", {}).items()
    }
    return json_hash({"nodes": nodes, "links": file_data.get("links", [])})


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(path: str | Path) -> dict[str, Any]:
    """Size and sha256 of a file, or of a folder's files (names and contents, in order)."""
    target = Path(path)
    if target.is_file():
        return {"path": str(target), "size": target.stat().st_size, "sha256": file_hash(target)}
    if target.is_dir():
        digest = hashlib.sha256()
        size = 0
        for root, dirs, files in os.walk(target):
            dirs.sort()
            for name in sorted(files):
                item = Path(root, name)
                size += item.stat().st_size
                digest.update(str(item.relative_to(target)).encode("utf-8", "surrogateescape") + b"\0")
                digest.update(file_hash(item).encode("ascii"))
        return {"path": str(target), "size": size, "sha256": digest.hexdigest()}
    raise FileNotFoundError(str(target))


def inputs_hash(paths: list[str]) -> str:
    """One hash over the input files of a job (a missing input hashes as missing)."""
    parts = []
    for path in paths:
        try:
            parts.append(fingerprint(path)["sha256"])
        except OSError:
            parts.append("missing")
    return json_hash(parts)


def still_complete(outputs: list[dict[str, Any]]) -> bool:
    """Whether every recorded output exists with its recorded size and hash."""
    if not outputs:
        return False
    for record in outputs:
        path = Path(record["path"])
        try:
            if path.is_file() and path.stat().st_size != record["size"]:
                return False  # cheap check first: no need to read a truncated file
            if fingerprint(path) != {"path": str(path), "size": record["size"], "sha256": record["sha256"]}:
                return False
        except OSError:
            return False
    return True
