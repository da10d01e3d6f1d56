"""Port types: named data types with subtypes and converters, and the link check.

A link from an output of type A to an input of type B is allowed when A is B, when A is a
subtype of B (an ``Features`` output feeds a ``Tensor`` input), when a converter from A to B
is registered, or when B is ``Any``. Refusals are sentences a user can read; the editor shows
them exactly as written here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PortType:
    """A named data type flowing through ports.

    ``parent`` makes this type a subtype: it is accepted wherever the parent is. ``color`` is the
    hex colour the editor draws ports and links of this type with.
    """

    name: str
    description: str = ""
    parent: str | None = None
    color: str = "#9e9e9e"
    streaming: bool = False


@dataclass(frozen=True)
class Converter:
    """Turns a value of ``source`` type into one of ``target`` type when a link needs it."""

    source: str
    target: str
    convert: Callable[[Any], Any] = field(compare=False)
    description: str = ""


ANY = PortType("Any", "Accepts any value.", color="#bdbdbd")
IMAGE = PortType("Image", "One RGB image: uint8 array [H, W, 3].", color="#4fc3f7")
IMAGES = PortType("Images", "A batch of RGB images: uint8 array [N, H, W, 3].", color="#0288d1")
FRAME_STREAM = PortType(
    "FrameStream",
    "Frames streamed in chunks (uint8 [n, H, W, 3], RGB) with fps and size.",
    color="#ab47bc",
    streaming=True,
)
TENSOR = PortType("Tensor", "A numeric array (numpy or torch).", color="#ffb74d")
FEATURES = PortType(
    "Features", "Image features from a feature extractor.", parent="Tensor", color="#ff8a65"
)
MOTION = PortType("Motion", "Per-step camera motion (pan, zoom, rotation, flow).", color="#81c784")
TEXT = PortType("Text", "A string.", color="#e0e0e0")
PATH = PortType("Path", "A file or folder path.", parent="Text", color="#fff176")
NUMBER = PortType("Number", "A number (int or float).", color="#90a4ae")
BOOL = PortType("Bool", "True or false.", color="#a1887f")
AUDIO = PortType("Audio", "An audio source (a media file with an audio track).", color="#f06292")

BUILTIN_TYPES = [ANY, IMAGE, IMAGES, FRAME_STREAM, TENSOR, FEATURES, MOTION, TEXT, PATH, NUMBER, BOOL, AUDIO]


def _image_to_images(image: Any) -> Any:
    return image[None, ...]


def _images_to_stream(images: Any) -> Any:
    from kinograph.core.frames import FrameStream

    return FrameStream.from_array(images, fps=24.0)


BUILTIN_CONVERTERS = [
    Converter("Image", "Images", _image_to_images, "an image becomes a batch of one"),
    Converter("Images", "FrameStream", _images_to_stream, "a batch becomes a stream at 24 fps"),
    # A typed path is a path: a Text node can drive a file param shown as a port.
    Converter("Text", "Path", str, "text names a file or folder"),
]


def describe_converter(converter: Converter) -> str:
    """``Palette -> Txt (palette_to_text)``: the converter named as its author wrote it."""
    function = getattr(converter.convert, "__qualname__", "") or type(converter.convert).__name__
    return f"{converter.source} -> {converter.target} ({function})"


class PortTypeRegistry:
    """All known port types and converters; plugins add theirs through hooks."""

    def __init__(self) -> None:
        self._types: dict[str, PortType] = {}
        self._converters: dict[tuple[str, str], Converter] = {}
        for port_type in BUILTIN_TYPES:
            self.add_type(port_type)
        for converter in BUILTIN_CONVERTERS:
            self.add_converter(converter)

    def add_type(self, port_type: PortType) -> None:
        existing = self._types.get(port_type.name)
        if existing is not None and existing != port_type:
            raise ValueError(f"port type {port_type.name!r} is already defined differently")
        if port_type.parent is not None and port_type.parent not in self._types:
            raise ValueError(
                f"port type {port_type.name!r} names unknown parent type {port_type.parent!r}"
                + self.did_you_mean(port_type.parent)
            )
        self._types[port_type.name] = port_type

    def add_converter(self, converter: Converter) -> None:
        for name in (converter.source, converter.target):
            if name not in self._types:
                raise ValueError(
                    f"converter {describe_converter(converter)} names unknown port type {name!r}"
                    + self.did_you_mean(name)
                )
        self._converters[(converter.source, converter.target)] = converter

    def converters(self) -> list[Converter]:
        """Every converter, in registration order."""
        return list(self._converters.values())

    def closest(self, name: str) -> str | None:
        """The known type name a misspelt ``name`` most likely means (``Framestream`` -> ``FrameStream``)."""
        import difflib

        by_lower = {known.lower(): known for known in self._types}
        if name.lower() in by_lower:  # only the case differs
            return by_lower[name.lower()]
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.7)
        return by_lower[close[0]] if close else None

    def did_you_mean(self, name: str) -> str:
        """`` (did you mean 'X'?)`` for a misspelt type name, or empty text."""
        close = self.closest(name)
        return f" (did you mean {close!r}?)" if close else ""

    def get(self, name: str) -> PortType | None:
        return self._types.get(name)

    def names(self) -> list[str]:
        return sorted(self._types)

    def is_subtype(self, name: str, ancestor: str) -> bool:
        """True when ``name`` is ``ancestor`` or inherits from it."""
        seen: set[str] = set()
        current: str | None = name
        while current is not None and current not in seen:
            if current == ancestor:
                return True
            seen.add(current)
            port_type = self._types.get(current)
            current = port_type.parent if port_type else None
        return False

    def converter(self, source: str, target: str) -> Converter | None:
        return self._converters.get((source, target))

    def compatible(self, source: str, target: str) -> bool:
        """Whether an output of type ``source`` may feed an input of type ``target``."""
        return (
            target == ANY.name
            or self.is_subtype(source, target)
            or self.converter(source, target) is not None
        )

    def convert(self, value: Any, source: str, target: str) -> Any:
        """Convert ``value`` for a link from ``source`` to ``target`` (identity if no converter)."""
        if target == ANY.name or self.is_subtype(source, target):
            return value
        converter = self.converter(source, target)
        return converter.convert(value) if converter else value

    def refusal(self, source_port: str, source: str, target_port: str, target: str) -> str | None:
        """The sentence explaining why a link is refused, or None when it is allowed.

        Ports are named as ``node.port``; e.g.
        ``features.vector (Features) cannot feed write.frames (FrameStream)``.
        """
        if self.compatible(source, target):
            return None
        return f"{source_port} ({source}) cannot feed {target_port} ({target})"
