"""Groups in the editor, driven by real key and mouse events: Ctrl+G groups, Tab enters,
breadcrumbs and Ctrl+Tab lead back, Ctrl+Alt+G ungroups, params shown on the group from the
inspector, reusable subgraphs from the palette (read-only until made local), and undo back to
the exact file text at every step."""

from __future__ import annotations

from helpers import drag, node_point
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


def _chain(window) -> dict[str, str]:
    editor = window.editor
    ids = {
        "pattern": editor.add_node("kinograph.frames.test_pattern", (0, 0)),
        "invert": editor.add_node("test.invert", (300, 0)),
        "invert2": editor.add_node("test.invert", (600, 0)),
        "collect": editor.add_node("test.collect", (900, 0)),
    }
    editor.connect(f"{ids['pattern']}.frames", f"{ids['invert']}.frames")
    editor.connect(f"{ids['invert']}.frames", f"{ids['invert2']}.frames")
    editor.connect(f"{ids['invert2']}.frames", f"{ids['collect']}.frames")
    window.stack.clear()
    window.view.fit()
    return ids


def _key(window, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    window.view.setFocus()
    QTest.keyClick(window.view, key, modifiers)


def test_group_enter_edit_leave_ungroup_and_undo_all_of_it(window) -> None:
    ids = _chain(window)
    before = window.graph.to_json()
    window.view.select_only([ids["invert"], ids["invert2"]])
    _key(window, Qt.Key.Key_G, CTRL)
    assert list(window.graph.nodes) == [ids["pattern"], "group", ids["collect"]]
    grouped = window.graph.to_json()
    item = window.scene.node_items["group"]
    assert item.is_group and set(item.inputs) == {"frames"} and set(item.outputs) == {"frames"}
    assert {str(link) for link in window.scene.link_items} == {"test_pattern.frames -> group.frames",
                                                               "group.frames -> collect.frames"}

    _key(window, Qt.Key.Key_Tab)  # the group is selected: Tab enters it
    assert window.level == ["group"]
    assert window.breadcrumbs.isVisible() and window.breadcrumbs.titles() == ["Graph", "group"]
    assert set(window.scene.node_items) == {"inputs", ids["invert"], ids["invert2"], "outputs"}
    assert not window.view.search.isVisible()
    window.view.select_only([ids["invert2"]])
    _key(window, Qt.Key.Key_Delete)  # an edit inside: one undo step, like any other
    assert ids["invert2"] not in window.graph.inner("group").nodes
    assert set(window.scene.node_items) == {"inputs", ids["invert"], "outputs"}

    _key(window, Qt.Key.Key_Tab, CTRL)  # back up
    assert window.level == [] and not window.breadcrumbs.isVisible()
    assert window.scene.selected_node_ids() == ["group"]
    _key(window, Qt.Key.Key_G, CTRL | ALT)  # ungroup: what is inside comes back
    assert set(window.graph.nodes) == {ids["pattern"], ids["invert"], ids["collect"]}
    assert sorted(window.scene.selected_node_ids()) == [ids["invert"]]

    window.stack.undo()  # ungroup
    window.stack.undo()  # the delete inside
    assert window.graph.to_json() == grouped
    assert set(window.scene.node_items) == set(window.graph.nodes)
    window.stack.undo()  # the grouping
    assert window.graph.to_json() == before
    assert set(window.scene.link_items) == set(window.graph.links)
    window.stack.redo()
    assert window.graph.to_json() == grouped


def test_ungrouping_restores_the_nodes_exactly(window) -> None:
    ids = _chain(window)
    before = window.graph.to_json()
    window.view.select_only([ids["invert"], ids["invert2"]])
    _key(window, Qt.Key.Key_G, CTRL)
    _key(window, Qt.Key.Key_G, CTRL | ALT)
    import json

    after, original = json.loads(window.graph.to_json()), json.loads(before)
    assert after["nodes"] == original["nodes"]
    assert sorted(map(str, after["links"])) == sorted(map(str, original["links"]))


def test_tab_without_a_group_selected_still_searches(window) -> None:
    ids = _chain(window)
    window.view.select_only([ids["invert"]])
    _key(window, Qt.Key.Key_Tab)
    assert window.view.search.isVisible() and window.level == []


def test_double_click_enters_and_a_breadcrumb_leads_back(window, qtbot) -> None:
    ids = _chain(window)
    window.view.select_only([ids["invert"]])
    _key(window, Qt.Key.Key_G, CTRL)
    window.view.fit()
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      node_point(window, "group"))
    assert window.level == ["group"]
    window.breadcrumbs.crumbs[0].click()
    assert window.level == []


