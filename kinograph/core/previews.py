"""Previews of port types: how the editor's viewer shows a value of a plugin's own type.

A plugin returns :class:`Preview` records from the ``kinograph_previews`` hook. ``render(value)``
runs where the run runs (the editor's run process, or the CLI's), imports no Qt, and returns
plain data the viewer draws:

- an RGB image: a uint8 array ``[H, W, 3]`` (e.g. a palette as swatches), or
- named curves: ``{"red": [y0, y1, ...], "green": [...]}`` (e.g. a tone curve), each a list of
  numbers plotted over its index.

:func:`render_preview` calls the right render for a type (or the nearest parent type that has
one), checks what it returned and hands back a small dict of plain values (see its docstring).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinograph.core.ports import PortTypeRegistry

#: Curves: at most this many, each of at most this many points (longer ones are thinned).
MAX_CURVES = 16
MAX_CURVE_POINTS = 4096
#: An image preview's longer side may be at most this many pixels.
MAX_IMAGE_SIDE = 4096


@dataclass(frozen=True)
class Preview:
    """How the viewer shows values of port type ``type``.

    ``render(value)`` returns an RGB image (uint8 ``[H, W, 3]``) or named curves
    (``{name: [numbers]}``). It must not import Qt: it runs in the run's process.
    """

    type: str
    render: Callable[[Any], Any] = field(compare=False)
    description: str = ""

    def problems(self) -> list[str]:
        """What is wrong with this declaration (empty when fine)."""
        problems = []
        if not isinstance(self.type, str) or not self.type:
            problems.append(f"preview {self!r}: type must be a port type name")
        if not callable(self.render):
            problems.append(f"preview of {self.type!r}: render must be a function of the value")
        return problems


def render_preview(
    ports: PortTypeRegistry, previews: Mapping[str, Preview], type_name: str, value: Any
) -> dict[str, Any] | None:
    """What the viewer should draw for ``value`` of port type ``type_name``; None: no preview.

    Returns plain data: ``{"kind": "image", "type": name, "image": uint8 array [H, W, 3]}``,
    ``{"kind": "curves", "type": name, "curves": {name: [float, ...]}}`` or, when the plugin's
    render fails or returns something else, ``{"kind": "error", "type": name, "message": text}``
    (the viewer shows the message; the run is not affected).
    """
    preview = preview_for(ports, previews, type_name)
    if preview is None:
        return None
    try:
        result = preview.render(value)
    except Exception as exc:  # the plugin's bug: say so where the preview would be
        return _error(type_name, f"the preview of {preview.type} failed: {type(exc).__name__}: {exc}")
    image = _as_image(result)
    if isinstance(image, str):
        return _error(type_name, f"the preview of {preview.type} returned {image}")
    if image is not None:
        return {"kind": "image", "type": type_name, "image": image}
    curves = _as_curves(result)
    if isinstance(curves, str):
        return _error(type_name, f"the preview of {preview.type} {curves}")
    if curves is not None:
        return {"kind": "curves", "type": type_name, "curves": curves}
    return _error(
        type_name,
        f"the preview of {preview.type} returned {type(result).__name__}; "
        "return an RGB image (uint8 [H, W, 3]) or named curves ({name: [numbers]})",
    )


def preview_for(ports: PortTypeRegistry, previews: Mapping[str, Preview], type_name: str) -> Preview | None:
    """The preview of a type, or of its nearest parent type that has one."""
    seen: set[str] = set()
    current: str | None = type_name
    while current is not None and current not in seen:
        if current in previews:
            return previews[current]
        seen.add(current)
        port_type = ports.get(current)
        current = port_type.parent if port_type else None
    return None


def _error(type_name: str, message: str) -> dict[str, Any]:
    return {"kind": "error", "type": type_name, "message": message}


def _as_image(result: Any) -> Any:
    """The RGB image array, a sentence for an array that is no RGB image, or None (no array)."""
    shape = getattr(result, "shape", None)
    if shape is None or not hasattr(result, "dtype"):
        return None
    import numpy as np

    array = np.asarray(result)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        return f"a {array.dtype} array {tuple(array.shape)}; an image must be uint8 [H, W, 3]"
    if min(array.shape[:2]) < 1 or max(array.shape[:2]) > MAX_IMAGE_SIDE:
        return f"an image {tuple(array.shape)}; an image must be 1 to {MAX_IMAGE_SIDE} pixels a side"
    return np.ascontiguousarray(array)


def _as_curves(result: Any) -> dict[str, list[float]] | str | None:
    """``{name: [float]}``, a sentence saying what is wrong, or None when ``result`` is no mapping."""
    if not isinstance(result, Mapping):
        return None
    if not result or len(result) > MAX_CURVES:
        return f"returned {len(result)} curves; return 1 to {MAX_CURVES}"
    curves = {}
    for name, values in result.items():
        if isinstance(values, str | bytes):
            return f"curve {name!r} is not a list of numbers"
        try:
            points = [float(v) for v in values]
        except (TypeError, ValueError):
            return f"curve {name!r} is not a list of numbers"
        if not points or not all(math.isfinite(v) for v in points):
            return f"curve {name!r} must hold finite numbers"
        if len(points) > MAX_CURVE_POINTS:
            step = math.ceil(len(points) / MAX_CURVE_POINTS)
            points = points[::step]
        curves[str(name)] = points
    return curves
