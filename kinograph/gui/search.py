"""Node search: a box at the cursor that filters node types by name, category and description."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from kinograph.api import Node
from kinograph.gui import theme
from kinograph.host import LibraryEntry, Registry


def match_score(cls: type[Node], words: list[str]) -> int | None:
    """How well a node type matches the typed words (lower is better), or None for no match."""
    name = cls.title().lower()
    haystack = " ".join([name, cls.type_id.lower(), cls.category.lower(), cls.description.lower()])
    if not all(word in haystack for word in words):
        return None
    if not words:
        return 3
    first = words[0]
    if name.startswith(first):
        return 0
    if first in name:
        return 1
    return 2


def search_nodes(registry: Registry, text: str,
                 accept: Callable[[type[Node]], bool] | None = None) -> list[type[Node]]:
    """Node types matching ``text``, best first (then by category and name)."""
    words = text.lower().split()
    found = []
    for cls in registry.nodes.values():
        if accept is not None and not accept(cls):
            continue
        score = match_score(cls, words)
        if score is not None:
            found.append((score, cls.category, cls.title(), cls))
    found.sort(key=lambda row: row[:3])
    return [row[3] for row in found]


def search_subgraphs(entries: list[LibraryEntry], text: str) -> list[LibraryEntry]:
    """Reusable subgraphs matching ``text`` (name, category, description, source), best first."""
    words = text.lower().split()
    found = []
    for entry in entries:
        name = entry.name.lower()
        haystack = " ".join([name, entry.category.lower(), entry.description.lower(), entry.source.lower(), "subgraph"])
        if not all(word in haystack for word in words):
            continue
        score = 3 if not words else 0 if name.startswith(words[0]) else 1 if words[0] in name else 2
        found.append((score, entry.category, entry.name, entry))
    found.sort(key=lambda row: row[:3])
    return [row[3] for row in found]


class NodeSearch(QFrame):
    """The search box: type to filter, arrows to choose, Enter places the node, Esc closes."""

    chosen = Signal(str)

    def __init__(self, registry: Registry, parent: QWidget) -> None:
        super().__init__(parent)
        self.registry = registry
        self.accept_filter: Callable[[type[Node]], bool] | None = None
        #: the reusable subgraphs to offer too (the window hands the palette's list)
        self.subgraphs: Callable[[], list[LibraryEntry]] = list
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("NodeSearch { background: #2a2d33; border: 1px solid #5b8bd0; border-radius: 4px; }")
        self.hint = QLabel("", self)
        self.hint.setProperty("role", "hint")
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Search nodes…")
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.hint)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.setFixedWidth(360)
        self.edit.textChanged.connect(self.refresh)
        self.edit.returnPressed.connect(self.accept_current)
        self.list.itemActivated.connect(lambda _item: self.accept_current())
        self.edit.installEventFilter(self)
        self.hide()

    def open(self, at: tuple[int, int], accept: Callable[[type[Node]], bool] | None = None, hint: str = "") -> None:
        """Show at ``at`` (parent coordinates), optionally limited to node types ``accept`` allows."""
        self.accept_filter = accept
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        parent = self.parentWidget()
        x = max(0, min(at[0], parent.width() - self.width())) if parent else at[0]
        y = max(0, min(at[1], parent.height() - self.height())) if parent else at[1]
        self.move(x, y)
        self.edit.clear()
        self.refresh()
        self.show()
        self.raise_()
        self.edit.setFocus()

    def refresh(self) -> None:
        self.list.clear()
        for cls in search_nodes(self.registry, self.edit.text(), self.accept_filter):
            item = QListWidgetItem(f"{theme.category_glyph(cls.category)}  {cls.title()}    — {cls.category}")
            item.setData(Qt.ItemDataRole.UserRole, cls.type_id)
            item.setToolTip(f"{cls.type_id}\n{cls.description}")
            self.list.addItem(item)
        if self.accept_filter is None:  # a link dropped on the canvas asks for node types that fit
            for entry in search_subgraphs([e for e in self.subgraphs() if not e.problem], self.edit.text()):
                item = QListWidgetItem(f"{theme.category_glyph('Subgraphs')}  {entry.name}  v{entry.version}    — {entry.category}")
                item.setData(Qt.ItemDataRole.UserRole, f"subgraph:{entry.source}")
                item.setToolTip(f"subgraph {entry.source}\n{entry.description}")
                self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        # Fit the list to its results (up to a dozen rows), so the box does not hide the canvas.
        rows = max(1, min(self.list.count(), 12))
        row_h = self.list.sizeHintForRow(0) if self.list.count() else 20
        self.list.setFixedHeight(rows * row_h + 8)
        self.adjustSize()

    def results(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def accept_current(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.hide()
        self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        event.accept()  # a key the box does not use must not reach the canvas behind it

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        event.accept()  # nor its release (a Space released here would reopen the search)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.hide()
                self.parentWidget().setFocus()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.list.count() - 1, self.list.currentRow() + step))
                self.list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)
