"""Groups in the editor window: entering and leaving them, their menus, their ports, and
reusable subgraph files (saving one, making one local, the read-only stack of one shown).

:class:`GroupLevels` is mixed into :class:`kinograph.gui.main_window.MainWindow`; it uses the
window's editor, scene, view, inspector, breadcrumbs, palette and status bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu

from kinograph.api import KinographError
from kinograph.gui.edits import GraphEditor
from kinograph.host import (
    INPUTS_TYPE,
    OUTPUTS_TYPE,
    SEPARATOR,
    Graph,
    GraphChange,
    save_subgraph,
    subgraphs_dir,
    user_source,
)


class ReadOnlyStack(QUndoStack):
    """The undo stack of a group whose graph comes from a reusable subgraph file: it refuses
    every edit (saving the graph writes only the reference, so edits would be lost) and says
    how to edit it: Make local."""

    def __init__(self, window: Any, source: str) -> None:
        super().__init__(window)
        self.window, self.source = window, source

    def push(self, command: Any) -> None:  # type: ignore[override]
        self.window.show_status(f"This group uses {self.source}, which is read-only here: Make local to edit it")
        QTimer.singleShot(0, self._show_model)  # a drag or a typed value showed what did not happen

    def _show_model(self) -> None:
        window = self.window
        if window.editor.stack is self:
            window.scene.rebuild()
            window.inspector.show_node(window.inspector.node_id)

    def beginMacro(self, text: str) -> None:
        return  # nothing is recorded here (read-only)

    def endMacro(self) -> None:
        return  # nothing is recorded here (read-only)


class GroupLevels:
    """The window's group edits and the level (group path) its canvas shows."""

    # What the window has (MainWindow.__init__ sets them; it also has show_status and show_error).
    level: list[str]
    graph: Graph
    editor: GraphEditor
    stack: QUndoStack
    actions: dict[str, Any]
    scene: Any
    view: Any
    inspector: Any
    breadcrumbs: Any
    palette: Any

    def _group_menu(self, menu: QMenu, group_id: str) -> None:
        """A group's own edits: enter, ungroup, save as a reusable file or make local."""
        menu.addSeparator()
        node = self.editor.graph.nodes[group_id]
        enter = menu.addAction("Enter Group (Tab)", lambda: self.enter_group(group_id))
        enter.setEnabled(node.subgraph is not None)
        menu.addAction(self.actions["ungroup"])
        if node.ref is not None:
            menu.addAction("Make Local", lambda: self.editor.set_subgraph_ref(group_id, None, f"Make {group_id} local"))
        else:
            menu.addAction("Save as Reusable…", lambda: self.save_reusable(group_id))

    def _group_ports_menu(self, menu: QMenu, node_id: str) -> None:
        """Inside a group: give it ports for a node's free inputs and outputs, or take unused ones off."""
        graph = self.editor.graph
        node = graph.nodes[node_id]
        ports = menu.addMenu("Group ports")
        if node.type in (INPUTS_TYPE, OUTPUTS_TYPE):
            direction = "input" if node.type == INPUTS_TYPE else "output"
            for port in graph.interface.inputs if direction == "input" else graph.interface.outputs:
                ports.addAction(f"Rename {direction} {port.name}…",
                                lambda name=port.name: self.rename_group_port(direction, name))
                action = ports.addAction(f"Remove {direction} {port.name}",
                                         lambda name=port.name: self._report(self.editor.remove_group_port(direction, name)))
                action.setEnabled(not graph.group_port_links(direction, port.name))
            return
        cls = graph.node_class(node_id)
        linked_in = {lk.target_port for lk in graph.links_into(node_id)}
        to_outputs = {lk.source_port for lk in graph.links_from(node_id) if graph.nodes[lk.target_node].type == OUTPUTS_TYPE}
        for port in graph.inputs_for(node_id):
            if port.name not in linked_in:
                ports.addAction(f"Feed input {port.name} from the group",
                                lambda name=port.name: self._report(self.editor.port_on_group(node_id, name, "input")))
        for out in cls.outputs if cls is not None else []:
            if out.name not in to_outputs:
                ports.addAction(f"Show output {out.name} on the group",
                                lambda name=out.name: self._report(self.editor.port_on_group(node_id, name, "output")))
        ports.setEnabled(not ports.isEmpty())

    def rename_group_port(self, direction: str, name: str, new: str | None = None) -> str | None:
        """Inside a group: rename one of its ports (asked for when ``new`` is None); why not, or None."""
        if new is None:
            new, ok = QInputDialog.getText(self, f"Rename group {direction}", f"New name for {name}:", text=name)
            if not ok:
                return None
        refusal = self.editor.rename_group_port(direction, name, new)
        self._report(refusal)
        return refusal

    def _report(self, refusal: str | None) -> None:
        if refusal is not None:
            self.show_status(f"Cannot do that: {refusal}")

    # -- entering and leaving --

    def level_graph(self) -> Graph:
        """The graph the canvas shows: the top graph, or the one inside the entered group."""
        return self.editor.graph

    def show_level(self, path: list[str], *, fit: bool = True) -> None:
        """Show the graph inside the groups ``path`` (as far as they exist; [] is the top graph)."""
        graph, valid, titles, source = self.graph, [], ["Graph"], ""
        for group_id in path:
            node = graph.nodes.get(group_id)
            if node is None or node.subgraph is None:
                break
            source = source or (node.ref.source if node.ref is not None else "")
            graph = graph.inner(group_id)
            valid.append(group_id)
            titles.append(group_id)
        self.level = valid
        stack = ReadOnlyStack(self, source) if source else self.stack
        self.editor = GraphEditor(graph, stack)
        self.scene.set_editor(self.editor)
        self.inspector.set_editor(self.editor)
        self.breadcrumbs.show_path(titles, source)
        if fit:
            self.view.fit()

    def enter_group(self, group_id: str) -> None:
        node = self.editor.graph.nodes.get(group_id)
        if node is None or node.subgraph is None:
            self.show_status(f"{group_id} is not a group whose graph is known")
            return
        self.show_level([*self.level, group_id])
        self.show_status(f"In group {SEPARATOR.join(self.level)}: Ctrl+Tab or the breadcrumbs lead back")

    def exit_group(self) -> None:
        if not self.level:
            return
        left = self.level[-1]
        self.show_level(self.level[:-1])
        self.view.select_only([left])

    def group_selection(self) -> None:
        ids = self.scene.selected_node_ids()
        if not ids:
            self.show_status("Select the nodes to group first")
            return
        group_id, error = self.editor.group(ids)
        if error is not None:
            self.show_status(f"Cannot group: {error}")
            return
        self.view.select_only([group_id] if group_id else [])
        self.show_status(f"Grouped {len(ids)} node{'s' if len(ids) != 1 else ''} into {group_id} (Tab enters it)")

    def ungroup_selection(self) -> None:
        placed = self.editor.ungroup(self.scene.selected_node_ids())
        if placed:
            self.view.select_only(placed)
        else:
            self.show_status("Select a group to ungroup")

    def save_reusable(self, group_id: str, path: str | Path | None = None) -> bool:
        """Write a group's graph as a reusable subgraph file (in the user's subgraphs folder);
        the group then uses that file, and the palette lists it."""
        graph = self.editor.graph
        if path is None:
            folder = subgraphs_dir()
            folder.mkdir(parents=True, exist_ok=True)
            path, _ = QFileDialog.getSaveFileName(self, "Save as reusable subgraph", str(folder / f"{group_id}.json"),
                                                  "Subgraphs (*.json)")
            if not path:
                return False
        path = Path(path).with_suffix(".json")
        source = user_source(path)
        if source is None:
            self.show_error("Cannot save the subgraph", f"Reusable subgraphs live in {subgraphs_dir()}: save it there.")
            return False
        try:
            ref = save_subgraph(graph, group_id, source, name=path.stem)
        except (OSError, KinographError) as exc:
            self.show_error("Cannot save the subgraph", str(exc))
            return False
        self.editor.set_subgraph_ref(group_id, ref, f"Save {group_id} as {source}")
        self.palette.reload_subgraphs()
        self.show_status(f"Saved {source} (version {ref.version}); the palette lists it")
        return True

    def _make_shown_group_local(self) -> None:
        """Make local the reusable group whose (read-only) graph is shown."""
        graph = self.graph
        for group_id in self.level:
            if graph.nodes[group_id].ref is not None:
                GraphEditor(graph, self.stack).set_subgraph_ref(group_id, None, f"Make {group_id} local")
                self.show_level(self.level)
                return
            graph = graph.inner(group_id)

    def _graph_changed(self, change: GraphChange) -> None:
        """Undo may take away the group shown (or open another file): go up to what exists."""
        if change.kind == "reset":
            self.show_level([], fit=False)  # opening a file fits the view itself
        elif self.level and (change.kind in ("node_removed", "node_renamed", "subgraph_changed")):
            graph: Graph = self.graph
            for group_id in self.level:
                node = graph.nodes.get(group_id)
                if node is None or node.subgraph is None:
                    self.show_level(self.level)  # trims to the levels that exist
                    return
                graph = graph.inner(group_id)
            if change.kind == "subgraph_changed" and change.name == "ref":
                self.show_level(self.level)  # made local or linked: editable or not
