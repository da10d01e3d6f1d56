"""The node API: what a node class declares and how the engine asks it to run."""

from __future__ import annotations

import os
import re
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from typing_extensions import TypeVar

from kinograph.core.params import NodeParams, default_problems, field_ui, path_fields

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kinograph.core.context import RunContext
    from kinograph.core.errors import Problem
    from kinograph.core.ports import PortType

#: The params model a node is generic over: ``class Blur(Node["Blur.Params"])`` lets a type
#: checker see ``self.params.radius``. Covariant, so ``list[type[Node]]`` holds every node class.
P = TypeVar("P", bound=NodeParams, default=NodeParams, covariant=True)

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
TYPE_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+$")


@dataclass(frozen=True, init=False)
class Input:
    """An input port: name, port type (a name or a :class:`PortType`), description; ``optional``
    inputs may stay unlinked. ``type`` always holds the type's name."""

    name: str
    type: str
    description: str = ""
    optional: bool = False

    def __init__(self, name: str, type: str | PortType, description: str = "", optional: bool = False) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "type", _type_name(type))
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "optional", optional)


@dataclass(frozen=True, init=False)
class Output:
    """An output port: name, port type (a name or a :class:`PortType`), description."""

    name: str
    type: str
    description: str = ""

    def __init__(self, name: str, type: str | PortType, description: str = "") -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "type", _type_name(type))
        object.__setattr__(self, "description", description)


def _type_name(port_type: Any) -> str:
    """Ports may name their type by string or by PortType; they store the name."""
    return getattr(port_type, "name", port_type)


class Node(Generic[P]):
    """Base class of every node.

    Subclasses set the class attributes below, declare ``Params`` (a :class:`NodeParams`
    subclass) and implement :meth:`run`. One instance is made per run with validated params in
    ``self.params``; input paths arrive already resolved to absolute paths.

    Name the params model in the base class, ``class Blur(Node["Blur.Params"])``, and a type
    checker knows ``self.params.radius`` (and catches ``self.params.radus``); a plain
    ``class Blur(Node)`` still works, with ``self.params`` typed as :class:`NodeParams`.
    """

    type_id: ClassVar[str] = ""
    #: Type ids this node had before a rename: graphs saved with them still load (as ``type_id``).
    legacy_type_ids: ClassVar[tuple[str, ...]] = ()
    version: ClassVar[int] = 1
    display_name: ClassVar[str] = ""
    category: ClassVar[str] = "Other"
    description: ClassVar[str] = ""
    inputs: ClassVar[list[Input]] = []
    outputs: ClassVar[list[Output]] = []
    #: Output nodes write files (or other side effects): runs start from them and never cache them.
    output_node: ClassVar[bool] = False

    class Params(NodeParams):
        pass

    params: P

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # ``class Blur(Node[BlurParams])`` with no nested ``Params``: the model named is the one.
        named = _named_params(cls)
        if "Params" not in cls.__dict__ and isinstance(named, type) and issubclass(named, NodeParams):
            cls.Params = named

    def __init__(self, params: P | None = None) -> None:
        self.params = params if params is not None else self.Params()  # type: ignore[assignment]

    # ``*args: Any, **inputs: Any`` is the typing spec's "any signature": a subclass's
    # ``run(self, ctx, frames: FrameStream)`` is a valid override. Inputs always come by name.
    def run(self, ctx: RunContext, *args: Any, **inputs: Any) -> dict[str, Any]:
        """Compute the outputs (a dict by output port name) from the inputs (passed by name)."""
        raise NotImplementedError(f"{type(self).__name__}.run is not implemented")

    # The classmethods below take ``params: P``: an override may name its own model
    # (``params: Blur.Params``). A covariant type variable in a parameter is unsound in general,
    # but these are only ever called with the node's own validated params.
    @classmethod
    def fingerprint(cls, params: P) -> str | None:  # type: ignore[misc]
        """Extra cache-key text, e.g. input files' size and mtime. Default: every input path's."""
        parts = []
        for name, widget in path_fields(type(params)).items():
            if widget == "input_path":
                value = getattr(params, name)
                if isinstance(value, str) and value:
                    parts.append(f"{name}={file_fingerprint(value)}")
        return ";".join(parts) or None

    @classmethod
    def output_info(cls, params: P, port: str) -> dict[str, Any]:  # type: ignore[misc]
        """Static facts about an output known from params alone (e.g. ``feature_size``).

        Downstream nodes see them in :meth:`check_inputs` before anything runs.
        """
        return {}

    @classmethod
    def check_inputs(cls, params: P, inputs: dict[str, dict[str, Any]]) -> Sequence[str | Problem]:  # type: ignore[misc]
        """Problems with what is linked in, found before anything runs.

        ``inputs`` maps each linked input to the upstream's :meth:`output_info` plus ``node``
        (the upstream node id) and ``type`` (its type id). Return sentences naming both nodes.
        Also called with no links, so a node can check its own params here (settings only the
        combination of params rules out); return a ``Problem("params.NAME", ...)`` to name one.
        """
        return []

    @classmethod
    def migrate_params(cls, from_version: int, params: dict[str, Any]) -> dict[str, Any]:
        """Upgrade params saved by an older ``version`` of this node (default: unchanged).

        Override to rename, split or re-default params; called once with the saved version.
        """
        return params

    # -- introspection used by the registry, the CLI and the editor --

    @classmethod
    def input(cls, name: str) -> Input | None:
        return next((p for p in cls.inputs if p.name == name), None)

    @classmethod
    def output(cls, name: str) -> Output | None:
        return next((p for p in cls.outputs if p.name == name), None)

    @classmethod
    def title(cls) -> str:
        return cls.display_name or cls.__name__

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """A JSON-ready description: ports, params schema and flags."""
        return {
            "type": cls.type_id,
            "version": cls.version,
            "display_name": cls.title(),
            "category": cls.category,
            "description": cls.description,
            "output_node": cls.output_node,
            "inputs": [
                {"name": p.name, "type": p.type, "description": p.description, "optional": p.optional}
                for p in cls.inputs
            ],
            "outputs": [
                {"name": p.name, "type": p.type, "description": p.description} for p in cls.outputs
            ],
            "params": cls.Params.model_json_schema(),
        }

    @classmethod
    def declaration_problems(cls) -> list[str]:
        """What is wrong with this class as a node declaration (empty when fine)."""
        problems = []
        if not TYPE_ID_RE.match(cls.type_id or ""):
            problems.append(f"type_id {cls.type_id!r} must be namespaced, e.g. 'mypack.blur'")
        legacy = cls.legacy_type_ids
        if isinstance(legacy, str) or not all(isinstance(t, str) and TYPE_ID_RE.match(t) for t in legacy):
            problems.append(f"legacy_type_ids {legacy!r} must be a tuple of namespaced type ids")
        elif cls.type_id in legacy:
            problems.append(f"legacy_type_ids names the node's own type_id {cls.type_id!r}")
        if not isinstance(cls.version, int) or cls.version < 1:
            problems.append("version must be an int >= 1")
        if not (isinstance(cls.Params, type) and issubclass(cls.Params, NodeParams)):
            problems.append("Params must subclass kinograph.api.NodeParams")
        else:
            problems.extend(default_problems(cls.Params))
            problems.extend(_generic_problems(cls))
        names = [p.name for p in cls.inputs] + [p.name for p in cls.outputs]
        for name in names:
            if not NAME_RE.match(name):
                problems.append(f"port name {name!r} must match [A-Za-z_][A-Za-z0-9_-]*")
        if len({p.name for p in cls.inputs}) != len(cls.inputs):
            problems.append("two inputs share a name")
        if len({p.name for p in cls.outputs}) != len(cls.outputs):
            problems.append("two outputs share a name")
        return problems


