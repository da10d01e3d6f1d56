"""The editor window: canvas in the middle, palette and inspector docks, menus, toolbar, files.

Other parts of the editor (running graphs, viewers, logs) plug in through :meth:`add_dock`,
:attr:`toolbar`, :attr:`actions` and :meth:`node_item` (whose ``set_badge`` shows run state).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolBar,
    QUndoView,
    QWidget,
)

from kinograph.api import GraphError
from kinograph.gui import settings, shortcuts, wording
from kinograph.gui.breadcrumbs import Breadcrumbs
from kinograph.gui.editor_state import BACKDROP_COLORS, editor_state, link_key, new_item_id
from kinograph.gui.edits import GraphEditor
from kinograph.gui.files import OPEN_FILTER, SAVE_FILTER, RecentFiles, example_graphs, is_media, open_graph
from kinograph.gui.group_levels import GroupLevels
from kinograph.gui.inspector import Inspector
from kinograph.gui.items.backdrop_item import BackdropItem, FrameItem, NoteItem
from kinograph.gui.items.node_item import NodeItem
from kinograph.gui.items.reroute_item import RerouteItem
from kinograph.gui.layout import layered_positions
from kinograph.gui.palette import Palette, subgraph_source
from kinograph.gui.plugins_dialog import PluginsDialog, failed_summary
from kinograph.gui.scene import GraphScene
from kinograph.gui.view import GraphView
from kinograph.host import (
    SEPARATOR,
    Graph,
    Registry,
    exposable_params,
    get_registry,
)

STATUS_MS = 10000


class MainWindow(GroupLevels, QMainWindow):
    """One editor window editing one graph."""

    def __init__(self, registry: Registry | None = None) -> None:
        super().__init__()
        self.registry = registry or get_registry()
        self.graph = Graph(self.registry)
        self.path: Path | None = None
        self.opened_from: Path | None = None
        self.recent = RecentFiles()
        self.stack = QUndoStack(self)
        self.editor = GraphEditor(self.graph, self.stack)
        self.scene = GraphScene(self.editor)
        self.view = GraphView(self.scene, self)
        self.setCentralWidget(self.view)
        self.palette = Palette(self.registry, self)
        self.inspector = Inspector(self.editor, self)
        self.palette_dock = self.add_dock("Nodes", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self.add_dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.history_dock = self.add_dock("History", QUndoView(self.stack), Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.inspector_dock, self.history_dock)
        # Side columns run the full height (as in Blender or Nuke): a bottom dock such as the log
        # then spans only the canvas and does not squeeze the inspector.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.inspector_dock.raise_()
        self.actions: dict[str, QAction] = {}
        #: Called with (menu, node id or None) when the canvas's right-click menu is built: other
        #: parts of the editor add their entries (running adds "Run to Here").
        self.context_menu_extras: list[Callable[[QMenu, str | None], None]] = []
        self.toolbar = QToolBar("Main", self)
        self.toolbar.setObjectName("main_toolbar")
        self.addToolBar(self.toolbar)
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self.palette.activated.connect(self._add_at_centre)
        self.inspector.renamed.connect(lambda node_id: self.view.select_only([node_id]))
        self.inspector.refused.connect(lambda why: self.show_status(f"Cannot do that: {why}"))
        self.inspector.enter_group.connect(self.enter_group)
        self.inspector.save_reusable.connect(lambda group_id: self.save_reusable(group_id))
        #: the groups entered, from the top graph down to the one the canvas shows
        self.level: list[str] = []
        self.breadcrumbs = Breadcrumbs(self.view)
        self.breadcrumbs.go_to.connect(lambda depth: self.show_level(self.level[:depth]))
        self.breadcrumbs.make_local.connect(self._make_shown_group_local)
        self.scene.enter_group_requested.connect(self.enter_group)
        self.scene.exit_group_requested.connect(self.exit_group)
        self.graph.subscribe(self._graph_changed)
        self.view.search.subgraphs = lambda: self.palette.subgraphs
        self.view.file_dropped.connect(self.open_file)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.scene.status.connect(self.show_status)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.stack.cleanChanged.connect(self._clean_changed)
        self._shown_once = False
        self.resize(1400, 860)
        self._update_title()

    # -- seams for other parts of the editor --

    def add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """Add a dock (viewer, log, ...) that the View menu can show again after it is closed."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def node_item(self, node_id: str) -> NodeItem | None:
        """The canvas item of a node (``set_badge`` on it shows run state).

        Runs name nodes inside groups ``group/inner``: on the level shown, ``inner`` is its own
        item; from above, the group's item stands for what happens inside it.
        """
        prefix = SEPARATOR.join(self.level)
        if prefix:
            if not node_id.startswith(prefix + SEPARATOR):
                return None
            node_id = node_id[len(prefix) + 1:]
        item = self.scene.node_items.get(node_id)
        if item is None and SEPARATOR in node_id:
            item = self.scene.node_items.get(node_id.split(SEPARATOR, 1)[0])
        return item

    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, STATUS_MS)

    # -- building --

    def _action(self, name: str, text: str, slot: Any, *, extra_keys: list[str] | None = None,
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        keys = [shortcuts.keys_for(name)] + [QKeySequence(k) for k in extra_keys or []]
        action.setShortcuts([k for k in keys if not k.isEmpty()])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        hotkey = shortcuts.keys_for(name).toString()
        action.setToolTip(f"{text} ({hotkey})" if hotkey else text)
        action.triggered.connect(slot)
        self.addAction(action)
        self.actions[name] = action
        return action

    def _build_actions(self) -> None:
        a = self._action
        a("new", "&New", self.new_graph)
        a("open", "&Open…", lambda: self.open_file())
        a("save", "&Save", self.save)
        a("save_as", "Save &As…", lambda: self.save_as())
        a("quit", "&Quit", self.close)
        undo = self.stack.createUndoAction(self, "&Undo")
        undo.setShortcut(shortcuts.keys_for("undo"))
        redo = self.stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([shortcuts.keys_for("redo"), QKeySequence("Ctrl+Y")])
        self.actions["undo"], self.actions["redo"] = undo, redo
        a("copy", "&Copy", self.copy)
        a("cut", "Cu&t", self.cut)
        a("paste", "&Paste", self.paste)
        a("duplicate", "&Duplicate", self.duplicate)
        a("delete", "De&lete", self.delete_selection, extra_keys=["Backspace"])
        a("select_all", "Select &All", self.select_all)
        a("search", "Add node…", lambda: self.view.open_search())
        a("fit", "&Fit", lambda: self.view.fit())
        a("frame_all", "Frame &All", self.view.frame_all)
        minimap = a("minimap", "&Minimap", self._toggle_minimap, checkable=True)
        minimap.setChecked(settings.setting("minimap", True))
        self.view.minimap.set_enabled_by_user(minimap.isChecked())
        a("bypass", "Toggle &Bypass", lambda: self.editor.toggle_bypass(self.scene.selected_node_ids()))
        a("layout", "Auto-&Layout", self.auto_layout)
        a("backdrop", "Add Back&drop", self.add_backdrop)
        a("group", "&Group", self.group_selection)
        a("ungroup", "&Ungroup", self.ungroup_selection)
        a("exit_group", "&Leave Group", self.exit_group)
        a("note", "Add Sticky &Note", self.add_note)
        a("snap", "Snap to &Grid", self._toggle_snap, checkable=True)
        a("shortcuts", "&Keyboard Shortcuts", self.show_shortcuts)
        self._action("plugins", "&Plugins…", self.show_plugins)
        # Tab is the canvas's own (it searches, or enters a selected group): no shortcut for the
        # search action, whose menu entry still says Tab.
        self.actions["search"].setShortcuts([])
        # Canvas keys must not fire while typing in the inspector or the search box.
        # Single keys (F, L, N, Home) act only when the canvas has the focus: typed in a field they
        # are text, and Home in the viewer means "first frame".
        for name in ("delete", "fit", "frame_all", "layout", "note", "search", "select_all", "copy", "cut", "paste",
                     "duplicate", "exit_group"):
            self.removeAction(self.actions[name])
            self.view.addAction(self.actions[name])
            self.actions[name].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for name in ("new", "open"):
            file_menu.addAction(self.actions[name])
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addMenu(self.recent_menu)
        self.examples_menu = QMenu("Open &Example", self)
        self.examples_menu.aboutToShow.connect(self._fill_examples)
        file_menu.addMenu(self.examples_menu)
        file_menu.addSeparator()
        for name in ("save", "save_as"):
            file_menu.addAction(self.actions[name])
        file_menu.addSeparator()
        file_menu.addAction(self.actions["quit"])
        edit_menu = bar.addMenu("&Edit")
        for name in ("undo", "redo", None, "cut", "copy", "paste", "duplicate", "delete", None, "select_all"):
            edit_menu.addSeparator() if name is None else edit_menu.addAction(self.actions[name])
        graph_menu = bar.addMenu("&Graph")
        for name in ("search", "bypass", "layout", None, "group", "ungroup", "exit_group", None, "backdrop", "note"):
            graph_menu.addSeparator() if name is None else graph_menu.addAction(self.actions[name])
        self.view_menu = bar.addMenu("&View")
        for name in ("fit", "frame_all", "minimap", "snap"):
            self.view_menu.addAction(self.actions[name])
        self.view_menu.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.history_dock):
            self.view_menu.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.actions["shortcuts"])
        help_menu.addAction(self.actions["plugins"])

    def _build_toolbar(self) -> None:
        # The menu's undo/redo actions name the command ("Undo Add node"); the toolbar stays short.
        undo = QAction("Undo", self)
        undo.triggered.connect(self.stack.undo)
        self.stack.canUndoChanged.connect(undo.setEnabled)
        redo = QAction("Redo", self)
        redo.triggered.connect(self.stack.redo)
        self.stack.canRedoChanged.connect(redo.setEnabled)
        undo.setEnabled(False)
        redo.setEnabled(False)
        for name in ("new", "open", "save", None, undo, redo, None, "search", "layout", "fit"):
            if name is None:
                self.toolbar.addSeparator()
            else:
                self.toolbar.addAction(self.actions[name] if isinstance(name, str) else name)

    def _build_status_bar(self) -> None:
        self.plugins_button = QPushButton("", self)
        self.plugins_button.setFlat(True)
        self.plugins_button.setStyleSheet("color: #ff8a80; border: none;")
        self.plugins_button.clicked.connect(self.show_plugins)
        self.statusBar().addPermanentWidget(self.plugins_button)
        summary = failed_summary(self.registry)
        self.plugins_button.setText(f"⚠ {summary}" if summary else "")
        self.plugins_button.setVisible(bool(summary))
        self.plugins_button.setToolTip("Show the plugins and their errors")
        nodes = len(self.registry.nodes)
        self.show_status(f"{nodes} node types from {len(self.registry.plugins)} plugins. "
                         "Tab adds a node; drag from a port to link.")

    # -- title and selection --

    def _clean_changed(self, _clean: bool) -> None:
        try:
            self._update_title()
        except RuntimeError:  # the stack is gone: the window is being destroyed
            pass

    def _update_title(self) -> None:
        if self.path is not None:
            name = self.path.name
        elif self.opened_from is not None:
            name = f"graph from {self.opened_from.name}"
        else:
            name = "untitled"
        self.setWindowModified(not self.stack.isClean())
        self.setWindowTitle(f"{name}[*] — kinograph")

    def _selection_changed(self) -> None:
        try:
            ids = self.scene.selected_node_ids()
        except RuntimeError:  # the scene is being torn down
            return
        self.inspector.show_node(ids[0] if len(ids) == 1 else None)

    # -- files --

    def ask_unsaved(self) -> str:
        """Ask what to do with unsaved changes: "save", "discard" or "cancel" (tests replace it)."""
        answer = QMessageBox.question(
            self, "Unsaved changes", "The graph has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            answer, "cancel")

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current graph (saved, discarded or unchanged)."""
        if self.stack.isClean():
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_graph(self) -> None:
        if not self.maybe_save():
            return
        self._take(Graph(self.registry), None, None)

    def open_file(self, path: str | Path | None = None) -> bool:
        """Open a graph (or the graph embedded in a kinograph output); False when nothing opened."""
        if not self.maybe_save():
            return False
        if path is None:
            start = str(self.path.parent) if self.path else ""
            path, _ = QFileDialog.getOpenFileName(self, "Open graph", start, OPEN_FILTER)
            if not path:
                return False
        path = Path(path)
        try:
            loaded = open_graph(path, self.registry)
        except GraphError as exc:
            self.show_error(f"Cannot open {path.name}", wording.problems_text(exc.problems, None))
            return False
        if is_media(path, self.registry):
            self._take(loaded, None, path)
        else:
            self._take(loaded, path, None)
            self.recent.add(path)
        missing = sorted({n.type for n in self.graph.nodes.values()
                          if self.registry.node(n.type) is None and n.subgraph is None and n.ref is None})
        if self.graph.load_warnings:
            first = self.graph.load_warnings[0]
            more = f" (and {len(self.graph.load_warnings) - 1} more)" if len(self.graph.load_warnings) > 1 else ""
            self.show_status(f"{wording.problem_text(first, self.graph)}{more}; save to keep the update")
        elif missing:
            self.show_status(f"{len(missing)} node type(s) not installed: {', '.join(missing)} "
                             "(shown as placeholders, saved unchanged)")
        else:
            self.show_status(f"Opened {path.name}: {len(self.graph.nodes)} nodes, {len(self.graph.links)} links")
        return True

    def take_graph(self, graph: Graph, path: Path | None = None, modified: bool = False) -> None:
        """Put ``graph`` in the window in place of the current one (clearing the undo history).

        ``path`` is the file Save writes to (None: Save asks). ``modified`` marks the graph as
        unsaved work (e.g. restored after a crash): the title shows it, closing asks, and undo
        never makes it look saved.
        """
        self._take(graph, path, None)
        if modified:
            self.stack.resetClean()
            self._update_title()

    def _take(self, graph: Graph, path: Path | None, opened_from: Path | None) -> None:
        self.stack.clear()
        self.graph.replace_with(graph)
        self.path, self.opened_from = path, opened_from
        self.stack.setClean()
        self._update_title()
        self.view.fit_when_laid_out()
        self.view.setFocus()  # Tab, F, Home work at once, without a click on the canvas first

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        if path is None:
            start = str(self.path or (self.opened_from.with_suffix(".json") if self.opened_from else "graph.json"))
            path, _ = QFileDialog.getSaveFileName(self, "Save graph", start, SAVE_FILTER)
            if not path:
                return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".json")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            self.graph.save(path)
        except (OSError, GraphError) as exc:
            self.show_error(f"Cannot save {path.name}", str(exc))
            return False
        self.path = path
        self.graph.base_dir = path.resolve().parent
        self.recent.add(path)
        self.stack.setClean()
        self._update_title()
        self.show_status(f"Saved {path}")
        return True

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for text in paths:
            self.recent_menu.addAction(text, lambda t=text: self.open_file(t))

    def _fill_examples(self) -> None:
        self.examples_menu.clear()
        examples = example_graphs()
        if not examples:
            self.examples_menu.addAction("(no example graphs found)").setEnabled(False)
        for name, path in examples:
            action = self.examples_menu.addAction(name, lambda p=path: self.open_example(p))
            action.setToolTip(str(path))

    def open_example(self, path: str | Path) -> bool:
        """Open an example graph as an unsaved copy (Save asks where), its assets found where it is."""
        if not self.maybe_save():
            return False
        path = Path(path)
        try:
            loaded = open_graph(path, self.registry)
        except GraphError as exc:
            self.show_error(f"Cannot open {path.name}", wording.problems_text(exc.problems, None))
            return False
        self._take(loaded, None, path)
        self.show_status(f"Opened the example {path.name}: Run (F5) to see it work; Save asks where to keep "
                         "your copy")
        return True

    def show_error(self, title: str, message: str) -> None:
        self.show_status(f"{title}: {message.splitlines()[0] if message else ''}")
        if QGuiApplication.platformName() != "offscreen":
            QMessageBox.warning(self, title, message)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.view.setFocus()  # the canvas takes the keys from the start (Tab adds a node)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.maybe_save():
            self.scene.close()
            event.accept()
        else:
            event.ignore()

    # -- clipboard --

    def copy(self) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            QGuiApplication.clipboard().setText(self.editor.copy_text(ids))
            self.show_status(f"Copied {len(ids)} node{'s' if len(ids) != 1 else ''}")

    def cut(self) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            self.copy()
            self.editor.delete(ids)

    def paste(self) -> None:
        self._paste(QGuiApplication.clipboard().text(), self.view.cursor_scene_pos(), "Paste")

    def duplicate(self) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            self._paste(self.editor.copy_text(ids), None, "Duplicate")

    def _paste(self, text: str, at: QPointF | None, verb: str) -> None:
        try:
            ids = self.editor.paste_text(text, (at.x(), at.y()) if at is not None else None, verb)
        except GraphError as exc:
            self.show_status(f"Cannot paste: {'; '.join(wording.problems_text(exc.problems, self.graph).splitlines())}")
            return
        self.view.select_only(ids)

    # -- edits of the selection --

    def select_all(self) -> None:
        for item in self.scene.node_items.values():
            item.setSelected(True)

    def delete_selection(self) -> None:
        selected = self.scene.selectedItems()
        frames = [i for i in selected if isinstance(i, FrameItem)]
        dots = [i for i in selected if isinstance(i, RerouteItem)]
        ids = self.scene.selected_node_ids()
        links = self.scene.selected_links()
        if not (frames or dots or ids or links):
            return
        self.editor.stack.beginMacro("Delete")  # inside a read-only group, a stack that refuses
        self.editor.delete(ids, links)
        if frames or dots:
            state = self.scene.collect_editor_state()
            state["backdrops"] = [b for b in state["backdrops"]
                                  if not any(isinstance(f, BackdropItem) and f.data.get("id") == b.get("id") for f in frames)]
            state["notes"] = [n for n in state["notes"]
                              if not any(isinstance(f, NoteItem) and f.data.get("id") == n.get("id") for f in frames)]
            for dot in sorted(dots, key=lambda d: -d.index):
                points = state["reroutes"].get(link_key(dot.link_item.link), [])
                if dot.index < len(points):
                    del points[dot.index]
            state["reroutes"] = {k: v for k, v in state["reroutes"].items() if v}
            self.editor.set_editor_state(state, "Delete")
        self.editor.stack.endMacro()

    def auto_layout(self) -> None:
        ids = self.scene.selected_node_ids() or list(self.graph.nodes)
        if not ids:
            return
        items = [self.scene.node_items[i] for i in ids if i in self.scene.node_items]
        left = min(i.x() for i in items)
        top = min(i.y() for i in items)
        sizes = {i.node_id: (i.width, i.height) for i in items}
        positions = layered_positions(self.graph, ids, sizes, (left, top))
        moves = {node_id: (self.graph.nodes[node_id].ui.get("pos"), [round(x, 1), round(y, 1)])
                 for node_id, (x, y) in positions.items()}
        self.editor.move(moves)
        self.view.fit()

    def add_backdrop(self) -> None:
        items = [self.scene.node_items[i] for i in self.scene.selected_node_ids()]
        if items:
            rect = QRectF()
            for item in items:
                rect = rect.united(item.sceneBoundingRect())
            rect = rect.adjusted(-30, -50, 30, 30)
        else:
            centre = self.view.cursor_scene_pos()
            rect = QRectF(centre.x(), centre.y(), 400, 260)
        state = editor_state(self.graph)
        backdrop = {
            "id": new_item_id(state["backdrops"], "backdrop"),
            "title": "Backdrop",
            "color": BACKDROP_COLORS[len(state["backdrops"]) % len(BACKDROP_COLORS)],
            "rect": [round(rect.x(), 1), round(rect.y(), 1), round(rect.width(), 1), round(rect.height(), 1)],
        }
        state["backdrops"].append(backdrop)
        self.editor.set_editor_state(state, "Add backdrop")

    def add_note(self) -> None:
        self._note_at(self.view.cursor_scene_pos())

    def _note_at(self, point: QPointF) -> None:
        state = editor_state(self.graph)
        state["notes"].append({
            "id": new_item_id(state["notes"], "note"),
            "text": "Double-click to edit this note.",
            "rect": [round(point.x(), 1), round(point.y(), 1), 220.0, 110.0],
        })
        self.editor.set_editor_state(state, "Add note")

    def _toggle_minimap(self, on: bool) -> None:
        self.view.minimap.set_enabled_by_user(on)
        settings.remember("minimap", on)

    def _toggle_snap(self, on: bool) -> None:
        self.scene.snap_to_grid = on
        self.show_status("Snapping to the grid" if on else "Free placement")

    def _add_at_centre(self, type_id: str) -> None:
        # Near the middle of the view, where the user looks, but never on top of another node.
        centre = self.view.free_point(self.view.mapToScene(self.view.viewport().rect().center()))
        pos = (round(centre.x(), 1), round(centre.y(), 1))
        if subgraph_source(type_id) is not None:  # a reusable subgraph from the palette
            self.view.place_subgraph(type_id, pos)
            return
        node_id = self.editor.add_node(type_id, pos)
        self.view.select_only([node_id])

    def _context_menu(self, point: QPoint) -> None:
        """Right-click: the edits that apply where the user clicked."""
        node = self.view.node_at(point)
        if node is not None and not node.isSelected():
            self.view.select_only([node.node_id])
        at = self.view.mapToScene(point)
        menu = QMenu(self)
        menu.addAction("Add node…", lambda: self.view.open_search(at))
        menu.addAction(self.actions["paste"])
        menu.addAction("Add sticky note", lambda: self._note_at(at))
        if self.scene.selected_node_ids():
            menu.addSeparator()
            for name in ("copy", "cut", "duplicate", "delete", "bypass", None, "layout", "group", "backdrop"):
                menu.addSeparator() if name is None else menu.addAction(self.actions[name])
        if node is not None and node.is_group:
            self._group_menu(menu, node.node_id)
        if node is not None and self.level:
            self._group_ports_menu(menu, node.node_id)
        if self.level:
            menu.addAction(self.actions["exit_group"])
        if node is not None:
            self._param_ports_menu(menu, node.node_id)
        for extra in self.context_menu_extras:
            extra(menu, node.node_id if node is not None else None)
        menu.addSeparator()
        menu.addAction(self.actions["fit"])
        self.context_menu = menu  # kept so tests can read it; offscreen it is not shown
        if QGuiApplication.platformName() != "offscreen":
            menu.exec(self.view.viewport().mapToGlobal(point))

    def _param_ports_menu(self, menu: QMenu, node_id: str) -> None:
        """"Params as input ports": a tick per param a link could drive."""
        cls = self.graph.node_class(node_id)
        names = exposable_params(cls) if cls is not None else []
        if not names:
            return
        ports = menu.addMenu("Params as input ports")
        exposed = self.graph.nodes[node_id].exposed
        for name in names:
            action = ports.addAction(name)
            action.setCheckable(True)
            action.setChecked(name in exposed)
            action.toggled.connect(lambda on, name=name: self.editor.set_param_port(node_id, name, on))

    # -- dialogs --

    def show_shortcuts(self) -> None:
        shortcuts.ShortcutsDialog(self).exec()

    def show_plugins(self) -> None:
        PluginsDialog(self.registry, self).exec()
