"""Graph files for the editor: opening graphs and kinograph outputs, and the recent-files list.

Saving goes through :meth:`Graph.save` (temporary file + rename). Output files (MP4, PNG, ...)
made by kinograph embed the graph that made them; opening one reopens that graph, unsaved.
"""

from __future__ import annotations

import json
from pathlib import Path

from kinograph.host import Graph, GraphError, Problem, Registry

OPEN_FILTER = "Graphs and kinograph outputs (*.json *.mp4 *.mov *.mkv *.png);;Graphs (*.json);;All files (*)"
SAVE_FILTER = "Graphs (*.json)"
RECENT_LIMIT = 10


def is_media(path: str | Path, registry: Registry) -> bool:
    """Whether ``path`` is an output file whose embedded graph an installed plugin can read."""
    return registry.graph_reader_for(path) is not None


def read_embedded_graph(path: str | Path, registry: Registry) -> str:
    """The graph JSON text embedded in an output file; GraphError says why when there is none.

    The plugin whose nodes write such files reads it (``kinograph_graph_readers`` hook).
    """
    path = Path(path)
    if not path.is_file():
        raise GraphError(Problem("", f"no such file: {path}"))
    reader = registry.graph_reader_for(path)
    if reader is None:
        raise GraphError(Problem("", f"no installed plugin reads graphs embedded in {path.suffix} files"))
    try:
        text = reader.read(str(path))
    except GraphError:
        raise
    except Exception as exc:  # a corrupt or foreign file: say so, never a traceback
        raise GraphError(Problem("", f"cannot read {path.name}: {exc}")) from None
    if not text:
        raise GraphError(Problem("", f"{path.name} holds no kinograph graph (was it made by kinograph?)"))
    if not isinstance(text, str):
        raise GraphError(Problem("", f"plugin reader {reader.name!r} returned {type(text).__name__}, not JSON text"))
    return text


def open_graph(path: str | Path, registry: Registry) -> Graph:
    """Load a graph file, or the graph embedded in a kinograph output file."""
    path = Path(path)
    if path.suffix.lower() != ".json" and is_media(path, registry):
        text = read_embedded_graph(path, registry)
        return Graph.from_json(text, registry, base_dir=path.resolve().parent, source=str(path))
    return Graph.load(path, registry)


def examples_dir() -> Path | None:
    """The example graphs (``graphs/`` of a source checkout; ``KINOGRAPH_EXAMPLES`` overrides)."""
    import os

    folder = Path(os.environ.get("KINOGRAPH_EXAMPLES") or Path(__file__).resolve().parents[2] / "graphs")
    return folder if folder.is_dir() else None


def example_graphs() -> list[tuple[str, Path]]:
    """(name, file) of each example graph: its ``meta.name`` (else the file name), by file name."""
    folder = examples_dir()
    found = []
    for path in sorted(folder.glob("*.json")) if folder is not None else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            name = str(data.get("meta", {}).get("name") or "") if isinstance(data, dict) else ""
        except (OSError, ValueError, AttributeError):
            continue  # not a graph: not offered
        found.append((name or path.stem.replace("_", " "), path))
    return found


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
