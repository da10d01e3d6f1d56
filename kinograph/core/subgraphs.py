"""Subgraphs: a node that holds a graph (Blender's node groups, Houdini's subnets and digital
assets, Nuke's groups and gizmos, ComfyUI's subgraphs).

A *group node* has type ``kinograph.subgraph`` and keeps its content in ``GraphNode.subgraph``:
inner nodes and links, and an :class:`Interface` (the group's input and output ports, and the
inner params it shows as its own). Inside, the interface is two nodes, as in Blender: *Group
inputs* (its outputs are the group's inputs) and *Group outputs* (its inputs are the group's
outputs), so a link across the boundary is an ordinary link of the inner graph and the editor
draws and edits it like any other.

Nothing here runs: a run works on a flattened snapshot (:mod:`kinograph.core.flatten`), where
inner nodes are plain nodes named ``group/inner``. So that the rest of the core, the CLI and
the editor can treat a group like any node, :func:`group_class` makes a node class for each
group: its ports from the interface, its ``Params`` from the fields of the inner params it
shows (bounds, choices, widgets and all), with the inner values as defaults.
"""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import create_model

from kinograph.core.graph_file import SUBGRAPH_TYPE
from kinograph.core.node import Input, Node, Output
from kinograph.core.params import NodeParams

if TYPE_CHECKING:
    from kinograph.core.graph import GraphNode, Link

__all__ = [
    "INPUTS_TYPE",
    "OUTPUTS_TYPE",
    "SEPARATOR",
    "SUBGRAPH_TYPE",
    "GroupParam",
    "GroupPort",
    "Interface",
    "Subgraph",
    "SubgraphRef",
    "group_class",
    "interface_class",
]

#: the nodes inside a subgraph that stand for the group's input and output ports
INPUTS_TYPE = "kinograph.subgraph.inputs"
OUTPUTS_TYPE = "kinograph.subgraph.outputs"
GROUP_TYPES = frozenset({SUBGRAPH_TYPE, INPUTS_TYPE, OUTPUTS_TYPE})
#: joins a group's id and an inner node's id: ``grade/blur`` (never part of an ordinary id)
SEPARATOR = "/"
CATEGORY = "Subgraph"


@dataclass
class GroupPort:
    """An input or output port of a group."""

    name: str
    type: str


@dataclass
class GroupParam:
    """The param ``param`` of the inner node ``node``, shown on the group as ``name``."""

    name: str
    node: str
    param: str


@dataclass
class Interface:
    """What a group shows outside: ports and params, in the order they were added."""

    inputs: list[GroupPort] = field(default_factory=list)
    outputs: list[GroupPort] = field(default_factory=list)
    params: list[GroupParam] = field(default_factory=list)

    def input(self, name: str) -> GroupPort | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> GroupPort | None:
        return next((p for p in self.outputs if p.name == name), None)

    def param(self, name: str) -> GroupParam | None:
        return next((p for p in self.params if p.name == name), None)

    def param_of(self, node_id: str, param: str) -> GroupParam | None:
        """The group param showing ``node_id.param``, if any."""
        return next((p for p in self.params if (p.node, p.param) == (node_id, param)), None)

    def to_entry(self) -> dict[str, Any]:
        return {
            "inputs": [{"name": p.name, "type": p.type} for p in self.inputs],
            "outputs": [{"name": p.name, "type": p.type} for p in self.outputs],
            "params": [{"name": p.name, "node": p.node, "param": p.param} for p in self.params],
        }

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Interface:
        return cls(
            [GroupPort(p["name"], p["type"]) for p in entry.get("inputs", [])],
            [GroupPort(p["name"], p["type"]) for p in entry.get("outputs", [])],
            [GroupParam(p["name"], p["node"], p["param"]) for p in entry.get("params", [])],
        )


@dataclass
class SubgraphRef:
    """A reusable subgraph file a group uses: its source (``user:NAME.json`` or
    ``package://DIST/PATH``), and the version and content hash the graph last saw."""

    source: str
    version: int = 1
    hash: str = ""

    def to_entry(self) -> dict[str, Any]:
        return {"source": self.source, "version": self.version, "hash": self.hash}


@dataclass
class Subgraph:
    """The graph a group node holds: inner nodes (with the two interface nodes), links, the
    interface and meta (``name``, ``description``, ``category``)."""

    nodes: dict[str, GraphNode] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    interface: Interface = field(default_factory=Interface)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_entry(self, copy_values: bool = True) -> dict[str, Any]:
        return {
            "meta": copy.deepcopy(self.meta) if copy_values else self.meta,
            "interface": self.interface.to_entry(),
            "nodes": {node_id: node.to_entry(copy_values) for node_id, node in self.nodes.items()},
            "links": [{"from": link.source, "to": link.target} for link in self.links],
        }

    def interface_node(self, kind: str) -> str | None:
        """The id of the inner node of type ``kind`` (INPUTS_TYPE or OUTPUTS_TYPE), if any."""
        return next((node_id for node_id, node in self.nodes.items() if node.type == kind), None)

    @property
    def title(self) -> str:
        return str(self.meta.get("name") or "Group")


# -- node classes for groups and their interface nodes -------------------------------------------

#: Classes made for groups, by what they are made of: made again only when that changes.
_CLASSES: OrderedDict[str, type[Node]] = OrderedDict()
_CLASS_LIMIT = 512
_UNSET: Any = type("Unset", (), {"__repr__": lambda self: "unset"})()