def test_undo_that_takes_the_shown_group_away_goes_back_up(window) -> None:
    ids = _chain(window)
    before = window.graph.to_json()
    window.view.select_only([ids["invert"]])
    _key(window, Qt.Key.Key_G, CTRL)
    _key(window, Qt.Key.Key_Tab)
    assert window.level == ["group"]
    window.stack.undo()
    assert window.level == [] and window.graph.to_json() == before
    assert set(window.scene.node_items) == set(window.graph.nodes)


def test_a_param_shown_on_the_group_from_the_inspector(window) -> None:
    ids = _chain(window)
    window.view.select_only([ids["invert"], ids["invert2"]])
    _key(window, Qt.Key.Key_G, CTRL)
    grouped = window.graph.to_json()
    _key(window, Qt.Key.Key_Tab)
    window.view.select_only([ids["invert"]])
    toggle = window.inspector.group_toggles["fail_at"]
    toggle.click()
    assert window.graph.nodes["group"].params == {"fail_at": -1}
    assert not window.inspector.fields["fail_at"].widget.isEnabled()  # the group's value rules now
    _key(window, Qt.Key.Key_Tab, CTRL)
    window.view.select_only(["group"])
    assert "fail_at" in window.inspector.fields  # the group's own field, with the inner bounds and type
    assert window.editor.set_param("group", "fail_at", 3) is None
    assert window.graph.snapshot().nodes[f"group/{ids['invert']}"].params["fail_at"] == 3
    window.stack.undo()
    window.stack.undo()
    assert window.graph.to_json() == grouped


def test_a_reusable_subgraph_from_the_palette_is_read_only_until_made_local(window, qtbot) -> None:
    from kinograph.host import subgraphs_dir

    ids = _chain(window)
    window.view.select_only([ids["invert"], ids["invert2"]])
    _key(window, Qt.Key.Key_G, CTRL)
    assert window.save_reusable("group", subgraphs_dir() / "double_invert.json")
    assert window.graph.nodes["group"].ref.source == "user:double_invert.json"
    entry = window.palette.item_for("subgraph:user:double_invert.json")
    assert entry is not None and "v1" in entry.text(0)
    before = window.graph.to_json()
    window.palette.activated.emit("subgraph:user:double_invert.json")
    added = next(n for n in window.graph.nodes if n not in {"group", *ids.values()})
    assert window.graph.nodes[added].ref.source == "user:double_invert.json"
    window.view.select_only([added])
    _key(window, Qt.Key.Key_Tab)
    assert window.level == [added] and window.breadcrumbs.local_button.isVisible()
    inner_before = window.graph.to_json()
    window.view.select_only([ids["invert"]])
    _key(window, Qt.Key.Key_Delete)
    assert window.graph.to_json() == inner_before  # refused: the file's content is read-only here
    assert "Make local" in window.statusBar().currentMessage()
    start = node_point(window, ids["invert"])
    drag(window, start, start + QPoint(90, 60))
    qtbot.wait(20)
    item = window.scene.node_items[ids["invert"]]  # a drag that was refused does not stay drawn
    assert [item.x(), item.y()] == window.graph.inner(added).nodes[ids["invert"]].ui["pos"]
    assert window.graph.to_json() == inner_before
    window.breadcrumbs.local_button.click()
    assert window.graph.nodes[added].ref is None and not window.breadcrumbs.local_button.isVisible()
    window.view.select_only([ids["invert"]])
    _key(window, Qt.Key.Key_Delete)
    assert ids["invert"] not in window.graph.inner(added).nodes
    window.stack.undo()
    window.stack.undo()
    window.stack.undo()
    assert window.graph.to_json() == before


def test_backdrop_moved_to_ctrl_j(window) -> None:
    ids = _chain(window)
    window.view.select_only([ids["invert"]])
    _key(window, Qt.Key.Key_J, CTRL)
    assert len(window.graph.meta["editor"]["backdrops"]) == 1
    assert "group" not in window.graph.nodes



