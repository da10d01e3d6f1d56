"""The inspector: a form generated from the selected node's ``Params`` JSON Schema.

Numbers get spin boxes with the schema's bounds (and a slider for ``x-kinograph`` sliders),
enums combo boxes, bools check boxes, paths a file picker with the declared filters, colours a
colour picker. A value the node's Params refuse is shown inline with pydantic's message and
is not applied; every accepted change is one undo step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kinograph.gui import theme
from kinograph.gui.edits import GraphEditor
from kinograph.gui.path_notes import input_note, output_note
from kinograph.gui.wording import ZERO_WIDTH_SPACE, wrappable
from kinograph.host import SUBGRAPH_TYPE, XKEY, ChangeKind, GraphChange, InnerGraph, exposable_params

INT_LIMIT = 2**31 - 1
FLOAT_LIMIT = 1e12


def resolve(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """A property with ``$ref`` / single ``allOf`` resolved against the schema's ``$defs``."""
    defs = schema.get("$defs", {})
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        return {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    if "allOf" in prop and len(prop["allOf"]) == 1:
        inner = resolve(schema, prop["allOf"][0])
        return {**inner, **{k: v for k, v in prop.items() if k != "allOf"}}
    return prop



#: Words users know in capitals; pydantic's automatic titles would write "Crf" and "Fps".
ACRONYMS = frozenset({"crf", "fps", "id", "rgb", "rgba", "gpu", "cpu", "cuda", "lstm", "png", "jpeg", "jpg",
                      "mp4", "url", "hdr", "iou", "dpi", "ui"})


def param_label(name: str, title: str | None = None) -> str:
    """The label of a param in the inspector: its own title, or its name in words ("crf" -> "CRF")."""
    automatic = name.replace("_", " ").title()
    if title and title != automatic:
        return title  # the node's author chose it
    words = [w for w in name.split("_") if w]
    return " ".join(w.upper() if w.lower() in ACRONYMS else w.capitalize() for w in words) or name

class WrappingLabel(QLabel):
    """A message that wraps at the dock's edge, long paths included, instead of being cut off."""

    def __init__(self, role: str, parent: QWidget) -> None:
        super().__init__("", parent)
        self.setProperty("role", role)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Its width is the form's, never its own text's (a path would widen the form past the dock).
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def setText(self, text: str) -> None:  # type: ignore[override]
        super().setText(wrappable(text))

    def plain_text(self) -> str:
        return self.text().replace(ZERO_WIDTH_SPACE, "")


class Field:
    """One param's editor: the widget, how to show a value, the inline error and a note (where
    a file param's path leads)."""

    def __init__(self, widget: QWidget, show: Callable[[Any], None]) -> None:
        self.widget = widget
        self.show = show
        # Made with a parent: showing a label that has none opens it as a window of its own,
        # which takes the keyboard focus from the canvas (the form is built before it is shown).
        self.error = WrappingLabel("error", widget)
        self.error.hide()
        self.note = WrappingLabel("hint", widget)
        self.note.hide()

    def set_note(self, text: str | None, warning: bool = False) -> None:
        self.note.setText(text or "")
        self.note.setProperty("role", "error" if warning else "hint")
        self.note.style().unpolish(self.note)
        self.note.style().polish(self.note)
        self.note.setVisible(bool(text))


class Inspector(QScrollArea):
    """Shows and edits the params of one node (the single selected one), or the graph's name."""

    #: The shown node got a new id (the window selects it again under that id).
    renamed = Signal(str)
    #: A group's buttons: enter it, or save it as a reusable subgraph file (the window does both).
    enter_group = Signal(str)
    save_reusable = Signal(str)
    #: an edit was refused: why (the window shows it in the status bar)
    refused = Signal(str)

    def __init__(self, editor: GraphEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.graph = editor.graph
        self.node_id: str | None = None
        self.fields: dict[str, Field] = {}
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(260)
        self._unsubscribe = self.graph.subscribe(self._on_change)
        self.show_node(None)

    def set_editor(self, editor: GraphEditor) -> None:
        """Edit another graph level (entering or leaving a group)."""
        self._unsubscribe()
        self.editor = editor
        self.graph = editor.graph
        self._unsubscribe = self.graph.subscribe(self._on_change)
        self.show_node(None)

    # -- building --

    def show_node(self, node_id: str | None) -> None:
        """Build the form for ``node_id`` (None: a hint to select a node)."""
        self.node_id = node_id if node_id in self.graph.nodes else None
        self.fields = {}
        self.port_toggles: dict[str, QCheckBox] = {}
        self.group_toggles: dict[str, QCheckBox] = {}
        #: the "Rename…" button beside a param shown on the group, by inner param name
        self.group_renames: dict[str, QToolButton] = {}
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        if self.node_id is None:
            self._graph_form(layout)
            self._set_body(body)
            return
        node = self.graph.nodes[self.node_id]
        cls = self.graph.node_class(self.node_id)  # a group's class is made from its content
        title = QLabel(f"{theme.category_glyph(cls.category) if cls else '⚠'}  "
                       f"{cls.title() if cls else node.type}")
        title.setProperty("role", "title")
        layout.addWidget(title)
        sub = QLabel(f"{node.type} v{node.version}")
        sub.setProperty("role", "hint")
        sub.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(sub)
        layout.addLayout(self._id_row())
        if node.type == SUBGRAPH_TYPE:
            layout.addWidget(self._group_box(node, cls is not None))
        if cls is None:
            layout.addWidget(self._missing_box(node.plugin or {}, node.params, node.ref.source if node.ref else ""))
            self._set_body(body)
            return
        if cls.description:
            desc = QLabel(cls.description)
            desc.setWordWrap(True)
            desc.setProperty("role", "hint")
            layout.addWidget(desc)
        bypass = QCheckBox("Bypass")
        bypass.setToolTip("A bypassed node passes its first input of a matching type through to its output.")
        bypass.setChecked(node.bypass)
        bypass.toggled.connect(lambda _on: self.editor.toggle_bypass([self.node_id]))
        self.bypass_box = bypass
        layout.addWidget(bypass)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        schema = cls.Params.model_json_schema()
        required = set(schema.get("required", []))
        exposable = set(exposable_params(cls))
        feeding = {link.target_port: link for link in self.graph.links_into(self.node_id)}
        interface = self.graph.interface if isinstance(self.graph, InnerGraph) else None
        for name, raw in schema.get("properties", {}).items():
            prop = resolve(schema, raw)
            field = self._make_field(name, prop)
            self.fields[name] = field
            field.show(node.params.get(name))
            error = self.editor.param_error(self.node_id, name, node.params.get(name))
            if error is not None and name in node.params:
                # A value from the file that the node refuses: say so where it is edited.
                field.error.setText(error)
                field.error.show()
            label = QLabel(param_label(name, prop.get("title")) + (" *" if name in required else ""))
            tip = prop.get("description", "")
            if "default" in prop:
                tip += f"\nDefault: {json.dumps(prop['default'])}"
            label.setToolTip(tip.strip())
            field.widget.setToolTip(tip.strip())
            box = QWidget()
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(0, 0, 0, 0)
            box_layout.setSpacing(2)
            box_layout.addWidget(field.widget)
            box_layout.addWidget(field.error)
            box_layout.addWidget(field.note)
            if name in exposable:
                box_layout.addWidget(self._port_toggle(name, name in node.exposed, feeding.get(name)))
                if name in feeding:  # the link gives the value at run time
                    field.widget.setEnabled(False)
            if interface is not None:
                shown = interface.param_of(self.node_id, name)
                box_layout.addWidget(self._group_toggle(name, shown.name if shown else None))
                if shown is not None:  # the group's value is the one a run uses
                    field.widget.setEnabled(False)
            form.addRow(label, box)
        layout.addLayout(form)
        if not self.fields:
            none = QLabel("This node has no params.")
            none.setProperty("role", "hint")
            layout.addWidget(none)
        self._set_body(body)

    def _port_toggle(self, name: str, exposed: bool, link: Any) -> QWidget:
        """"As input port": the param shows as a port that a link can drive."""
        toggle = QCheckBox(f"linked from {link.source}" if link is not None else "as input port")
        toggle.setProperty("role", "hint")
        toggle.setChecked(exposed)
        toggle.setToolTip(
            "Show this param as an input port of the node: a link into it gives its value when the "
            "graph runs (the node checks the value like one typed here). Unticking removes the link."
        )
        node_id = self.node_id
        toggle.toggled.connect(lambda on: self.editor.set_param_port(node_id, name, on))
        self.port_toggles[name] = toggle
        return toggle

    def _group_toggle(self, name: str, shown_as: str | None) -> QWidget:
        """Inside a group: "on the group" shows the param on the group node (Houdini's promote)."""
        toggle = QCheckBox(f"set on the group as {shown_as}" if shown_as else "on the group")
        toggle.setProperty("role", "hint")
        toggle.setChecked(shown_as is not None)
        toggle.setToolTip(
            "Show this param on the group node: it is then set there (and from the command line with "
            "--set GROUP.PARAM=VALUE), and the group's value is the one a run uses."
        )
        node_id = self.node_id
        toggle.toggled.connect(lambda on: self.editor.show_on_group(node_id, name, on))
        self.group_toggles[name] = toggle
        if shown_as is None:
            return toggle
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(toggle)
        rename = QToolButton()
        rename.setText("Rename…")
        rename.setToolTip(f"Call {shown_as} something else on the group (its value and any link into it follow)")
        rename.clicked.connect(lambda: self.rename_group_param(shown_as))
        row_layout.addWidget(rename)
        row_layout.addStretch(1)
        self.group_renames[name] = rename
        return row

    def rename_group_param(self, shown_as: str, new: str | None = None) -> str | None:
        """Rename a param shown on the group (asked for when ``new`` is None); why not, or None."""
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename group param", f"New name for {shown_as}:", text=shown_as)
            if not ok:
                return None
        refusal = self.editor.rename_group_param(shown_as, new)
        if refusal is not None:
            self.refused.emit(refusal)
        return refusal

    def _group_box(self, node: Any, known: bool) -> QWidget:
        """A group's own page: where its graph comes from, and what can be done with it."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 4, 0, 4)
        if node.ref is not None:
            text = f"Uses the reusable subgraph <b>{node.ref.source}</b> (version {node.ref.version})."
        else:
            text = "Its graph is kept in this file."
        info = QLabel(text)
        info.setWordWrap(True)
        info.setProperty("role", "hint")
        layout.addWidget(info)
        row = QHBoxLayout()
        node_id = node.id
        buttons = [("Enter (Tab)", lambda: self.enter_group.emit(node_id), known),
                   ("Ungroup", lambda: self.editor.ungroup([node_id]), known)]
        if node.ref is not None:
            buttons.append(("Make local", lambda: self.editor.set_subgraph_ref(node_id, None, f"Make {node_id} local"), known))
        else:
            buttons.append(("Save as reusable…", lambda: self.save_reusable.emit(node_id), known))
        for text, slot, enabled in buttons:
            button = QPushButton(text)
            button.setEnabled(enabled)
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(row)
        return box

    def _set_body(self, body: QWidget) -> None:
        # The old form may be mid-signal (an id edit that renamed the node): delete it later.
        old = self.takeWidget()
        if old is not None:
            old.hide()
            old.deleteLater()
        self.setWidget(body)

    def _id_row(self) -> QFormLayout:
        """The node's id, editable: it is how ``kinograph run --set ID.PARAM=...`` names it."""
        row = QFormLayout()
        self.id_edit = QLineEdit(self.node_id or "")
        self.id_edit.setToolTip("The node's id: links and `kinograph run --set ID.PARAM=VALUE` use it.")
        self.id_error = QLabel("")
        self.id_error.setProperty("role", "error")
        self.id_error.hide()
        box = QWidget()
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addWidget(self.id_edit)
        box_layout.addWidget(self.id_error)
        row.addRow(QLabel("Id"), box)

        def rename() -> None:
            if self.node_id is None:
                return
            old, new = self.node_id, self.id_edit.text().strip()
            error = self.editor.rename(old, new)
            self.id_error.setText(error or "")
            self.id_error.setVisible(error is not None)
            if error is None and new != old:
                self.renamed.emit(new)

        self.id_edit.editingFinished.connect(rename)
        return row

    def _graph_form(self, layout: QVBoxLayout) -> None:
        """With no node selected: the graph's own name and description."""
        title = QLabel("Graph")
        title.setProperty("role", "title")
        layout.addWidget(title)
        hint = QLabel("Select one node to edit its params.")
        hint.setProperty("role", "hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        form = QFormLayout()
        self.graph_name = QLineEdit(str(self.graph.meta.get("name", "")))
        self.graph_name.editingFinished.connect(lambda: self.editor.set_meta("name", self.graph_name.text()))
        self.graph_description = QPlainTextEdit(str(self.graph.meta.get("description", "")))
        self.graph_description.setFixedHeight(90)
        self.graph_description.textChanged.connect(
            lambda: self.editor.set_meta("description", self.graph_description.toPlainText()))
        form.addRow("Name", self.graph_name)
        form.addRow("Description", self.graph_description)
        layout.addLayout(form)
        self.graph_counts = QLabel(self._counts_text())
        self.graph_counts.setProperty("role", "hint")
        layout.addWidget(self.graph_counts)
        layout.addStretch(1)  # keep the fields together at the top of a tall dock

    def _counts_text(self) -> str:
        nodes, links = len(self.graph.nodes), len(self.graph.links)
        return f"{nodes} node{'s' if nodes != 1 else ''}, {links} link{'s' if links != 1 else ''}"

    def _missing_box(self, plugin: dict[str, Any], params: dict[str, Any], subgraph: str = "") -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 6, 0, 0)
        package = plugin.get("dist") or plugin.get("name")
        text = ("No installed plugin provides this node type. "
                + (f"Install the package <b>{package}</b>" if package else "Install the plugin that provides it")
                + (f" (version {plugin['version']})" if plugin.get("version") else "")
                + ". Its params are kept and saved unchanged.")
        if subgraph:
            text = (f"The subgraph file <b>{subgraph}</b> was not found (in the subgraphs folder or an installed "
                    "package). The group is kept and saved unchanged.")
        label = QLabel(text)
        label.setWordWrap(True)
        label.setProperty("role", "error")
        layout.addWidget(label)
        raw = QPlainTextEdit(json.dumps(params, indent=2))
        raw.setReadOnly(True)
        layout.addWidget(raw)
        return box

    def _make_field(self, name: str, prop: dict[str, Any]) -> Field:
        ui = prop.get(XKEY, {})
        widget_kind = ui.get("widget")
        kind = prop.get("type")
        if "enum" in prop:
            return self._combo(name, prop["enum"])
        if kind == "boolean":
            return self._check(name)
        if kind in ("integer", "number"):
            return self._number(name, prop, integer=kind == "integer", slider=widget_kind == "slider")
        if kind == "string" and widget_kind in ("input_path", "output_path"):
            return self._path(name, ui, save=widget_kind == "output_path")
        if kind == "string" and widget_kind == "color":
            return self._color(name)
        if kind == "string":
            return self._text(name, str)
        return self._text(name, None)  # anything else: JSON text

    def _commit(self, name: str, value: Any) -> None:
        if self.node_id is None:
            return
        error = self.editor.set_param(self.node_id, name, value)
        field = self.fields.get(name)
        if field is None:
            return
        field.error.setText(error or "")
        field.error.setVisible(error is not None)

    # -- widgets by kind --

    def _combo(self, name: str, options: list[Any]) -> Field:
        combo = QComboBox()
        for option in options:
            combo.addItem(str(option), option)
        combo.currentIndexChanged.connect(lambda i: self._commit(name, combo.itemData(i)))

        def show(value: Any) -> None:
            combo.blockSignals(True)
            index = combo.findData(value)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)

        return Field(combo, show)

    def _check(self, name: str) -> Field:
        check = QCheckBox()
        check.toggled.connect(lambda on: self._commit(name, bool(on)))

        def show(value: Any) -> None:
            check.blockSignals(True)
            check.setChecked(bool(value))
            check.blockSignals(False)

        return Field(check, show)

    def _number(self, name: str, prop: dict[str, Any], integer: bool, slider: bool) -> Field:
        low = prop.get("minimum", prop.get("exclusiveMinimum"))
        high = prop.get("maximum", prop.get("exclusiveMaximum"))
        step = prop.get(XKEY, {}).get("step")
        if integer:
            spin: QSpinBox | QDoubleSpinBox = QSpinBox()
            lo = int(low) + (1 if "exclusiveMinimum" in prop and "minimum" not in prop else 0) if low is not None else -INT_LIMIT
            hi = int(high) - (1 if "exclusiveMaximum" in prop and "maximum" not in prop else 0) if high is not None else INT_LIMIT
            spin.setRange(max(lo, -INT_LIMIT), min(hi, INT_LIMIT))
            spin.setSingleStep(int(step or 1))
        else:
            spin = QDoubleSpinBox()
            spin.setDecimals(4)
            spin.setRange(float(low) if low is not None else -FLOAT_LIMIT, float(high) if high is not None else FLOAT_LIMIT)
            spin.setSingleStep(float(step or 0.1))
        spin.setKeyboardTracking(False)  # commit typed numbers on Enter, not every keystroke
        spin.setAccelerated(True)
        spin.valueChanged.connect(lambda v: self._commit(name, int(v) if integer else float(v)))
        widget: QWidget = spin
        bar: QSlider | None = None
        if slider and low is not None and high is not None:
            widget = QWidget()
            row = QHBoxLayout(widget)
            row.setContentsMargins(0, 0, 0, 0)
            bar = QSlider(Qt.Orientation.Horizontal)
            scale = 1 if integer else 1000 / max(float(high) - float(low), 1e-9)
            bar.setRange(int(float(low) * scale), int(float(high) * scale))
            # Every step of a drag is applied (one undo step: consecutive values merge), so the
            # node and, with live updates on, the viewer follow the slider as it moves.
            bar.valueChanged.connect(lambda v: spin.setValue(v / scale if not integer else v))
            row.addWidget(bar, 2)
            row.addWidget(spin, 1)
            spin.setObjectName(f"{name}_spin")
            widget.spin = spin  # type: ignore[attr-defined]

        def show(value: Any) -> None:
            spin.blockSignals(True)
            if isinstance(value, int | float):
                spin.setValue(value)
            spin.blockSignals(False)
            if bar is not None and isinstance(value, int | float):
                bar.blockSignals(True)
                bar.setValue(int(value * (1 if integer else 1000 / max(float(high) - float(low), 1e-9))))
                bar.blockSignals(False)

        return Field(widget, show)

    def _text(self, name: str, kind: type | None) -> Field:
        edit = QLineEdit()

        def commit() -> None:
            text = edit.text()
            if kind is str:
                self._commit(name, text)
                return
            try:
                value = json.loads(text) if text.strip() else None
            except json.JSONDecodeError as exc:
                field.error.setText(f"not valid JSON: {exc.msg}")
                field.error.show()
                return
            self._commit(name, value)

        edit.editingFinished.connect(commit)

        def show(value: Any) -> None:
            edit.blockSignals(True)
            edit.setText(value if kind is str and isinstance(value, str) else
                         ("" if value is None else json.dumps(value)))
            edit.blockSignals(False)

        field = Field(edit, show)
        return field

    def _path(self, name: str, ui: dict[str, Any], save: bool) -> Field:
        widget = QWidget()
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        edit = QLineEdit()
        edit.setPlaceholderText("folder" if ui.get("folder") else "file")
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose a folder" if ui.get("folder") else "Choose a file")
        row.addWidget(edit, 1)
        row.addWidget(browse)
        def commit() -> None:
            self._commit(name, edit.text())
            self._path_note(field, edit.text(), ui, save)

        edit.editingFinished.connect(commit)

        def pick() -> None:
            filters = ";;".join(ui.get("filters") or []) + ";;All files (*)"
            start = edit.text() or (str(self.graph.base_dir) if self.graph.base_dir else "")
            if ui.get("folder"):
                chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
            elif save:
                chosen, _ = QFileDialog.getSaveFileName(self, "Write to", start, filters.lstrip(";"))
            else:
                chosen, _ = QFileDialog.getOpenFileName(self, "Read from", start, filters.lstrip(";"))
            if chosen:
                edit.setText(_relative_to(chosen, self.graph.base_dir))
                commit()

        browse.clicked.connect(pick)
        widget.edit = edit  # type: ignore[attr-defined]

        def show(value: Any) -> None:
            edit.blockSignals(True)
            edit.setText("" if value is None else str(value))
            edit.blockSignals(False)
            self._path_note(field, edit.text(), ui, save)

        field = Field(widget, show)
        return field

    def _path_note(self, field: Field, value: str, ui: dict[str, Any], save: bool) -> None:
        """Say at once when an input file is not there, and where a relative output goes."""
        base_dir = getattr(self.graph, "base_dir", None)
        if save:
            field.set_note(output_note(value, base_dir))
        else:
            field.set_note(input_note(value, base_dir, must_exist=ui.get("must_exist", True),
                                      folder=bool(ui.get("folder"))), warning=True)

    def _color(self, name: str) -> Field:
        widget = QWidget()
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        swatch = QToolButton()
        swatch.setFixedWidth(32)
        edit = QLineEdit()
        edit.setPlaceholderText("#rrggbb")
        row.addWidget(swatch)
        row.addWidget(edit, 1)
        edit.editingFinished.connect(lambda: self._commit(name, edit.text()))

        def pick() -> None:
            color = QColorDialog.getColor(QColor(edit.text() or "#000000"), self, "Choose a colour")
            if color.isValid():
                edit.setText(color.name())
                self._commit(name, color.name())

        swatch.clicked.connect(pick)
        widget.edit = edit  # type: ignore[attr-defined]

        def show(value: Any) -> None:
            edit.blockSignals(True)
            edit.setText(str(value or ""))
            edit.blockSignals(False)
            if isinstance(value, str) and QColor(value).isValid():
                swatch.setStyleSheet(f"background: {value}; border: 1px solid #555;")

        return Field(widget, show)

    # -- following the graph --

    def _on_change(self, change: GraphChange) -> None:
        if change.kind in ("node_added", "node_removed", "link_added", "link_removed") and self.node_id is None:
            self.graph_counts.setText(self._counts_text())  # the graph page is showing: keep it true
        if change.kind == "reset" or (change.kind == "node_removed" and change.node_id == self.node_id):
            self.show_node(None)
        elif change.kind == "meta_changed" and self.node_id is None and change.name in ("name", "description"):
            widget = self.graph_name if change.name == "name" else self.graph_description
            text = str(change.value or "")
            current = widget.text() if isinstance(widget, QLineEdit) else widget.toPlainText()
            if current != text:
                widget.blockSignals(True)
                widget.setText(text) if isinstance(widget, QLineEdit) else widget.setPlainText(text)
                widget.blockSignals(False)
        elif change.node_id == self.node_id and self.node_id is not None:
            if change.kind in (ChangeKind.PARAM_EXPOSED, ChangeKind.SUBGRAPH_CHANGED, ChangeKind.INTERFACE_CHANGED) or (
                change.kind in (ChangeKind.LINK_ADDED, ChangeKind.LINK_REMOVED)
                and change.link is not None
                and change.link.target_port in self.port_toggles
            ):
                QTimer.singleShot(0, lambda node_id=self.node_id: self.show_node(node_id))  # after the toggle's signal
            elif change.kind == "param_changed" and change.name in self.fields:
                field = self.fields[change.name]
                field.show(self.graph.nodes[self.node_id].params.get(change.name))
                field.error.hide()
            elif change.kind == "bypass_changed" and hasattr(self, "bypass_box"):
                self.bypass_box.blockSignals(True)
                self.bypass_box.setChecked(bool(change.value))
                self.bypass_box.blockSignals(False)

    def close(self) -> bool:
        self._unsubscribe()
        return super().close()


def _relative_to(path: str, base: Any) -> str:
    """Paths inside the graph's folder are stored relative, so the graph folder can move."""
    import os

    if base is None:
        return path
    try:
        rel = os.path.relpath(path, base)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
