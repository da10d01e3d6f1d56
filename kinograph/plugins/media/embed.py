"""The graph that made a file, embedded in it: MP4 metadata and PNG text chunks.

Writers embed ``ctx.graph_json``; :func:`read_embedded_graph` gets it back, so the editor can
reopen the pipeline that produced an output file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: PNG text chunk keyword holding the graph.
PNG_KEY = "kinograph"
#: Container metadata tag holding the graph (MP4 writes it as the ``comment`` atom).
VIDEO_TAG = "comment"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Suffixes of the files whose embedded graph :func:`read_embedded_graph` reads.
EMBEDDING_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".m4v", ".png", ".jpg", ".jpeg", ".webp")


def png_text(graph_json: str | None) -> Any:
    """A Pillow ``PngInfo`` carrying the graph as a compressed iTXt chunk (None without a graph)."""
    if not graph_json:
        return None
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt(PNG_KEY, graph_json, zip=True)
    return info


def video_metadata(graph_json: str | None) -> dict[str, str]:
    """Container metadata tags embedding the graph."""
    return {VIDEO_TAG: graph_json} if graph_json else {}


def is_graph_text(text: str | None) -> bool:
    """Whether ``text`` is a kinograph graph file's JSON."""
    if not text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("format") == "kinograph.graph"


def read_embedded_graph(path: str | Path) -> str | None:
    """The graph JSON embedded in an output file (PNG, MP4/MOV/MKV, JPEG comment), or None."""
    file = Path(path)
    with open(file, "rb") as handle:
        head = handle.read(8)
    if head == _PNG_MAGIC or file.suffix.lower() in (".jpg", ".jpeg", ".webp"):
        text = _from_image(file)
    else:
        text = _from_container(file)
    return text if is_graph_text(text) else None


def _from_image(file: Path) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            image.load()
            value = image.info.get(PNG_KEY) or image.info.get("comment")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return value


def _from_container(file: Path) -> str | None:
    import av

    try:
        with av.open(str(file)) as container:
            tags = dict(container.metadata)
    except (av.FFmpegError, OSError, ValueError):
        return None
    # Matroska and WebM spell their tags in capitals (COMMENT).
    return next((value for key, value in tags.items() if key.lower() == VIDEO_TAG), None)