class GroupNode(Node):
    """Base of the classes made for group nodes and interface nodes. They never run: a run
    works on the flattened graph."""

    category: ClassVar[str] = CATEGORY
    #: for interface classes: which (``inputs``/``outputs``); for groups: ``group``
    role: ClassVar[str] = "group"

    def run(self, ctx: Any, *args: Any, **inputs: Any) -> dict[str, Any]:
        raise RuntimeError("group nodes are flattened before a run; this one was not")


def group_class(
    node: GraphNode,
    inner_class: Callable[[str], type[Node] | None],
) -> type[Node] | None:
    """The node class of a group: ports from its interface, params from the inner params it shows.

    ``inner_class(node_id)`` gives the class of an inner node. A group whose content is unknown
    (a subgraph file that cannot be found) has no class, like a node of a missing plugin.
    """
    sub = node.subgraph
    if sub is None:
        return None
    fields: dict[str, Any] = {}
    for shown in sub.interface.params:
        cls = inner_class(shown.node)
        inner = sub.nodes.get(shown.node)
        info = cls.Params.model_fields.get(shown.param) if cls is not None else None
        if info is None or inner is None:
            continue  # the flattening names it as a problem
        fields[shown.name] = (shown.param, info, cls, inner.params.get(shown.param, _UNSET))
    inputs = [Input(p.name, p.type, f"group input {p.name}", optional=_input_optional(sub, p.name, inner_class))
              for p in sub.interface.inputs]
    outputs = [Output(p.name, p.type, f"group output {p.name}") for p in sub.interface.outputs]
    version = node.ref.version if node.ref is not None else 1
    key = repr((
        "group", sub.title, sub.meta.get("description", ""), sub.meta.get("category", ""), version,
        [(p.name, p.type, p.optional) for p in inputs], [(p.name, p.type) for p in outputs],
        [(name, param, id(cls), json.dumps(value, sort_keys=True, default=str))
         for name, (param, _, cls, value) in fields.items()],
    ))
    found = _CLASSES.get(key)
    if found is not None:
        _CLASSES.move_to_end(key)
        return found
    params = _params_model({name: (info, value) for name, (_, info, _, value) in fields.items()})
    made = type(
        "Group",
        (GroupNode,),
        {
            "type_id": SUBGRAPH_TYPE,
            "version": version,
            "display_name": sub.title,
            "category": str(sub.meta.get("category") or CATEGORY),
            "description": str(sub.meta.get("description") or "A group of nodes (Tab enters it)."),
            "inputs": inputs,
            "outputs": outputs,
            "Params": params,
            "__module__": __name__,
        },
    )
    return _remember(key, made)


def interface_class(kind: str, interface: Interface | None) -> type[Node] | None:
    """The class of an interface node: Group inputs (outputs = the group's inputs) or Group
    outputs (inputs = the group's outputs). Outside a subgraph there is none."""
    if interface is None:
        return None
    ports = interface.inputs if kind == INPUTS_TYPE else interface.outputs
    key = repr((kind, [(p.name, p.type) for p in ports]))
    found = _CLASSES.get(key)
    if found is not None:
        return found
    if kind == INPUTS_TYPE:
        attrs = {"outputs": [Output(p.name, p.type, f"what the group gets at its input {p.name}") for p in ports],
                 "inputs": [], "display_name": "Group inputs", "role": "inputs",
                 "description": "The group's input ports, as seen inside it."}
    else:
        attrs = {"inputs": [Input(p.name, p.type, f"what the group gives at its output {p.name}") for p in ports],
                 "outputs": [], "display_name": "Group outputs", "role": "outputs",
                 "description": "The group's output ports, as seen inside it."}
    made = type("GroupInterface", (GroupNode,), {"type_id": kind, "__module__": __name__, **attrs})
    return _remember(key, made)


def _remember(key: str, cls: type[Node]) -> type[Node]:
    _CLASSES[key] = cls
    while len(_CLASSES) > _CLASS_LIMIT:
        _CLASSES.popitem(last=False)
    return cls


def _params_model(fields: dict[str, tuple[Any, Any]]) -> type[NodeParams]:
    """A params model with the given fields (copied from inner models), defaults replaced."""
    definitions = {}
    for name, (info, value) in fields.items():
        info = copy.copy(info)
        if value is not _UNSET:
            info.default = value
            info.default_factory = None
        definitions[name] = (info.annotation, info)
    return create_model("Params", __base__=NodeParams, **definitions)  # type: ignore[call-overload, no-any-return]


def _input_optional(sub: Subgraph, port: str, inner_class: Callable[[str], type[Node] | None]) -> bool:
    """A group input may stay unlinked when every inner input it feeds may."""
    for link in sub.links:
        source = sub.nodes.get(link.source_node)
        if source is None or source.type != INPUTS_TYPE or link.source_port != port:
            continue
        cls = inner_class(link.target_node)
        spec = cls.input(link.target_port) if cls is not None else None
        if spec is not None and not spec.optional:
            return False
    return True


def is_group(node: GraphNode) -> bool:
    return node.type == SUBGRAPH_TYPE


def split_id(node_id: str) -> list[str]:
    """``grade/blur`` -> ``["grade", "blur"]``: the groups to enter, then the inner node."""
    return node_id.split(SEPARATOR)
