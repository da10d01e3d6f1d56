"""A screenshot after a run: badges, thumbnails, the viewer and the log are on the picture.

Set ``KINOGRAPH_SCREENSHOT_DIR`` to keep the PNG for looking at it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from run_helpers import run_and_wait

from kinograph.gui.run.badges import COLORS

ASSET = Path(__file__).resolve().parents[2] / "graphs" / "assets" / "photo.png"


def _color_near(image, point: QPoint, want: QColor, radius: int = 3, tolerance: int = 40) -> bool:
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            c = image.pixelColor(point + QPoint(dx, dy))
            if abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < tolerance:
                return True
    return False


def test_screenshot_after_a_run(qtbot, run_window, tmp_path: Path) -> None:
    e = run_window.editor
    e.add_node("kinograph.image.load", (0, 0), {"path": str(ASSET)})
    e.add_node("kinograph.motion.camera_path", (0, 240), {"steps": 12, "zoom_end": 1.4})
    e.add_node("kinograph.frames.animate", (300, 60), {"width": 160, "height": 90, "chunk": 4})
    e.add_node("kinograph.video.write", (600, 60), {"path": str(tmp_path / "move.mp4"), "preset": "ultrafast"})
    e.add_node("kinograph.value.number", (0, 420))
    e.add_node("test.fail", (300, 420))
    e.add_node("test.record", (600, 420))
    for source, target in (("load.image", "animate.image"), ("camera_path.motion", "animate.motion"),
                           ("animate.frames", "write.frames"), ("number.value", "fail.a"),
                           ("fail.out", "record.value")):
        assert e.connect(source, target) is None, (source, target)
    result = run_and_wait(qtbot, run_window)
    assert result.states["write"] == "done" and result.states["fail"] == "failed"
    run_window.scene.clearSelection()
    run_window.view.fit()
    run_window.view.select_only(["animate"])
    run_window.run_features.viewer.stream.slider.setValue(8)
    QApplication.processEvents()

    image = run_window.grab().toImage()
    path = tmp_path / "editor-run.png"
    assert image.save(str(path))
    if os.environ.get("KINOGRAPH_SCREENSHOT_DIR"):
        shutil.copy(path, os.path.join(os.environ["KINOGRAPH_SCREENSHOT_DIR"], "editor-run.png"))

    ratio = image.devicePixelRatio()
    view = run_window.view

    def window_point(scene_point: QPointF) -> QPoint:
        point = view.viewport().mapTo(run_window, view.mapFromScene(scene_point))
        return QPoint(round(point.x() * ratio), round(point.y() * ratio))

    # Badge pills sit on the node's top-right corner, in the state's colour.
    for node_id, state in (("write", "done"), ("fail", "failed"), ("record", "skipped")):
        item = run_window.node_item(node_id)
        pill = window_point(item.mapToScene(QPointF(item.width - 14, -1)))
        assert _color_near(image, pill, QColor(COLORS[state])), f"{node_id}: no {state} badge at {pill}"
    # The thumbnail of the loaded photo hangs under its node and is not empty.
    thumb = run_window.run_features.badges._thumb_items["load"][1]
    centre = window_point(thumb.mapToScene(thumb.boundingRect().center()))
    shown = image.pixelColor(centre)
    expected = thumb.pixmap().toImage().pixelColor(thumb.pixmap().width() // 2, thumb.pixmap().height() // 2)
    assert abs(shown.red() - expected.red()) + abs(shown.green() - expected.green()) < 60
    # The viewer shows frame 9 of the animation.
    viewer = run_window.run_features.viewer
    assert viewer.isVisible() and viewer.kind == "stream" and viewer.stream.index == 8


def test_inspector_keeps_room_beside_the_log_and_above_the_viewer(qtbot, run_window) -> None:
    features = run_window.run_features
    inspector = run_window.inspector_dock.geometry()
    viewer = features.viewer_dock.geometry()
    log = features.log_dock.geometry()
    # The side column runs the full height; the log sits under the canvas only.
    assert log.right() < inspector.left()
    assert viewer.bottom() > log.top()
    # The inspector is not the smaller of the two (it holds a node's params).
    assert inspector.height() >= viewer.height()
    node = run_window.editor.add_node("kinograph.video.write", (0.0, 0.0))
    run_window.view.select_only([node])
    QApplication.processEvents()
    assert run_window.inspector.isVisible() and inspector.width() >= 300


def test_a_small_window_keeps_a_usable_canvas(qtbot, registry) -> None:
    from kinograph.gui.main_window import MainWindow
    from kinograph.gui.run import attach_run_features

    window = MainWindow(registry)
    features = attach_run_features(window)
    qtbot.addWidget(window)
    window.resize(1000, 680)  # a laptop screen: the window manager clamps the default size
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    try:
        assert window.view.width() >= 400, (window.palette_dock.width(), window.inspector_dock.width())
        assert window.inspector_dock.width() >= 300  # params stay readable
    finally:
        features.close()
