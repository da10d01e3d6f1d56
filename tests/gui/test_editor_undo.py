"""Every kind of edit undoes back to the exact prior graph (file text) and redoes to the edited one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kinograph.core.graph import Link


def _base(window) -> dict[str, str]:
    editor = window.editor
    ids = {
        "pattern": editor.add_node("kinograph.frames.test_pattern", (0, 0)),
        "invert": editor.add_node("test.invert", (300, 0)),
        "collect": editor.add_node("test.collect", (600, 0)),
        "number": editor.add_node("kinograph.value.number", (0, 200)),
        "add": editor.add_node("test.add", (300, 200)),
    }
    editor.connect(f"{ids['pattern']}.frames", f"{ids['invert']}.frames")
    editor.connect(f"{ids['invert']}.frames", f"{ids['collect']}.frames")
    editor.connect(f"{ids['number']}.value", f"{ids['add']}.a")
    return ids


EDITS: dict[str, Callable] = {
    "add": lambda w, ids: w.editor.add_node("test.noop", (50, 400)),
    "remove node in the middle": lambda w, ids: w.editor.delete([ids["invert"]]),
    "remove first node": lambda w, ids: w.editor.delete([ids["pattern"]]),
    "move": lambda w, ids: w.editor.move({ids["add"]: (w.graph.nodes[ids["add"]].ui["pos"], [420.0, 260.0])}),
    "move a node without a position": lambda w, ids: (
        w.graph.set_ui(ids["number"], "pos", None),
        w.stack.clear(),
        w.editor.move({ids["number"]: (None, [10.0, 20.0])}),
    ),
    "connect": lambda w, ids: w.editor.connect(f"{ids['number']}.value", f"{ids['add']}.b"),
    "connect replacing a link": lambda w, ids: w.editor.connect(f"{ids['pattern']}.frames", f"{ids['collect']}.frames"),
    "disconnect first link": lambda w, ids: w.editor.disconnect([w.graph.links[0]]),
    "set param": lambda w, ids: w.editor.set_param(ids["pattern"], "width", 640),
    "bypass": lambda w, ids: w.editor.toggle_bypass([ids["invert"]]),
    "paste": lambda w, ids: w.editor.paste_text(w.editor.copy_text([ids["pattern"], ids["invert"]]), (0, 500)),
    "delete several (macro)": lambda w, ids: w.editor.delete([ids["invert"], ids["number"]], [w.graph.links[0]]),
    "insert on link": lambda w, ids: (
        w.editor.add_node("test.invert", (300, 100), ),
        w.stack.clear(),
        w.editor.insert_on_link("invert2", Link.parse(f"{ids['invert']}.frames", f"{ids['collect']}.frames")),
    ),
    "reroute dot": lambda w, ids: w.editor.add_reroute(w.graph.links[0], 0, (150.0, 60.0)),
    "backdrop": lambda w, ids: (w.view.select_only([ids["pattern"]]), w.add_backdrop()),
    "auto-layout": lambda w, ids: w.auto_layout(),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_undo_restores_exact_graph_and_redo_reapplies(window, name: str) -> None:
    ids = _base(window)
    edit = EDITS[name]
    # Some edits prepare state first and clear the stack; take "before" after preparation.
    if name in ("move a node without a position", "insert on link"):
        edit(window, ids)
        window.stack.undo()
        before = window.graph.to_json()
        window.stack.redo()
    else:
        before = window.graph.to_json()
        window.stack.clear()
        edit(window, ids)
    after = window.graph.to_json()
    assert after != before, "the edit changed nothing"
    assert window.stack.count() == 1, "one edit must be one undo step"
    window.stack.undo()
    assert window.graph.to_json() == before
    assert set(window.scene.node_items) == set(window.graph.nodes)
    assert set(window.scene.link_items) == set(window.graph.links)
    window.stack.redo()
    assert window.graph.to_json() == after
    assert set(window.scene.link_items) == set(window.graph.links)


def test_spin_box_steps_merge_into_one_undo_step(window) -> None:
    ids = _base(window)
    window.stack.clear()
    before = window.graph.to_json()
    for width in (330, 340, 350):
        assert window.editor.set_param(ids["pattern"], "width", width) is None
    assert window.stack.count() == 1
    window.stack.undo()
    assert window.graph.to_json() == before


def test_unsaved_marker_follows_the_undo_stack(window, tmp_path) -> None:
    assert not window.isWindowModified()
    window.editor.add_node("test.noop")
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    window.save_as(tmp_path / "g.json")
    assert not window.isWindowModified() and window.windowTitle().startswith("g.json")
    window.stack.undo()
    assert window.isWindowModified()
