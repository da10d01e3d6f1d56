"""The inspector is built from the Params JSON Schema; refused values show pydantic's message."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QLineEdit, QSpinBox


def _select(window, type_id: str) -> str:
    node_id = window.editor.add_node(type_id, (0, 0))
    window.view.select_only([node_id])
    assert window.inspector.node_id == node_id
    return node_id


def test_widgets_follow_the_schema(window) -> None:
    _select(window, "guitest.styled")
    fields = window.inspector.fields
    assert list(fields) == ["tint", "mode", "enabled", "strength", "count", "source", "target", "label"]
    assert isinstance(fields["mode"].widget, QComboBox)
    assert [fields["mode"].widget.itemText(i) for i in range(2)] == ["fast", "best"]
    assert isinstance(fields["enabled"].widget, QCheckBox) and fields["enabled"].widget.isChecked()
    spin = fields["strength"].widget.spin
    assert isinstance(spin, QDoubleSpinBox) and (spin.minimum(), spin.maximum()) == (0.0, 1.0)
    assert spin.value() == 0.5
    assert isinstance(fields["count"].widget, QSpinBox) and fields["count"].widget.value() == 3
    assert isinstance(fields["label"].widget, QLineEdit)
    assert fields["source"].widget.edit.placeholderText() == "file"
    assert fields["tint"].widget.edit.text() == "#ff8800"
    assert "How strong." in fields["strength"].widget.toolTip()


def test_bounded_spin_box_edits_the_graph_and_undoes(window) -> None:
    node_id = _select(window, "kinograph.frames.test_pattern")
    spin = window.inspector.fields["width"].widget.spin
    assert spin.minimum() == 16 and spin.maximum() == 7680
    spin.setValue(641)
    assert window.graph.nodes[node_id].params["width"] == 641
    window.stack.undo()
    assert window.graph.nodes[node_id].params["width"] == 320
    assert spin.value() == 320  # the form follows the graph


def test_combo_check_and_text_edits_apply(window) -> None:
    node_id = _select(window, "guitest.styled")
    fields = window.inspector.fields
    fields["mode"].widget.setCurrentIndex(1)
    fields["enabled"].widget.setChecked(False)
    edit = fields["label"].widget
    edit.setFocus()
    QTest.keyClicks(edit, "hello")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    params = window.graph.nodes[node_id].params
    assert (params["mode"], params["enabled"], params["label"]) == ("best", False, "hello")
    assert window.stack.count() == 4


def test_invalid_value_is_shown_inline_and_not_applied(window) -> None:
    node_id = _select(window, "guitest.styled")
    before = window.graph.to_json()
    field = window.inspector.fields["tint"]
    field.widget.edit.setText("orange")
    field.widget.edit.editingFinished.emit()
    expected = window.editor.param_error(node_id, "tint", "orange")
    # A sentence in the user's words, not pydantic's regular expression.
    assert expected and "not a colour" in expected and "#1a2b3c" in expected and "^#" not in expected
    assert field.error.isVisibleTo(window.inspector) and field.error.plain_text() == expected
    assert window.graph.to_json() == before
    field.widget.edit.setText("#00ff00")
    field.widget.edit.editingFinished.emit()
    assert window.graph.nodes[node_id].params["tint"] == "#00ff00"
    assert not field.error.isVisibleTo(window.inspector)


def test_missing_node_type_shows_what_to_install(window) -> None:
    from kinograph.core.graph import GraphNode

    window.graph.insert_node(GraphNode("ghost", "acme.ghost", 2, {"x": 1}, {"pos": [0, 0]}, False,
                                       {"name": "acme", "dist": "acme-nodes", "version": "1.2"}))
    window.view.select_only(["ghost"])
    labels = " ".join(label.text() for label in window.inspector.widget().findChildren(QLabel))
    assert "Install the package <b>acme-nodes</b>" in labels
    assert window.inspector.fields == {}  # nothing editable: params are kept as they are


def test_renaming_a_node_keeps_its_links_and_place_and_undoes_exactly(window) -> None:
    e = window.editor
    a = e.add_node("kinograph.frames.test_pattern", (0, 0))
    b = e.add_node("test.invert", (300, 0))
    c = e.add_node("test.collect", (600, 0))
    e.connect(f"{a}.frames", f"{b}.frames")
    e.connect(f"{b}.frames", f"{c}.frames")
    e.add_reroute(window.graph.links[0], 0, (150.0, 60.0))
    before = window.graph.to_json()
    window.stack.clear()
    window.view.select_only([b])
    edit = window.inspector.id_edit
    edit.setText("9 bad")
    edit.editingFinished.emit()
    assert window.inspector.id_error.isVisibleTo(window.inspector) and b in window.graph.nodes
    edit.setText("flip")
    edit.editingFinished.emit()
    QApplication.processEvents()
    assert list(window.graph.nodes) == [a, "flip", c]  # same place in the file
    assert [str(link) for link in window.graph.links] == [f"{a}.frames -> flip.frames", f"flip.frames -> {c}.frames"]
    assert list(window.graph.meta["editor"]["reroutes"]) == [f"{a}.frames->flip.frames"]
    assert window.inspector.node_id == "flip" and window.stack.count() == 1
    window.stack.undo()
    assert window.graph.to_json() == before


def test_graph_name_and_description_when_nothing_is_selected(window) -> None:
    window.scene.clearSelection()
    window.inspector.graph_name.setText("camera move")
    window.inspector.graph_name.editingFinished.emit()
    QTest.keyClicks(window.inspector.graph_description, "pans")
    assert window.graph.meta["name"] == "camera move" and window.graph.meta["description"] == "pans"
    assert window.stack.count() == 2  # typing the description is one step
    window.stack.undo()
    assert window.graph.meta["description"] == ""
    assert window.inspector.graph_description.toPlainText() == ""


def test_fixing_a_refused_value_from_the_file_undoes_back_to_it(window) -> None:
    node_id = window.editor.add_node("guitest.styled", (0, 0))
    window.graph.nodes[node_id].params["tint"] = "not a colour"
    before = window.graph.to_json()
    window.stack.clear()
    assert window.editor.set_param(node_id, "mode", "best").startswith("fix first: Tint: ")
    assert window.editor.set_param(node_id, "tint", "#112233") is None
    window.stack.undo()
    assert window.graph.to_json() == before
    window.stack.redo()
    assert window.graph.nodes[node_id].params["tint"] == "#112233"


def test_param_labels_read_as_words_with_known_acronyms_in_capitals(window) -> None:
    _select(window, "kinograph.video.write")
    labels = {label.text() for label in window.inspector.widget().findChildren(QLabel)}
    assert {"CRF", "If Exists", "Copy Audio"} <= labels
    assert "Crf" not in labels
    from kinograph.gui.inspector import param_label

    assert param_label("fps") == "FPS" and param_label("hidden_size") == "Hidden Size"
    assert param_label("fps", "Frames per second") == "Frames per second"  # a title the author chose wins


def test_graph_page_counts_follow_edits(window) -> None:
    window.scene.clearSelection()
    assert window.inspector.graph_counts.text() == "0 nodes, 0 links"
    a = window.editor.add_node("kinograph.frames.test_pattern", (0, 0))
    b = window.editor.add_node("test.invert", (300, 0))
    assert window.editor.connect(f"{a}.frames", f"{b}.frames") is None
    assert window.inspector.node_id is None and window.inspector.graph_counts.text() == "2 nodes, 1 link"
    window.stack.undo()
    assert window.inspector.graph_counts.text() == "2 nodes, 0 links"