def test_the_node_menu_inside_a_group_adds_and_removes_group_ports(window) -> None:
    ids = _chain(window)
    window.view.select_only([ids["invert"], ids["invert2"]])
    _key(window, Qt.Key.Key_G, CTRL)
    grouped = window.graph.to_json()
    _key(window, Qt.Key.Key_Tab)
    window._context_menu(node_point(window, ids["invert"]))
    ports = next(a.menu() for a in window.context_menu.actions() if a.menu() and a.text() == "Group ports")
    show = next(a for a in ports.actions() if a.text() == "Show output frames on the group")
    show.trigger()
    assert [p.name for p in window.graph.inner("group").interface.outputs] == ["frames", "frames2"]
    assert "frames2" in window.scene.node_items["outputs"].inputs  # Group outputs grew the port
    _key(window, Qt.Key.Key_Tab, CTRL)
    assert set(window.scene.node_items["group"].outputs) == {"frames", "frames2"}
    window.stack.undo()
    assert window.graph.to_json() == grouped
    assert set(window.scene.node_items["group"].outputs) == {"frames"}


def test_run_events_of_inner_nodes_find_their_items(window) -> None:
    ids = _chain(window)
    window.view.select_only([ids["invert"], ids["invert2"]])
    _key(window, Qt.Key.Key_G, CTRL)
    inner = f"group/{ids['invert']}"
    assert window.node_item(inner) is window.scene.node_items["group"]  # from above: the group stands for it
    assert window.node_item(ids["pattern"]) is window.scene.node_items[ids["pattern"]]
    window.enter_group("group")
    assert window.node_item(inner) is window.scene.node_items[ids["invert"]]
    assert window.node_item(ids["pattern"]) is None  # not on the level shown


def _answer_next_dialog(text: str) -> None:
    """Once the real name dialog that is about to open is up, type ``text`` and press OK."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QInputDialog), dialog
        dialog.setTextValue(text)
        dialog.accept()

    QTimer.singleShot(0, answer)


def _group_the_inverts_and_enter(window) -> dict[str, str]:
    ids = _chain(window)
    window.view.select_only([ids["invert"], ids["invert2"]])
    _key(window, Qt.Key.Key_G, CTRL)
    _key(window, Qt.Key.Key_Tab)
    return ids


def test_a_group_port_is_renamed_from_the_group_ports_menu_and_its_links_follow(window) -> None:
    ids = _group_the_inverts_and_enter(window)
    grouped = window.graph.to_json()
    window._context_menu(node_point(window, "inputs"))
    ports = next(a.menu() for a in window.context_menu.actions() if a.menu() and a.text() == "Group ports")
    rename = next(a for a in ports.actions() if a.text() == "Rename input frames…")
    _answer_next_dialog("footage")
    rename.trigger()  # the real dialog opens and is answered
    inner = window.graph.inner("group")
    assert [p.name for p in inner.interface.inputs] == ["footage"]
    assert "footage" in window.scene.node_items["inputs"].outputs  # Group inputs shows the new name
    assert set(window.scene.link_items) == set(inner.links)
    _key(window, Qt.Key.Key_Tab, CTRL)
    assert set(window.scene.node_items["group"].inputs) == {"footage"}
    assert f"{ids['pattern']}.frames -> group.footage" in {str(link) for link in window.graph.links}
    assert set(window.scene.link_items) == set(window.graph.links)

    steps = window.stack.count()
    window.enter_group("group")
    assert window.rename_group_port("input", "footage", "two words") == "port names must match [A-Za-z_][A-Za-z0-9_-]*"
    assert window.stack.count() == steps  # a refused rename leaves no undo step
    window.stack.undo()
    assert window.graph.to_json() == grouped


def test_a_param_shown_on_the_group_is_renamed_from_the_inspector(window) -> None:
    ids = _group_the_inverts_and_enter(window)
    window.view.select_only([ids["invert"]])
    window.inspector.group_toggles["fail_at"].click()
    shown = window.graph.to_json()
    window.view.select_only([ids["invert"]])
    _answer_next_dialog("break_at")
    window.inspector.group_renames["fail_at"].click()  # the real dialog; the timer answers it
    assert window.graph.nodes["group"].params == {"break_at": -1}
    assert window.inspector.group_toggles["fail_at"].text() == "set on the group as break_at"
    steps = window.stack.count()
    assert window.inspector.rename_group_param("break_at", "frames") == "'frames' is taken or not a valid name"
    assert window.stack.count() == steps and "Cannot do that: 'frames' is taken" in window.statusBar().currentMessage()
    _key(window, Qt.Key.Key_Tab, CTRL)
    window.view.select_only(["group"])
    assert "break_at" in window.inspector.fields  # the group's page shows the new name
    window.stack.undo()
    assert window.graph.to_json() == shown