def _named_params(cls: type) -> Any:
    """The argument of ``Node[...]`` in the class's own bases (a class, a string, or None)."""
    for base in getattr(cls, "__orig_bases__", ()):
        if typing.get_origin(base) is Node:
            args = typing.get_args(base)
            if args:
                arg = args[0]
                return arg.__forward_arg__ if isinstance(arg, typing.ForwardRef) else arg
    return None


def _generic_problems(cls: type[Node]) -> list[str]:
    """``Node[X]`` must name the node's own ``Params``, or a type checker checks the wrong fields."""
    named = _named_params(cls)
    if named is None:
        return []
    if isinstance(named, str):
        namespace = dict(vars(sys.modules[cls.__module__])) if cls.__module__ in sys.modules else {}
        namespace[cls.__name__] = cls
        try:
            named = eval(named, namespace)  # a dotted name of the plugin's own module, never a graph's text
        except Exception:
            return [f"Node[{named!r}] names nothing that exists; write Node[\"{cls.__name__}.Params\"]"]
    if named is not cls.Params:
        shown = getattr(named, "__qualname__", repr(named))
        return [f"Node[{shown}] is not the node's Params ({cls.Params.__qualname__}); name the same model"]
    return []


def file_fingerprint(path: str) -> str:
    """Size and mtime of a file, or of every entry of a folder or glob, as cache-key text."""
    import glob

    target = Path(path)
    if target.is_file():
        stat = target.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    if target.is_dir():
        entries = sorted(target.iterdir())
    elif glob.has_magic(path):
        entries = [Path(p) for p in sorted(glob.glob(path))]
    else:
        return "missing"
    stats = []
    for entry in entries:
        try:
            stat = entry.stat()
        except OSError:
            continue
        stats.append(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return str(hash_text(os.pathsep.join(stats)))


def hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:32]


__all__ = ["Input", "Node", "Output", "field_ui", "file_fingerprint"]
