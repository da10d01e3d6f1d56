"""Names of evaluated videos: short labels for tables, and safe parts of output file names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path


def file_stem(name: str) -> str:
    """A display name as a safe file-name part (``clips/a b.mp4`` -> ``clips_a-b``)."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem.replace(" ", "-")).strip("._") or "video"


def display_names(paths: Sequence[str]) -> list[str]:
    """Names for the table: file names, with the folder where two names match, then numbered."""
    names = [Path(p).name for p in paths]
    clashing = {n for n in names if names.count(n) > 1}
    names = [f"{Path(p).parent.name}/{n}" if n in clashing else n for p, n in zip(paths, names, strict=True)]
    clashing = {n for n in names if names.count(n) > 1}
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in clashing:
            seen[name] = seen.get(name, 0) + 1
            names[i] = f"{name} #{seen[name]}"
    return names
