"""The node palette: node types by category (descriptions as tooltips), dragged onto the canvas.

Reusable subgraph files (the user's folder and those plugins ship) are listed like node types,
with their version; their entries carry ``subgraph:SOURCE`` where a node's carry its type id
(a type id never holds a colon).
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from kinograph.gui import theme
from kinograph.gui.search import search_nodes, search_subgraphs
from kinograph.host import LibraryEntry, Registry, subgraph_library

MIME_NODE_TYPE = "application/x-kinograph-node-type"
#: what a palette or search entry of a reusable subgraph carries instead of a type id
SUBGRAPH_PREFIX = "subgraph:"


def subgraph_source(entry: str) -> str | None:
    """The subgraph source an entry names (``subgraph:user:x.json``), or None for a node type."""
    return entry[len(SUBGRAPH_PREFIX):] if entry.startswith(SUBGRAPH_PREFIX) else None


class NodeTree(QTreeWidget):
    """The tree itself; dragging an entry carries its type id."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setRootIsDecorated(True)

    def mime_for(self, item: QTreeWidgetItem) -> QMimeData | None:
        type_id = item.data(0, Qt.ItemDataRole.UserRole)
        if not type_id:
            return None
        mime = QMimeData()
        mime.setData(MIME_NODE_TYPE, type_id.encode())
        mime.setText(type_id)
        return mime

    def startDrag(self, supported: Qt.DropAction) -> None:
        item = self.currentItem()
        mime = self.mime_for(item) if item else None
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Filterable list of every installed node type; double-click places one at the view centre."""

    activated = Signal(str)

    def __init__(self, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter nodes…")
        self.filter.setClearButtonEnabled(True)
        self.tree = NodeTree(self)
        self.subgraphs: list[LibraryEntry] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self.filter.textChanged.connect(self.refresh)
        self.tree.itemActivated.connect(self._activate)
        self.reload_subgraphs()

    def reload_subgraphs(self) -> None:
        """Read the subgraph library again (after Save as reusable, or files added by hand)."""
        self.subgraphs = subgraph_library(self.registry)
        self.refresh()

    def refresh(self) -> None:
        self.tree.clear()
        categories: dict[str, QTreeWidgetItem] = {}

        def category(name: str) -> QTreeWidgetItem:
            parent = categories.get(name)
            if parent is None:
                parent = QTreeWidgetItem([f"{theme.category_glyph(name)}  {name}"])
                parent.setForeground(0, theme.category_color(name).lighter(170))
                parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
                categories[name] = parent
                self.tree.addTopLevelItem(parent)
            return parent

        for cls in sorted(search_nodes(self.registry, self.filter.text()), key=lambda c: (c.category, c.title())):
            parent = category(cls.category)
            item = QTreeWidgetItem([cls.title()])
            item.setData(0, Qt.ItemDataRole.UserRole, cls.type_id)
            plugin = self.registry.node_plugin.get(cls.type_id)
            source = f" — from {plugin.name}" if plugin else ""
            item.setToolTip(0, f"<b>{cls.title()}</b> ({cls.type_id}){source}<br>{cls.description}")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            parent.addChild(item)
        for entry in search_subgraphs(self.subgraphs, self.filter.text()):
            item = QTreeWidgetItem([f"{theme.category_glyph('Subgraphs')} {entry.name}  v{entry.version}"])
            source = f" — from {entry.plugin}" if entry.plugin else " — yours"
            if entry.problem:
                item.setText(0, f"⚠ {entry.name}")
                item.setToolTip(0, f"<b>{entry.source}</b> cannot be used: {entry.problem}")
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            else:
                item.setData(0, Qt.ItemDataRole.UserRole, SUBGRAPH_PREFIX + entry.source)
                item.setToolTip(0, f"<b>{entry.name}</b> (subgraph {entry.source}, version {entry.version}){source}"
                                   f"<br>{entry.description}")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            category(entry.category).addChild(item)
        self.tree.expandAll()

    def item_for(self, type_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, Qt.ItemDataRole.UserRole) == type_id:
                    return top.child(j)
        return None

    def _activate(self, item: QTreeWidgetItem) -> None:
        type_id = item.data(0, Qt.ItemDataRole.UserRole)
        if type_id:
            self.activated.emit(type_id)
