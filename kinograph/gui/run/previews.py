"""What the editor shows of a node's output, made small enough to cross from the run process.

The run process (see :mod:`kinograph.gui.run.worker_main`) never sends the values themselves:
a photo becomes a PNG at most :data:`VIEW_MAX_SIDE` pixels wide, a feature tensor its shape,
stats and a few hundred values, a motion its curves, an evaluation report its table. Streams
never cross at all: the viewer reads their frames from the disk stream cache.

Two halves, in one Qt-free module: :func:`wire_preview` and :func:`thumbnail_png` run in the
run process and return builtins only (tuples, lists, dicts, bytes, numbers, text), the only
values a message can hold (:mod:`kinograph.gui.run.wire`), so the editor never imports torch,
numpy or a plugin's class to read one;
:func:`from_wire` turns them into the small typed records below on the editor's side.
"""

from __future__ import annotations

import io
import marshal
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: An image output is sent at most this many pixels on its longer side (downscaled beyond).
VIEW_MAX_SIDE = 2048
#: An Images batch: at most this many images, each at most this many pixels on its longer side.
BATCH_MAX_IMAGES = 64
BATCH_MAX_SIDE = 1024
#: The thumbnail under a node on the canvas.
THUMB_MAX_W = 128
THUMB_MAX_H = 72
#: A value bigger than this (its bytes on the wire) is summarised as text.
VALUE_LIMIT = 256 * 1024
#: Values of a feature vector kept for its plot, and points kept per metrics curve.
PLOT_VALUES = 256
CURVE_POINTS = 4096
TEXT_LIMIT = 20_000
#: Marks a preview on the wire (a plain tuple: a message holds builtins only).
WIRE = "kinograph.preview"


# -- what the editor holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImagePreview:
    """An image output: the PNG to show and the image's own size (the PNG may be smaller)."""

    width: int
    height: int
    png: bytes


@dataclass(frozen=True)
class ImagesPreview:
    """A batch of images: the first :data:`BATCH_MAX_IMAGES` as PNGs, and the batch's size."""

    count: int
    width: int
    height: int
    pngs: tuple[bytes, ...]


@dataclass(frozen=True)
class ArrayPreview:
    """A tensor or array (features): shape, dtype, stats, and values of its first item for a plot."""

    shape: tuple[int, ...]
    dtype: str
    stats: tuple[float, float, float, float] | None  # min, max, mean, std of the finite values
    values: tuple[float, ...]
    label: str


@dataclass(frozen=True)
class MotionPreview:
    """A camera motion: one curve per parameter over the steps."""

    pan_x: tuple[float, ...]
    pan_y: tuple[float, ...]
    zoom: tuple[float, ...]
    rotation: tuple[float, ...]
    source: str = ""
    flow_shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class MetricsPreview:
    """An evaluation report: its table and its per-frame curves (``{group: {series: values}}``)."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    curves: Mapping[str, Mapping[str, list[float]]]

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The header and rows of cell texts, as the report's own ``table()`` gives them."""
        return list(self.header), [list(row) for row in self.rows]


@dataclass(frozen=True)
class TextPreview:
    """A value the editor cannot show as such: its type and a (shortened) text of it."""

    type_name: str
    text: str


KINDS: dict[str, type] = {
    "image": ImagePreview,
    "images": ImagesPreview,
    "array": ArrayPreview,
    "motion": MotionPreview,
    "metrics": MetricsPreview,
    "text": TextPreview,
}


def from_wire(value: Any) -> Any:
    """The editor's record of what :func:`wire_preview` sent (plain values stay as they are)."""
    if isinstance(value, tuple) and len(value) == 3 and value[0] == WIRE and value[1] in KINDS:
        return KINDS[value[1]](**value[2])
    return value


# -- made in the run process -------------------------------------------------------------------


