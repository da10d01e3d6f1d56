"""Contact sheets: a grid of frames, each captioned with its time, for people to judge.

Frames are picked while a video streams by (:class:`EvenSampler`), evenly spaced over the whole
video, in bounded memory, even when its length is not known in advance.

A sheet is ``cols * tile_w`` wide and ``rows * tile_h`` tall. A tile is the frame scaled to the
tile width (every frame of a video has one size, so every tile too) above a caption strip of
:data:`CAPTION` pixels; the picture part of a tile is exactly the scaled frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: caption strip under each picture, in pixels
CAPTION = 20
#: default width of a tile's picture, in pixels
TILE_WIDTH = 240
BACKGROUND = (24, 26, 29)
CAPTION_COLOR = (230, 230, 230)


class EvenSampler:
    """Picks ``limit`` evenly spaced items of a stream, in bounded memory.

    With the stream's length (``total``) known, exactly the evenly spaced indices are kept.
    Without it, every ``stride``-th item is kept and the stride doubles whenever more than
    ``4 * limit`` are held, so the kept items stay evenly spaced over all seen so far.
    ``offer(index, make)`` calls ``make()`` only for an index it keeps (so thumbnails are made
    for kept frames only); :meth:`picked` returns at most ``limit`` evenly spread items.
    """

    def __init__(self, limit: int, total: int | None = None) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.stride = 1
        self.items: list[tuple[int, Any]] = []
        self.wanted: set[int] | None = None
        if total is not None and total > 0:
            self.wanted = set(spread(total, limit))

    def wants(self, index: int) -> bool:
        if self.wanted is not None:
            return index in self.wanted
        return index % self.stride == 0

    def offer(self, index: int, make: Any) -> None:
        if not self.wants(index):
            return
        self.items.append((index, make()))
        if self.wanted is None and len(self.items) > 4 * self.limit:
            self.stride *= 2
            self.items = [(i, item) for i, item in self.items if i % self.stride == 0]

    def picked(self) -> list[tuple[int, Any]]:
        """At most ``limit`` of the kept items, evenly spread, first and last included."""
        return [self.items[i] for i in spread(len(self.items), self.limit)]


def spread(count: int, limit: int) -> list[int]:
    """At most ``limit`` evenly spaced indices of ``range(count)``, first and last included."""
    if count <= limit:
        return list(range(count))
    if limit == 1:
        return [0]
    return sorted({round(k * (count - 1) / (limit - 1)) for k in range(limit)})


def thumbnail(frame: np.ndarray, width: int = TILE_WIDTH) -> np.ndarray:
    """``frame`` scaled to ``width`` pixels wide (area filter when shrinking), aspect kept."""
    import cv2
    import numpy as np

    h, w = frame.shape[:2]
    height = max(1, round(h * width / w))
    if (w, h) == (width, height):
        return np.ascontiguousarray(frame)
    shrinking = width < w
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


@dataclass(frozen=True)
class Tile:
    """One picture of a sheet (already at tile size) and its caption."""

    picture: np.ndarray
    caption: str


def time_label(index: int, fps: float) -> str:
    """``"frame 12  0.50 s"``."""
    return f"frame {index}  {index / fps:.2f} s" if fps > 0 else f"frame {index}"


def grid(tiles: Sequence[Tile], cols: int) -> list[list[Tile | None]]:
    """``tiles`` in rows of ``cols`` (the last row padded with None)."""
    rows: list[list[Tile | None]] = []
    for start in range(0, len(tiles), cols):
        row: list[Tile | None] = list(tiles[start : start + cols])
        row += [None] * (cols - len(row))
        rows.append(row)
    return rows


def contact_sheet(rows: Sequence[Sequence[Tile | None]]) -> np.ndarray:
    """Draw rows of tiles (all one picture size) into one RGB ``uint8`` image.

    An empty slot (None) stays background. The sheet is ``cols * w`` by ``rows * (h + CAPTION)``.
    """
    import numpy as np

    pictures = [t.picture for row in rows for t in row if t is not None]
    if not pictures:
        raise ValueError("a contact sheet needs at least one frame")
    h, w = pictures[0].shape[:2]
    if any(p.shape[:2] != (h, w) for p in pictures):
        raise ValueError("every tile of a contact sheet must have one size")
    cols = max(len(row) for row in rows)
    tile_h = h + CAPTION
    sheet = np.empty((len(rows) * tile_h, cols * w, 3), np.uint8)
    sheet[:] = BACKGROUND
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            if tile is None:
                continue
            top, left = r * tile_h, c * w
            sheet[top : top + h, left : left + w] = tile.picture
            draw_caption(sheet, tile.caption, left, top + h, w)
    return sheet


def draw_caption(sheet: np.ndarray, text: str, left: int, top: int, width: int) -> None:
    """Write ``text`` into the caption strip at (left, top), cut to fit the tile's width."""
    import cv2

    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1
    shown = text
    while len(shown) > 1 and cv2.getTextSize(shown, font, scale, thickness)[0][0] > width - 8:
        shown = shown[:-1]
    if shown != text:
        shown = shown[:-1] + "~"  # cut to fit (Hershey fonts have no ellipsis)
    origin = (left + 4, top + CAPTION - 6)
    cv2.putText(sheet, shown, origin, font, scale, CAPTION_COLOR, thickness, cv2.LINE_AA)


def save_png(image: np.ndarray, path: Any) -> None:
    """Write an RGB image as PNG atomically (nothing at ``path`` unless complete)."""
    from pathlib import Path

    import cv2

    from kinograph.api import atomic_output

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"cannot encode {target.name} as PNG")
    with atomic_output(target) as temp:
        temp.write_bytes(data.tobytes())
