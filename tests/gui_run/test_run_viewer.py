"""The viewer dock after a run: a zoomable image, a stream scrubbed from the disk cache, a video file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from run_helpers import add_pattern_to_video, make_png, run_and_wait

from kinograph.gui.run.previews import from_wire, wire_preview


def pattern_pixel(x: int, y: int, t: int) -> tuple[int, int, int]:
    """The test pattern's colour at (x, y) in frame t (see kinograph.plugins.basic.TestPattern)."""
    return (x + 4 * t) % 256, (y + 2 * t) % 256, ((x + y) // 2 + 3 * t) % 256


def shown_pixel(image_view, x: int, y: int) -> tuple[int, int, int]:
    color: QColor = image_view.item.pixmap().toImage().pixelColor(x, y)
    return color.red(), color.green(), color.blue()


def test_viewer_shows_an_image_and_zooms(qtbot, run_window, tmp_path: Path) -> None:
    make_png(tmp_path / "photo.png")
    editor = run_window.editor
    load = editor.add_node("kinograph.image.load", (0.0, 0.0))
    preview = editor.add_node("kinograph.image.preview", (300.0, 0.0))
    assert editor.set_param(load, "path", str(tmp_path / "photo.png")) is None
    assert editor.connect(f"{load}.image", f"{preview}.image") is None
    run_and_wait(qtbot, run_window)

    run_window.view.select_only([load])
    viewer = run_window.run_features.viewer
    assert viewer.kind == "image"
    assert viewer.image.image_size == (96, 64)
    assert shown_pixel(viewer.image, 5, 5) == (200, 30, 40)
    assert shown_pixel(viewer.image, 90, 5) == (20, 60, 220)
    viewer.image.set_zoom(4.0)
    assert abs(viewer.image.zoom - 4.0) < 1e-6 and not viewer.image.fitted
    viewer.image.fit()
    assert viewer.image.fitted
    # Image-producing nodes get a thumbnail under them on the canvas.
    thumbs = run_window.run_features.badges.thumbnails
    assert load in thumbs and thumbs[load].width() > 0


def test_viewer_scrubs_a_stream_from_the_disk_cache_and_the_written_video(qtbot, run_window, tmp_path: Path) -> None:
    out = tmp_path / "pattern.mp4"
    pattern, write = add_pattern_to_video(run_window, out, frames=12, size=(64, 48), chunk=4)
    run_and_wait(qtbot, run_window)

    run_window.view.select_only([pattern])
    viewer = run_window.run_features.viewer
    assert viewer.kind == "stream"
    stream = viewer.stream
    assert stream.source is not None and stream.source.count == 12 and stream.source.fps == 24.0
    stream.slider.setValue(7)  # scrub like a user drags the slider
    assert stream.index == 7
    assert shown_pixel(stream.image, 10, 6) == pattern_pixel(10, 6, 7)  # lossless cache
    stream.slider.setValue(2)
    assert shown_pixel(stream.image, 0, 0) == pattern_pixel(0, 0, 2)
    qtbot.keyClick(stream, Qt.Key.Key_Right)  # step one frame with the keyboard
    assert stream.index == 3
    # A re-run keeps the viewer on the same frame.
    run_and_wait(qtbot, run_window)
    assert viewer.kind == "stream" and stream.index == 3
    # Play advances frames at the stream's fps and stops at the end.
    stream.play()
    assert stream.playing
    qtbot.waitUntil(lambda: not stream.playing, timeout=5000)
    assert stream.index == 11

    run_window.view.select_only([write])
    assert viewer.kind == "file"
    assert viewer.file_path.text() == str(out)
    video = viewer.file_stream
    assert video.source is not None and video.source.count == 12
    video.slider.setValue(9)
    assert video.index == 9
    r, g, b = shown_pixel(video.image, 32, 24)
    er, eg, eb = pattern_pixel(32, 24, 9)
    assert abs(r - er) <= 12 and abs(g - eg) <= 12 and abs(b - eb) <= 12  # h264 is lossy
    video.slider.setValue(1)  # backwards: seeks again
    r, g, b = shown_pixel(video.image, 32, 24)
    er, eg, eb = pattern_pixel(32, 24, 1)
    assert abs(r - er) <= 12 and abs(g - eg) <= 12 and abs(b - eb) <= 12
    assert viewer.open_button.isEnabled()


def test_viewer_shows_features_stats_and_plot(qtbot, run_window) -> None:
    import torch

    viewer = run_window.run_features.viewer
    number = run_window.editor.add_node("kinograph.value.number", (0.0, 0.0))
    run_window.view.select_only([number])
    assert viewer.kind == "message"  # not run yet
    assert "Run the graph" in viewer.message.text()
    features = torch.linspace(-1.0, 1.0, 1000).reshape(2, 500)
    # What the run process sends for a tensor: its shape, stats and values of its first item.
    viewer._show_value(from_wire(wire_preview(features)), "Features")
    assert viewer.kind == "features"
    assert "shape (2, 500)" in viewer.features_stats.text()
    assert "min -1" in viewer.features_stats.text() and "max 1" in viewer.features_stats.text()
    assert 0 < len(viewer.features_plot.values) <= 256
    assert viewer.features_plot.values[0] < viewer.features_plot.values[-1]


def test_a_stream_not_kept_says_how_to_see_it_and_run_selected_shows_it(qtbot, run_window, tmp_path: Path) -> None:
    editor = run_window.editor
    pattern, write = add_pattern_to_video(run_window, tmp_path / "out.mp4", frames=8, size=(32, 24))
    invert = editor.add_node("test.invert", (160.0, 120.0))
    assert editor.connect(f"{pattern}.frames", f"{invert}.frames") is None
    assert editor.connect(f"{invert}.frames", f"{write}.frames") is None  # replaces the direct link
    assert run_and_wait(qtbot, run_window).status == "finished"

    run_window.view.select_only([pattern])  # feeds only the inverter: its frames were not kept
    viewer = run_window.run_features.viewer
    assert viewer.pages.currentWidget() is viewer.page["message"]
    assert "Run selected (Shift+F5)" in viewer.message.text()
    # Doing what the message says shows the frames.
    assert run_and_wait(qtbot, run_window, selected=True).status == "finished"
    assert viewer.kind == "stream" and viewer.stream.source is not None and viewer.stream.source.count == 8
    assert shown_pixel(viewer.stream.image, 3, 2) == pattern_pixel(3, 2, 0)


def test_thumbnail_of_a_big_photo_keeps_its_shape_and_colours() -> None:
    from PySide6.QtGui import QImage

    from kinograph.gui.run.previews import THUMB_MAX_H, THUMB_MAX_W, thumbnail_png

    pixels = np.zeros((3000, 4500, 3), dtype=np.uint8)  # 3:2 like a camera photo
    pixels[:, :2250] = (220, 30, 40)
    pixels[:, 2250:] = (20, 60, 210)
    pixels[:300] = (240, 240, 240)  # a white band along the top: rows stay rows
    png = thumbnail_png(pixels)  # made in the run process, sent as PNG bytes
    assert len(png) < 20_000
    thumb = QImage.fromData(png, "PNG")
    assert thumb.height() == THUMB_MAX_H and abs(thumb.width() - THUMB_MAX_H * 1.5) <= 1 <= THUMB_MAX_W
    def rgb(x: int, y: int) -> tuple[int, int, int]:
        c = thumb.pixelColor(x, y)
        return c.red(), c.green(), c.blue()
    assert rgb(5, 40) == (220, 30, 40) and rgb(thumb.width() - 5, 40) == (20, 60, 210)
    assert rgb(5, 2) == (240, 240, 240)


def test_a_plugin_preview_of_its_own_port_type_is_drawn_in_the_viewer(qtbot, registry, run_window) -> None:
    import curve_nodes

    assert not registry.register_plugin(curve_nodes, "curvetest").errors
    tone = run_window.editor.add_node("curvetest.tone", (0.0, 0.0))
    run_window.view.select_only([tone])
    assert run_and_wait(qtbot, run_window, selected=True).states[tone] == "done"
    viewer = run_window.run_features.viewer
    assert viewer.kind == "metrics" and viewer.metrics.table.isHidden()
    series = viewer.metrics.plot.series  # drawn from what the plugin's render returned, in the run process
    assert set(series) == {"red", "green"}
    assert series["red"][0] < series["red"][-1] and series["green"][0] > series["green"][-1]


def test_previews_from_the_run_process_are_small() -> None:
    from PySide6.QtGui import QImage

    from kinograph.gui.run.previews import VIEW_MAX_SIDE, ArrayPreview, ImagePreview, TextPreview

    photo = np.zeros((1800, 3000, 3), dtype=np.uint8)
    photo[:, 1500:] = (10, 200, 30)
    shown = from_wire(wire_preview(photo))
    assert isinstance(shown, ImagePreview) and (shown.width, shown.height) == (3000, 1800)
    image = QImage.fromData(shown.png, "PNG")
    assert max(image.width(), image.height()) == VIEW_MAX_SIDE  # downscaled, aspect kept
    assert abs(image.width() / image.height() - 3000 / 1800) < 0.01
    assert image.pixelColor(image.width() - 5, 5).green() == 200
    features = from_wire(wire_preview(np.arange(2 * 100_000, dtype=np.float32).reshape(2, 100_000)))
    assert isinstance(features, ArrayPreview) and features.shape == (2, 100_000)
    assert len(features.values) == 256 and features.stats[1] == 199_999.0
    big = from_wire(wire_preview(list(range(200_000))))  # a big plain value is summarised
    assert isinstance(big, TextPreview) and len(big.text) <= 20_000
    assert from_wire(wire_preview([1.5, "a", {"k": 2}])) == [1.5, "a", {"k": 2}]  # small ones cross as they are
