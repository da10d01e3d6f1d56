"""The canvas view: zoom around the cursor, pan, box select, fit, drops from the palette, search."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from kinograph.api import Node
from kinograph.gui import theme
from kinograph.gui.items.link_item import LinkItem
from kinograph.gui.items.node_item import NodeItem
from kinograph.gui.items.port_item import PortItem
from kinograph.gui.minimap import Minimap
from kinograph.gui.palette import MIME_NODE_TYPE, subgraph_source
from kinograph.gui.placement import free_spot
from kinograph.gui.scene import GraphScene
from kinograph.gui.search import NodeSearch

MIN_ZOOM, MAX_ZOOM = 0.1, 4.0
#: What an empty canvas says (File ▸ Open Example has ready-made graphs).
EMPTY_HINT = ("Tab (or Space) adds a node\n"
              "Drag from a port to link it\n"
              "F1 lists the keys · File \u25b8 Open Example opens a ready-made graph")
#: The wheel zooms out to MIN_ZOOM, or further when that is what it takes to see the whole graph
#: (a 200-node graph after auto-layout is wider than 10 screens); never below this.
FLOOR_ZOOM = 0.005


class GraphView(QGraphicsView):
    """Shows a :class:`GraphScene`; holds the node search box."""

    #: A file was dropped on the canvas (path): the window opens it.
    file_dropped = Signal(str)

    def __init__(self, scene: GraphScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.search = NodeSearch(scene.registry, self)
        self.search.chosen.connect(self._place_searched)
        self._search_at = QPointF()
        self._search_link: tuple[str, str] | None = None
        self._pan_from: QPoint | None = None
        self._space_down = False
        self._space_panned = False
        self.last_scene_pos = QPointF()
        self._kept_selection: list = []
        self._rubber_band = False
        #: Fit the whole graph again on every resize until the user moves the view: a file
        #: opened before the window is laid out (docks sized, shown) would otherwise end up
        #: fitted to a viewport of another size, with nodes cut off at the edges.
        self._fit_pending = False
        scene.search_requested.connect(self.open_link_search)
        self.minimap = Minimap(self)
        self._hint_shown = True
        scene.changed.connect(lambda _rects: self._scene_changed())

    # -- zoom, pan, fit --

    def zoom(self) -> float:
        return self.transform().m11()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        self._fit_pending = False
        factor = 1.15 ** steps
        factor = max(self.min_zoom() / self.zoom(), min(MAX_ZOOM / self.zoom(), factor))
        # Keep the canvas point under the cursor still (the event's position, not QCursor's).
        pixel = event.position().toPoint()
        fixed = self.mapToScene(pixel)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._pan_by(pixel - self.mapFromScene(fixed))

    def fit(self, everything: bool = False) -> None:
        """Fit the selection (or, with ``everything`` or nothing selected, the whole graph) in
        view, never zooming in past 100%; any graph fits, however big."""
        rect = QRectF() if everything else self._items_rect(self.graph_scene.selectedItems())
        if rect.isNull():
            rect = self.graph_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-40, -40, 40, 40)
        room = rect.adjusted(-20000, -20000, 20000, 20000)  # the view scrolls only within the scene rect
        if not self.graph_scene.sceneRect().contains(room):
            self.graph_scene.setSceneRect(self.graph_scene.sceneRect().united(room))
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
        elif self.zoom() < FLOOR_ZOOM:
            self.resetTransform()
            self.scale(FLOOR_ZOOM, FLOOR_ZOOM)
        self.centerOn(rect.center())
        self.minimap.refresh()

    def frame_all(self) -> None:
        """Home: the whole graph in view, whatever is selected."""
        self.fit(everything=True)

    def fit_when_laid_out(self) -> None:
        """Fit everything now and again whenever the view is resized, until the user moves it."""
        self.fit(everything=True)
        self._fit_pending = True

    def graph_rect(self) -> QRectF:
        """The canvas area the graph covers (nodes with what hangs under them, frames, dots)."""
        scene = self.graph_scene
        rect = QRectF()
        for node in scene.node_items.values():
            rect = rect.united(node.sceneBoundingRect())
            for child in node.childItems():  # a run thumbnail hangs under it (ports sit on its edge)
                if child.isVisible() and not isinstance(child, PortItem):
                    rect = rect.united(child.sceneBoundingRect())
        for item in [*scene.frame_items, *scene.reroute_items]:
            rect = rect.united(item.sceneBoundingRect())
        return rect

    @staticmethod
    def _items_rect(items: list[QGraphicsItem]) -> QRectF:
        rect = QRectF()
        for item in items:
            if item.isVisible():
                rect = rect.united(_shown_rect(item))
        return rect

    def min_zoom(self) -> float:
        """How far the wheel zooms out: MIN_ZOOM, or as far as seeing the whole graph takes."""
        rect = self.graph_rect()
        viewport = self.viewport().rect()
        if rect.isNull() or rect.width() <= 0 or rect.height() <= 0:
            return MIN_ZOOM
        whole = min(viewport.width() / (rect.width() + 80), viewport.height() / (rect.height() + 80))
        return max(FLOOR_ZOOM, min(MIN_ZOOM, whole * 0.8))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_pending:
            self.fit(everything=True)
        self._refresh_minimap(place=True)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self._refresh_minimap()

    def _scene_changed(self) -> None:
        try:
            hint = self.showing_hint()
            if hint != self._hint_shown:  # the hint covers the middle: repaint all of it
                self._hint_shown = hint
                self.viewport().update()
        except (RuntimeError, AttributeError):  # torn down at exit (see _refresh_minimap)
            return
        self._refresh_minimap()

    def _refresh_minimap(self, place: bool = False) -> None:
        # Qt calls scrollContentsBy while it tears the scene down at exit, when the minimap may
        # be gone: an exception escaping from here then crashes PySide (a segfault at exit).
        try:
            if place:
                self.minimap.place()
            self.minimap.refresh()
        except (RuntimeError, AttributeError):
            pass

    # -- an empty canvas says how to start --

    def showing_hint(self) -> bool:
        """Whether the canvas is empty, so it shows how to begin."""
        scene = self.graph_scene
        return not scene.node_items and not scene.frame_items

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if not self.showing_hint():
            return
        painter.save()
        painter.resetTransform()  # in the viewport's pixels, whatever the zoom
        area = QRectF(self.viewport().rect()).adjusted(40, 40, -40, -40)
        font = QFont(painter.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        painter.setFont(font)
        painter.setPen(theme.NODE_SUBTEXT)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_HINT)
        painter.restore()

    def _pan_by(self, delta: QPoint) -> None:
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._fit_pending = False
        self.last_scene_pos = self.mapToScene(event.position().toPoint())
        if self.search.isVisible() and not self.search.geometry().contains(event.position().toPoint()):
            self.search.hide()
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_down
        ):
            self._pan_from = event.position().toPoint()
            self._space_panned = True
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            # Ctrl+drag cuts links: no rubber band at the same time.
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self._kept_selection = []
        self._rubber_band = self.itemAt(event.position().toPoint()) is None
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and self._rubber_band:
            # Shift+box select adds to the selection (Qt would replace it).
            self._kept_selection = list(self.graph_scene.selectedItems())
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.last_scene_pos = self.mapToScene(event.position().toPoint())
        if self._pan_from is not None:
            point = event.position().toPoint()
            self._pan_by(point - self._pan_from)
            self._pan_from = point
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        if self._rubber_band:
            # A box selects nodes (and dots, frames); links crossing it stay unselected, so
            # Delete after a box select never removes links between nodes outside the box.
            for item in self.graph_scene.selectedItems():
                if isinstance(item, LinkItem):
                    item.setSelected(False)
            self._rubber_band = False
        for item in self._kept_selection:
            item.setSelected(True)
        self._kept_selection = []

    # -- keys: Tab / Space search, Space+drag pan --

    def event(self, event: QEvent) -> bool:
        # Tab must open the search (or enter a selected group) instead of moving the focus on.
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Tab
                and not self.graph_scene.editing_text()):
            scene = self.graph_scene
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                scene.exit_group_requested.emit()  # Ctrl+Tab: up one level, as in Blender
                return True
            ids = scene.selected_node_ids()
            item = scene.node_items.get(ids[0]) if len(ids) == 1 else None
            if item is not None and item.is_group and not item.missing:
                scene.enter_group_requested.emit(item.node_id)  # Tab on a group enters it
                return True
            self.open_search()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self._fit_pending = False
        if self.graph_scene.editing_text():  # typing in a note: Space is a space
            super().keyPressEvent(event)
            return
        if event.key() == Qt.Key.Key_Escape and self.graph_scene.cancel_gesture():
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down, self._space_panned = True, False
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and not self.graph_scene.editing_text():
            # Only a Space pressed on the canvas opens the search: the release of one typed in
            # the search box (or another child) must not reopen it and wipe the query.
            tapped = self._space_down and not self._space_panned
            self._space_down = self._space_panned = False
            if tapped:
                self.open_search()
            return
        super().keyReleaseEvent(event)

    # -- search --

    def cursor_scene_pos(self) -> QPointF:
        """Where the mouse is on the canvas (the view centre when it is outside)."""
        local = self.viewport().mapFromGlobal(self.cursor().pos())
        if self.viewport().rect().contains(local):
            return self.mapToScene(local)
        return self.mapToScene(self.viewport().rect().center())

    def cursor_in_view(self) -> bool:
        """Whether the mouse is over the canvas (not over a toolbar, a dock or another window)."""
        return self.viewport().rect().contains(self.viewport().mapFromGlobal(self.cursor().pos()))

    def free_point(self, near: QPointF, size: tuple[float, float] = (200.0, 130.0)) -> QPointF:
        """``near``, or the closest spot around it where a new node would not cover another one."""
        return free_spot(near, size, [item.sceneBoundingRect() for item in self.graph_scene.node_items.values()])

    def place_node(self, add: Callable[[], str | None], text: str) -> str | None:
        """Add a node with ``add`` (returns its id) where it covers no other node: moved to the
        nearest free spot when it would land on one. One undo step."""
        editor = self.graph_scene.editor
        count = editor.stack.count()
        editor.stack.beginMacro(text)
        node_id = None
        try:
            node_id = add()
            item = self.graph_scene.node_items.get(node_id) if node_id else None
            if item is not None:
                others = [i.sceneBoundingRect() for i in self.graph_scene.node_items.values() if i is not item]
                spot = free_spot(item.pos(), (item.width, item.height), others)
                if spot != item.pos():
                    old = editor.graph.nodes[item.node_id].ui.get("pos")
                    editor.move({item.node_id: (old, [round(spot.x(), 1), round(spot.y(), 1)])})
        finally:
            editor.stack.endMacro()
        if not node_id and editor.stack.count() == count + 1 and editor.stack.command(count) is not None:
            editor.stack.command(count).setObsolete(True)  # nothing was added: no empty step in the history
            editor.stack.undo()
        if node_id:
            self.select_only([node_id])
        return node_id

    def _title(self, type_id: str) -> str:
        cls = self.graph_scene.registry.node(type_id)
        return cls.title() if cls is not None else type_id.rsplit(".", 1)[-1]

    def open_search(self, at: QPointF | None = None) -> None:
        if at is None:
            # Keyboard or toolbar with the mouse elsewhere: the view centre, but not on a node.
            at = self.cursor_scene_pos() if self.cursor_in_view() else self.free_point(self.cursor_scene_pos())
        self._search_at = at
        self._search_link = None
        point = self.mapFromScene(self._search_at)
        self.search.open((point.x(), point.y()))

    def open_link_search(self, at: QPointF, port_ref: str, direction: str) -> None:
        """A link dropped on empty canvas: offer node types with a port that can take it."""
        self._search_at = at
        self._search_link = (port_ref, direction)
        graph = self.graph_scene.graph
        node_id, _, port = port_ref.partition(".")
        type_name = graph.port_type(node_id, port, direction)
        ports = graph.registry.ports

        def fits(cls: type[Node]) -> bool:
            if type_name is None:
                return True
            if direction == "output":
                return any(ports.compatible(type_name, p.type) for p in cls.inputs)
            return any(ports.compatible(p.type, type_name) for p in cls.outputs)

        point = self.mapFromScene(at)
        hint = f"Nodes that {'take' if direction == 'output' else 'give'} {type_name or 'it'}"
        self.search.open((point.x(), point.y()), fits, hint)

    def _place_searched(self, type_id: str) -> None:
        editor = self.graph_scene.editor
        pos = (round(self._search_at.x(), 1), round(self._search_at.y(), 1))
        if subgraph_source(type_id) is not None:
            self._search_link = None
            self.place_subgraph(type_id, pos)
            self.setFocus()
            return
        link = self._search_link
        self._search_link = None
        if link is not None:
            port_ref, direction = link
            if direction == "input":
                pos = (pos[0] - 200.0, pos[1])
            self.place_node(lambda: editor.add_node_connected(type_id, pos, port_ref, direction),
                            f"Add {self._title(type_id)} and connect")
        else:
            self.place_node(lambda: editor.add_node(type_id, pos), f"Add {self._title(type_id)}")
        self.setFocus()

    def select_only(self, node_ids: list[str]) -> None:
        scene = self.graph_scene
        scene.clearSelection()
        for node_id in node_ids:
            item = scene.node_items.get(node_id)
            if item is not None:
                item.setSelected(True)

    # -- drops from the palette --

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(MIME_NODE_TYPE) or event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(MIME_NODE_TYPE) or event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files and not event.mimeData().hasFormat(MIME_NODE_TYPE):
            # A graph or output file dropped from the file manager opens (after the unsaved prompt).
            self.file_dropped.emit(files[0])
            event.acceptProposedAction()
            return
        if not event.mimeData().hasFormat(MIME_NODE_TYPE):
            super().dropEvent(event)
            return
        type_id = bytes(event.mimeData().data(MIME_NODE_TYPE).data()).decode()
        point = self.mapToScene(event.position().toPoint())
        pos = (round(point.x(), 1), round(point.y(), 1))
        if subgraph_source(type_id) is not None:
            self.place_subgraph(type_id, pos)
        else:
            self.place_node(lambda: self.graph_scene.editor.add_node(type_id, pos), f"Add {self._title(type_id)}")
        event.acceptProposedAction()

    def place_subgraph(self, entry: str, pos: tuple[float, float]) -> str | None:
        """Add a group using the reusable subgraph a palette or search entry names."""
        errors: list[str] = []

        def add() -> str | None:
            node_id, error = self.graph_scene.editor.add_subgraph(subgraph_source(entry) or "", pos)
            if error is not None:
                errors.append(error)
            return node_id

        node_id = self.place_node(add, f"Add {subgraph_source(entry)}")
        if errors:
            self.graph_scene.status.emit(f"Cannot add the subgraph: {errors[0]}")
        return node_id

    def node_at(self, point: QPoint) -> NodeItem | None:
        for item in self.items(point):
            if isinstance(item, NodeItem):
                return item
        return None


def _shown_rect(item: QGraphicsItem) -> QRectF:
    """The scene rect an item covers with its visible children (run thumbnails hang below nodes)."""
    rect = item.sceneBoundingRect()
    for child in item.childItems():
        if child.isVisible():
            rect = rect.united(_shown_rect(child))
    return rect
