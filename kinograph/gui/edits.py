"""User-level edits of one graph: each builds the undo commands for it and pushes them.

The canvas, the inspector, the palette and the menus all edit through a :class:`GraphEditor`,
so every change is undoable and checked by the core (its refusal reasons come back as text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from PySide6.QtGui import QUndoStack

from kinograph.api import GraphError, KinographError
from kinograph.gui import commands
from kinograph.gui.clipboard import fragment_json, fragment_nodes
from kinograph.gui.editor_state import compact, editor_state, link_key
from kinograph.gui.wording import param_error_words, param_label
from kinograph.host import (
    INPUTS_TYPE,
    NAME_PATTERN,
    OUTPUTS_TYPE,
    Graph,
    InnerGraph,
    Link,
    SubgraphRef,
    check_grouping,
    exposable_params,
    subgraph_node,
    unique_name,
)

_NAME = re.compile(NAME_PATTERN)


def _parse_key(key: str) -> Link | None:
    source, sep, target = key.partition("->")
    return Link.parse(source, target) if sep else None


class GraphEditor:
    """Edits of ``graph`` recorded on ``stack``."""

    def __init__(self, graph: Graph, stack: QUndoStack | None = None) -> None:
        self.graph = graph
        self.stack = stack or QUndoStack()

    # -- nodes --

    def add_node(self, type_id: str, pos: tuple[float, float] | None = None,
                 params: dict[str, Any] | None = None) -> str:
        command = commands.AddNodeCommand(self.graph, type_id, pos, params)
        self.stack.push(command)
        return command.node_id

    def add_node_connected(self, type_id: str, pos: tuple[float, float], port_ref: str, direction: str) -> str:
        """Place a node and link it to ``port_ref`` (an output when ``direction`` is "output")."""
        self.stack.beginMacro(f"Add {type_id.rsplit('.', 1)[-1]} and connect")
        node_id = self.add_node(type_id, pos)
        cls = self.graph.registry.node(type_id)
        if cls is not None:
            ports = cls.inputs if direction == "output" else cls.outputs
            for port in ports:
                ref = f"{node_id}.{port.name}"
                source, target = (port_ref, ref) if direction == "output" else (ref, port_ref)
                if self.graph.check_link(source, target) is None:
                    self.stack.push(commands.ConnectCommand(self.graph, source, target))
                    break
        self.stack.endMacro()
        return node_id

    def delete(self, node_ids: Iterable[str], links: Iterable[Link] = ()) -> None:
        node_ids = [n for n in node_ids if n in self.graph.nodes]
        links = [link for link in links if link in self.graph.links
                 and link.source_node not in node_ids and link.target_node not in node_ids]
        if not node_ids and not links:
            return
        self.stack.beginMacro(f"Delete {len(node_ids)} nodes, {len(links)} links" if len(node_ids) != 1 or links
                              else f"Delete {node_ids[0]}")
        for link in links:
            self.stack.push(commands.DisconnectCommand(self.graph, link))
        for node_id in node_ids:
            self.stack.push(commands.RemoveNodeCommand(self.graph, node_id))
        self.stack.endMacro()

    def move(self, moves: dict[str, tuple[Any, Any]], state: dict[str, Any] | None = None) -> None:
        """Record node moves (already shown on the canvas) and editor-state changes as one step."""
        moves = {n: (old, new) for n, (old, new) in moves.items() if n in self.graph.nodes and old != new}
        state_changed = state is not None and compact(state) != self.graph.meta.get("editor")
        if not moves and not state_changed:
            return
        self.stack.beginMacro("Move")
        if moves:
            self.stack.push(commands.MoveNodesCommand(self.graph, moves))
        if state_changed:
            self.stack.push(commands.SetEditorStateCommand(self.graph, compact(state or {}), "Move"))
        self.stack.endMacro()

    def toggle_bypass(self, node_ids: Iterable[str]) -> None:
        node_ids = [n for n in node_ids if n in self.graph.nodes]
        if node_ids:
            bypass = not all(self.graph.nodes[n].bypass for n in node_ids)
            self.stack.push(commands.SetBypassCommand(self.graph, node_ids, bypass))

    def rename(self, node_id: str, new_id: str) -> str | None:
        """Rename a node (links and reroute dots follow); returns why not when the id is unusable."""
        new_id = new_id.strip()
        if new_id == node_id:
            return None
        if not _NAME.match(new_id):
            return "ids start with a letter or _ and hold only letters, digits, _ and -"
        if new_id in self.graph.nodes:
            return f"there is already a node {new_id!r}"
        state = editor_state(self.graph)
        renamed = {}
        for key, points in state["reroutes"].items():
            link = _parse_key(key)
            if link is not None:
                key = link_key(link.renamed(node_id, new_id))
            renamed[key] = points
        self.stack.beginMacro(f"Rename {node_id} to {new_id}")
        self.stack.push(commands.RenameNodeCommand(self.graph, node_id, new_id))
        if renamed != state["reroutes"]:
            state["reroutes"] = renamed
            self.set_editor_state(state, "Rename")
        self.stack.endMacro()
        return None

    def set_meta(self, key: str, value: Any) -> None:
        if self.graph.meta.get(key) != value:
            self.stack.push(commands.SetMetaCommand(self.graph, key, value))

    # -- links --

    def connect(self, source: str, target: str) -> str | None:
        """Link two ports; returns the core's reason when the link is refused."""
        reason = self.graph.check_link(source, target)
        if reason is None:
            self.stack.push(commands.ConnectCommand(self.graph, source, target))
        return reason

    def relink(self, old: Link, source: str, target: str) -> str | None:
        """Move a picked-up link to new ends in one undo step; returns the core's refusal."""
        reason = self.graph.check_link(source, target, ignoring=old)  # as if the old one were gone
        if reason is None:
            self.stack.beginMacro(f"Relink {old.source}")
            self.stack.push(commands.DisconnectCommand(self.graph, old))
            self.stack.push(commands.ConnectCommand(self.graph, source, target))
            self.stack.endMacro()
        return reason

    def disconnect(self, links: Iterable[Link], text: str = "Disconnect") -> None:
        links = [link for link in links if link in self.graph.links]
        if not links:
            return
        self.stack.beginMacro(f"{text} {len(links)} link{'s' if len(links) != 1 else ''}")
        for link in links:
            self.stack.push(commands.DisconnectCommand(self.graph, link))
        self.stack.endMacro()

    def insert_ports(self, node_id: str, link: Link) -> tuple[str, str] | None:
        """The (input, output) of a node that would put it into ``link``, or None when none fit."""
        cls = self.graph.node_class(node_id)
        if cls is None or link not in self.graph.links:
            return None
        # Check the new links as if the old one were gone.
        into = next((f"{node_id}.{p.name}" for p in cls.inputs
                     if self.graph.check_link(link.source, f"{node_id}.{p.name}", ignoring=link) is None), None)
        out = next((f"{node_id}.{p.name}" for p in cls.outputs
                    if self.graph.check_link(f"{node_id}.{p.name}", link.target, ignoring=link) is None), None)
        return (into, out) if into is not None and out is not None else None

    def insert_on_link(self, node_id: str, link: Link) -> bool:
        """Put a node into a link (source -> node -> target) when its ports fit; one undo step."""
        ports = self.insert_ports(node_id, link)
        if ports is None:
            return False
        into, out = ports
        self.stack.beginMacro(f"Insert {node_id}")
        self.stack.push(commands.DisconnectCommand(self.graph, link))
        self.stack.push(commands.ConnectCommand(self.graph, link.source, into))
        self.stack.push(commands.ConnectCommand(self.graph, out, link.target))
        self.stack.endMacro()
        return True

    # -- params --

    def set_param_port(self, node_id: str, name: str, exposed: bool) -> str | None:
        """Show a param as an input port or stop (its link goes too); returns why not, or None."""
        node = self.graph.nodes.get(node_id)
        if node is None or exposed == (name in node.exposed):
            return None
        cls = self.graph.node_class(node_id)
        if exposed and (cls is None or name not in exposable_params(cls)):
            return f"{name} cannot be an input port"
        feeding = [link for link in self.graph.links_into(node_id) if link.target_port == name]
        self.stack.beginMacro(f"{'Show' if exposed else 'Hide'} {node_id}.{name} as an input port")
        for link in feeding:
            self.stack.push(commands.DisconnectCommand(self.graph, link))
        self.stack.push(commands.ExposeParamCommand(self.graph, node_id, name, exposed))
        self.stack.endMacro()
        return None

    def param_error(self, node_id: str, name: str, value: Any) -> str | None:
        """The pydantic message for ``value``, or None when the node's Params accept it."""
        node = self.graph.nodes[node_id]
        cls = self.graph.registry.node(node.type)
        if cls is None:
            return None
        try:
            cls.Params.model_validate({**node.params, name: value})
        except ValidationError as exc:
            # In the inspector's words: sentences, params by their labels (see wording.py).
            props = cls.Params.model_json_schema().get("properties", {})
            errors = exc.errors(include_url=False)
            own = [e for e in errors if e["loc"][:1] == (name,)]
            if own:
                return "; ".join(param_error_words(e, props.get(name)) for e in own)
            # Another param (from the file) is refused and blocks this edit: name it.
            return "fix first: " + "; ".join(
                f"{param_label(str(e['loc'][0]), props.get(str(e['loc'][0]), {}).get('title')) if e['loc'] else 'params'}: "
                f"{param_error_words(e, props.get(str(e['loc'][0])) if e['loc'] else None)}" for e in errors)
        return None

    def set_param(self, node_id: str, name: str, value: Any) -> str | None:
        """Set a param through an undo step; returns the error message instead when it is invalid."""
        error = self.param_error(node_id, name, value)
        if error is not None:
            return error
        old = self.graph.nodes[node_id].params.get(name)
        if old == value:
            return None
        try:
            self.stack.push(commands.SetParamCommand(self.graph, node_id, name, old, value))
        except GraphError as exc:
            return exc.describe()
        return None

    # -- groups (subgraphs) --

    def group(self, node_ids: Iterable[str]) -> tuple[str | None, str | None]:
        """Group nodes (Ctrl+G): (the new group's id, None), or (None, why not)."""
        ids = [n for n in node_ids if n in self.graph.nodes]
        group_id = self.graph.new_id("group")
        try:
            check_grouping(self.graph, ids, group_id)  # refuse before the undo stack runs it
        except GraphError as exc:
            return None, "; ".join(p.message for p in exc.problems)
        self.stack.push(commands.GroupCommand(self.graph, ids, group_id))
        return group_id, None

    def ungroup(self, node_ids: Iterable[str]) -> list[str]:
        """Ungroup the selected groups (Ctrl+Alt+G); returns the ids of the nodes put back."""
        groups = [n for n in node_ids if n in self.graph.nodes and self.graph.nodes[n].subgraph is not None]
        if not groups:
            return []
        placed: list[str] = []
        self.stack.beginMacro(f"Ungroup {', '.join(groups)}")
        for group_id in groups:
            command = commands.UngroupCommand(self.graph, group_id)
            self.stack.push(command)
            placed.extend(command.node_ids)
        self.stack.endMacro()
        return placed

    def add_subgraph(self, source: str, pos: tuple[float, float] | None = None) -> tuple[str | None, str | None]:
        """Add a group using a reusable subgraph file: (its id, None), or (None, why not)."""
        try:
            node = subgraph_node(self.graph, source, None, pos)  # read now: a bad file is refused here
        except KinographError as exc:
            return None, str(exc).splitlines()[0]
        title = node.subgraph.title if node.subgraph is not None else source
        self.stack.push(commands.AddSubgraphCommand(self.graph, source, node.id, pos, title))
        return node.id, None

    def set_subgraph_ref(self, group_id: str, ref: SubgraphRef | None, text: str) -> None:
        """Link a group to a reusable file, or keep its content here (``ref`` None: Make local)."""
        if group_id in self.graph.nodes and self.graph.nodes[group_id].ref != ref:
            self.stack.push(commands.SetSubgraphRefCommand(self.graph, group_id, ref, text))

    def show_on_group(self, node_id: str, param: str, shown: bool) -> str | None:
        """Inside a group: show an inner param on the group, or stop (its link outside goes too)."""
        inner = self.graph
        if not isinstance(inner, InnerGraph):
            return "only a node inside a group can show a param on it"
        current = inner.interface.param_of(node_id, param)
        if shown == (current is not None):
            return None
        self.stack.beginMacro(f"{'Show' if shown else 'Hide'} {node_id}.{param} on the group")
        if current is not None:  # a link outside into the group's param goes first
            parent = inner.parent
            for link in [lk for lk in parent.links_into(inner.group_id) if lk.target_port == current.name]:
                self.stack.push(commands.DisconnectCommand(parent, link))
        self.stack.push(commands.ShowOnGroupCommand(inner, node_id, param, shown))
        self.stack.endMacro()
        return None

    def port_on_group(self, node_id: str, port: str, direction: str) -> str | None:
        """Inside a group: give the group a port for an inner node's unlinked input (fed from
        Group inputs) or output (read by Group outputs), linked in one undo step; why not, or None."""
        inner = self.graph
        if not isinstance(inner, InnerGraph):
            return "only a node inside a group has ports to show on it"
        kind = INPUTS_TYPE if direction == "input" else OUTPUTS_TYPE
        ends = next((n for n, node in inner.nodes.items() if node.type == kind), None)
        if ends is None:
            return f"the group has no {'Group inputs' if direction == 'input' else 'Group outputs'} node"
        port_type = inner.port_type(node_id, port, direction)
        if port_type is None:
            return f"{node_id} has no {direction} {port!r}"
        ports = inner.interface.inputs if direction == "input" else inner.interface.outputs
        taken = {p.name for p in ports} | {p.name for p in inner.interface.params}
        name = unique_name(port, taken)
        source, target = (f"{ends}.{name}", f"{node_id}.{port}") if direction == "input" else (f"{node_id}.{port}", f"{ends}.{name}")
        self.stack.beginMacro(f"Show {node_id}.{port} on the group")
        self.stack.push(commands.AddGroupPortCommand(inner, direction, name, port_type))
        self.stack.push(commands.ConnectCommand(inner, source, target))
        self.stack.endMacro()
        return None

    def remove_group_port(self, direction: str, name: str) -> str | None:
        """Inside a group: take an unlinked port off the group; why not, or None."""
        inner = self.graph
        if not isinstance(inner, InnerGraph):
            return "not inside a group"
        ports = inner.interface.inputs if direction == "input" else inner.interface.outputs
        if not any(p.name == name for p in ports):
            return f"the group has no {direction} {name!r}"
        users = inner.group_port_links(direction, name)
        if users:  # refuse before the undo stack runs it
            return f"{users[0]} uses it: remove its links first"
        self.stack.push(commands.RemoveGroupPortCommand(inner, direction, name))
        return None

    def rename_group_port(self, direction: str, old: str, new: str) -> str | None:
        """Inside a group: give one of its ports another name (links follow); why not, or None."""
        inner = self.graph
        if not isinstance(inner, InnerGraph):
            return "not inside a group"
        new = new.strip()
        try:  # refused before the undo stack runs it: a refused rename leaves no undo step
            problem = inner.port_rename_problem(direction, old, new)
        except GraphError as exc:  # not a direction
            return exc.problems[0].message
        if problem is not None:
            return problem.message
        if new == old:
            return None
        self.stack.push(commands.RenameGroupPortCommand(inner, direction, old, new))
        return None

    def rename_group_param(self, old: str, new: str) -> str | None:
        """Inside a group: call a param it shows by another name (value, port and link follow);
        why not, or None."""
        inner = self.graph
        if not isinstance(inner, InnerGraph):
            return "not inside a group"
        new = new.strip()
        problem = inner.param_rename_problem(old, new)  # refused before the undo stack runs it
        if problem is not None:
            return problem.message
        if new != old:
            self.stack.push(commands.RenameGroupParamCommand(inner, old, new))
        return None

    # -- clipboard --

    def copy_text(self, node_ids: Iterable[str]) -> str:
        return fragment_json(self.graph, node_ids)

    def paste_text(self, text: str, at: tuple[float, float] | None = None, verb: str = "Paste") -> list[str]:
        """Paste fragment text; returns the new node ids. Raises GraphError for non-graph text."""
        nodes, links = fragment_nodes(text, self.graph, at)
        self.stack.push(commands.PasteCommand(self.graph, nodes, links, verb))
        return [node.id for node in nodes]

    # -- editor-only state --

    def set_editor_state(self, state: dict[str, Any], text: str) -> None:
        if compact(state) != self.graph.meta.get("editor"):
            self.stack.push(commands.SetEditorStateCommand(self.graph, compact(state), text))

    def add_reroute(self, link: Link, index: int, point: tuple[float, float]) -> None:
        state = editor_state(self.graph)
        points = state["reroutes"].setdefault(link_key(link), [])
        points.insert(index, [round(point[0], 1), round(point[1], 1)])
        self.set_editor_state(state, "Add reroute dot")

    def remove_reroute(self, link: Link, index: int) -> None:
        state = editor_state(self.graph)
        points = state["reroutes"].get(link_key(link), [])
        if 0 <= index < len(points):
            del points[index]
            if not points:
                del state["reroutes"][link_key(link)]
            self.set_editor_state(state, "Remove reroute dot")