def _wire(kind: str, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    return (WIRE, kind, fields)


def wire_preview(value: Any) -> Any:
    """A small, builtins-only stand-in for ``value`` that the viewer can show."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= TEXT_LIMIT else _text(value)
    if hasattr(value, "__fspath__"):
        return str(value)
    if _is_metrics(value):
        return _metrics(value)
    if all(hasattr(value, name) for name in ("pan_x", "pan_y", "zoom", "rotation")):
        return _motion(value)
    pixels = image_pixels(value)
    if pixels is not None:
        return _images(value) if len(value.shape) == 4 and value.shape[0] > 1 else _image(pixels)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return _array(value)
    if _plain(value):
        try:
            if len(marshal.dumps(value)) <= VALUE_LIMIT:
                return value
        except Exception:
            pass
    return _text(value)


def wire_plugin_preview(shown: Mapping[str, Any]) -> Any:
    """What a plugin's ``kinograph_previews`` render gave (see ``Registry.preview``), for the wire.

    An image goes as an image; named curves as a table-less report (one panel per curve); a
    render that failed as its message.
    """
    type_name = str(shown.get("type", ""))
    if shown.get("kind") == "image":
        return _image(shown["image"])
    if shown.get("kind") == "curves":
        curves = {str(name): _floats(values, CURVE_POINTS) for name, values in shown["curves"].items()}
        return _wire("metrics", title=type_name, header=(), rows=(), curves={type_name: curves})
    return _wire("text", type_name=type_name, text=str(shown.get("message", "no preview")))


def _plain(value: Any, depth: int = 0) -> bool:
    """Builtins all the way down (what a message can hold; see kinograph.gui.run.wire)."""
    if depth > 8:
        return False
    if value is None or type(value) in (bool, int, float, str, bytes):
        return True
    if type(value) in (list, tuple):
        return all(_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    return False


def _text(value: Any) -> tuple[str, str, dict[str, Any]]:
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception as exc:  # a repr that raises: say so rather than fail the preview
        text = f"<{type(value).__name__}: repr failed: {exc}>"
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 1] + "…"
    return _wire("text", type_name=type(value).__name__, text=text)


def _is_metrics(value: Any) -> bool:
    return callable(getattr(value, "table", None)) and isinstance(getattr(value, "curves", None), Mapping)


def _floats(values: Any, limit: int) -> list[float]:
    out = [float(v) for v in values]
    if len(out) > limit:
        step = math.ceil(len(out) / limit)
        out = out[::step]
    return out


def _metrics(value: Any) -> tuple[str, str, dict[str, Any]]:
    header, rows = value.table()
    curves = {str(group): {str(name): _floats(series, CURVE_POINTS) for name, series in dict(group_series).items()}
              for group, group_series in value.curves.items()}
    return _wire("metrics", title=str(getattr(value, "title", "")), header=tuple(str(h) for h in header),
                 rows=tuple(tuple(str(c) for c in row) for row in rows), curves=curves)


def _motion(value: Any) -> tuple[str, str, dict[str, Any]]:
    flow = getattr(value, "flow", None)
    return _wire("motion", **{name: tuple(_floats(getattr(value, name), 100_000))
                              for name in ("pan_x", "pan_y", "zoom", "rotation")},
                 source=str(getattr(value, "source", "") or ""),
                 flow_shape=tuple(int(n) for n in flow.shape) if flow is not None else None)


def image_pixels(value: Any) -> Any:
    """The ``[H, W, 3]`` uint8 picture of an Image or Images value, or None."""
    shape = getattr(value, "shape", None)
    if shape is None or str(getattr(value, "dtype", "")) != "uint8":
        return None
    if len(shape) == 4 and shape[0] > 0 and shape[-1] == 3:
        return value[0]
    if len(shape) == 3 and shape[-1] == 3:
        return value
    return None


def _image(pixels: Any) -> tuple[str, str, dict[str, Any]]:
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    return _wire("image", width=width, height=height, png=png_bytes(pixels, VIEW_MAX_SIDE, VIEW_MAX_SIDE))


def _images(batch: Any) -> tuple[str, str, dict[str, Any]]:
    count = int(batch.shape[0])
    pngs = tuple(png_bytes(batch[i], BATCH_MAX_SIDE, BATCH_MAX_SIDE) for i in range(min(count, BATCH_MAX_IMAGES)))
    return _wire("images", count=count, width=int(batch.shape[2]), height=int(batch.shape[1]), pngs=pngs)


def _array(value: Any) -> tuple[str, str, dict[str, Any]]:
    import numpy as np

    if hasattr(value, "detach"):  # a torch tensor: the run process has torch loaded already
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    stats = None
    if array.size and array.dtype.kind in "biuf":
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        if finite.size:
            stats = (float(finite.min()), float(finite.max()), float(finite.mean()), float(finite.std()))
    values: tuple[float, ...] = ()
    label = ""
    if array.size and array.dtype.kind in "biuf":
        first = array[0] if array.ndim > 1 else array
        flat = np.asarray(first, dtype=np.float64).ravel()
        values = tuple(_bins(flat, PLOT_VALUES))
        label = f"{'values of item 0' if array.ndim > 1 else 'values'} ({flat.size})"
    return _wire("array", shape=tuple(int(n) for n in array.shape), dtype=str(array.dtype), stats=stats,
                 values=values, label=label)


def _bins(values: Any, points: int) -> list[float]:
    """At most ``points`` values: means over equal bins (a long vector still shows its shape)."""
    n = len(values)
    if n <= points:
        return [float(v) for v in values]
    return [float(values[i * n // points: max(i * n // points + 1, (i + 1) * n // points)].mean())
            for i in range(points)]


def png_bytes(pixels: Any, max_w: int, max_h: int) -> bytes:
    """An ``[H, W, 3]`` uint8 picture as PNG bytes, downscaled (aspect kept) to fit ``max_w x max_h``."""
    import numpy as np
    from PIL import Image

    array = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = int(array.shape[0]), int(array.shape[1])
    image = Image.fromarray(array, "RGB")
    if width > max_w or height > max_h:
        # Every n-th pixel first (cheap), then a smooth resize of what is left: a 24-megapixel
        # photo becomes a thumbnail in a few milliseconds and looks the same at that size.
        step = max(1, min(height // (2 * max_h), width // (2 * max_w)))
        if step > 1:
            image = Image.fromarray(np.ascontiguousarray(array[::step, ::step]), "RGB")
        scale = min(max_w / width, max_h / height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def thumbnail_png(pixels: Any) -> bytes:
    """The thumbnail hung under a node: PNG bytes at most :data:`THUMB_MAX_W` x :data:`THUMB_MAX_H`."""
    return png_bytes(pixels, THUMB_MAX_W, THUMB_MAX_H)


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as builtins (event data: str enums become str, numpy numbers float/int)."""
    if value is None or type(value) in (bool, int, float, str, bytes):
        return value
    if isinstance(value, str):  # a str enum (node states, actions)
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):  # numpy.float64 is one
        return float(value)
    if depth < 8 and isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if depth < 8 and isinstance(value, list | tuple | set | frozenset):
        return [plain(v, depth + 1) for v in value]
    item = getattr(value, "item", None)  # a numpy or torch scalar
    if callable(item) and getattr(value, "shape", None) in ((), []):
        try:
            return plain(item(), depth + 1)
        except Exception:
            pass
    return str(value)
