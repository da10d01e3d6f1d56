"""What the inspector says under a file param: a missing input at once (not only when the graph
runs), and where a relative output goes (in an unsaved graph: not next to the graph file, which
does not exist yet, but in the folder the editor started in)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

PACKAGE_SCHEME = "package://"


def resolved(value: str, base_dir: Path | None) -> str:
    """Where a run looks for ``value``: relative to the graph's folder, else the current folder
    (the run process starts in the editor's)."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (Path(base_dir) if base_dir is not None else Path.cwd()) / path
    return os.path.normpath(path)


def _relative_note(value: str, base_dir: Path | None) -> str:
    if base_dir is not None or Path(value).expanduser().is_absolute():
        return ""
    return (f" The graph is not saved yet, so relative paths start from {Path.cwd()} (where the editor "
            "started); save the graph to make them start from its folder.")


def input_note(value: str, base_dir: Path | None, *, must_exist: bool = True, folder: bool = False) -> str | None:
    """A sentence when the input a run would read is not there (None when it is, or may be missing)."""
    if not value or not must_exist or value.startswith(PACKAGE_SCHEME):
        return None
    where = resolved(value, base_dir)
    if glob.has_magic(where):
        if glob.glob(where):
            return None
        return f"No files match {value!r} (looked for {where}).{_relative_note(value, base_dir)}"
    if os.path.isdir(where) if folder else os.path.exists(where):
        return None
    kind = "folder" if folder else "file"
    return f"No such {kind}: {where}.{_relative_note(value, base_dir)}"


def output_note(value: str, base_dir: Path | None) -> str | None:
    """Where a relative output is written (None for an absolute path: it says it itself)."""
    if not value or value.startswith(PACKAGE_SCHEME) or Path(value).expanduser().is_absolute():
        return None
    where = resolved(value, base_dir)
    if base_dir is None:
        return (f"Written to {where}: the graph is not saved yet, so relative paths start from where "
                "the editor started. Save the graph first to write next to it.")
    return f"Written to {where}"
