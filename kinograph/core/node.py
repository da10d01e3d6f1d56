"""The node API: what a node class declares and how the engine asks it to run."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kinograph.core.params import NodeParams, field_ui, path_fields

if TYPE_CHECKING:
    from kinograph.core.context import RunContext

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
TYPE_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+$")


@dataclass(frozen=True)
class Input:
    """An input port: name, port type name, description; ``optional`` inputs may stay unlinked."""

    name: str
    type: str
    description: str = ""
    optional: bool = False

    def __post_init__(self) -> None:
        _normalise_type(self)


@dataclass(frozen=True)
class Output:
    """An output port: name, port type name, description."""

    name: str
    type: str
    description: str = ""

    def __post_init__(self) -> None:
        _normalise_type(self)


def _normalise_type(port: Input | Output) -> None:
    """Ports may name their type by string or by PortType; store the name."""
    name = getattr(port.type, "name", port.type)
    object.__setattr__(port, "type", name)


class Node:
    """Base class of every node.

    Subclasses set the class attributes below, declare ``Params`` (a :class:`NodeParams`
    subclass) and implement :meth:`run`. One instance is made per run with validated params in
    ``self.params``; input paths arrive already resolved to absolute paths.
    """

    type_id: ClassVar[str] = ""
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

    def __init__(self, params: NodeParams | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def run(self, ctx: RunContext, **inputs: Any) -> dict[str, Any]:
        """Compute the outputs (a dict by output port name) from the inputs."""
        raise NotImplementedError(f"{type(self).__name__}.run is not implemented")

    @classmethod
    def fingerprint(cls, params: NodeParams) -> str | None:
        """Extra cache-key text, e.g. input files' size and mtime. Default: every input path's."""
        parts = []
        for name, widget in path_fields(type(params)).items():
            if widget == "input_path":
                value = getattr(params, name)
                if isinstance(value, str) and value:
                    parts.append(f"{name}={file_fingerprint(value)}")
        return ";".join(parts) or None

    @classmethod
    def output_info(cls, params: NodeParams, port: str) -> dict[str, Any]:
        """Static facts about an output known from params alone (e.g. ``feature_size``).

        Downstream nodes see them in :meth:`check_inputs` before anything runs.
        """
        return {}

    @classmethod
    def check_inputs(cls, params: NodeParams, inputs: dict[str, dict[str, Any]]) -> list[str]:
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
        if not isinstance(cls.version, int) or cls.version < 1:
            problems.append("version must be an int >= 1")
        if not (isinstance(cls.Params, type) and issubclass(cls.Params, NodeParams)):
            problems.append("Params must subclass kinograph.api.NodeParams")
        names = [p.name for p in cls.inputs] + [p.name for p in cls.outputs]
        for name in names:
            if not NAME_RE.match(name):
                problems.append(f"port name {name!r} must match [A-Za-z_][A-Za-z0-9_-]*")
        if len({p.name for p in cls.inputs}) != len(cls.inputs):
            problems.append("two inputs share a name")
        if len({p.name for p in cls.outputs}) != len(cls.outputs):
            problems.append("two outputs share a name")
        return problems


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
