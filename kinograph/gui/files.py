"""Graph files for the editor: opening graphs and kinograph outputs, and the recent-files list.

Saving goes through :meth:`Graph.save` (temporary file + rename). Output files (MP4, PNG, ...)
made by kinograph embed the graph that made them; opening one reopens that graph, unsaved.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from kinograph.api import GraphError, Problem
from kinograph.host import Graph, Registry

MEDIA_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".m4v", ".png", ".jpg", ".jpeg", ".webp"}
OPEN_FILTER = "Graphs and kinograph outputs (*.json *.mp4 *.mov *.mkv *.png);;Graphs (*.json);;All files (*)"
SAVE_FILTER = "Graphs (*.json)"
RECENT_LIMIT = 10
EMBED_MODULE = "kinograph.plugins.media.embed"
#: Reader functions the media pack may provide: path -> graph JSON text (or None when absent).
EMBED_READERS = ("read_embedded_graph", "read_graph", "extract_graph", "read_graph_json")


def is_media(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MEDIA_SUFFIXES


def read_embedded_graph(path: str | Path) -> str:
    """The graph JSON text embedded in an output file; GraphError says why when there is none."""
    path = Path(path)
    if not path.is_file():
        raise GraphError(Problem("", f"no such file: {path}"))
    try:
        embed = importlib.import_module(EMBED_MODULE)
    except ImportError:
        raise GraphError(Problem("", f"cannot read graphs embedded in {path.suffix} files: "
                                 "the media node pack is not installed")) from None
    reader = next((getattr(embed, name) for name in EMBED_READERS if callable(getattr(embed, name, None))), None)
    if reader is None:
        raise GraphError(Problem("", f"{EMBED_MODULE} offers no graph reader ({', '.join(EMBED_READERS)})"))
    try:
        text = reader(str(path))
    except GraphError:
        raise
    except Exception as exc:  # a corrupt or foreign file: say so, never a traceback
        raise GraphError(Problem("", f"cannot read {path.name}: {exc}")) from None
    if not text:
        raise GraphError(Problem("", f"{path.name} holds no kinograph graph (was it made by kinograph?)"))
    if isinstance(text, dict):
        text = json.dumps(text)
    return text if isinstance(text, str) else bytes(text).decode("utf-8")


def open_graph(path: str | Path, registry: Registry) -> Graph:
    """Load a graph file, or the graph embedded in a kinograph output file."""
    path = Path(path)
    if is_media(path):
        text = read_embedded_graph(path)
        return Graph.from_json(text, registry, base_dir=path.resolve().parent, source=str(path))
    return Graph.load(path, registry)


class RecentFiles:
    """The most recently opened or saved graphs, newest first, kept in the settings folder."""

    def __init__(self, store: Path | None = None) -> None:
        if store is None:
            from kinograph.host import settings_dir

            store = settings_dir() / "recent-files.json"
        self.store = store

    def paths(self) -> list[str]:
        try:
            data = json.loads(self.store.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [p for p in data if isinstance(p, str)] if isinstance(data, list) else []

    def add(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        paths = [text] + [p for p in self.paths() if p != text]
        try:
            self.store.parent.mkdir(parents=True, exist_ok=True)
            self.store.write_text(json.dumps(paths[:RECENT_LIMIT], indent=1), encoding="utf-8")
        except OSError:
            pass  # a read-only settings folder must not stop the user from working
