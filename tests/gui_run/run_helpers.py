"""Helpers for the run tests: build a small graph through the editor, run it like a user."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def add_pattern_to_video(window, out: Path, frames: int = 12, size: tuple[int, int] = (64, 48), chunk: int = 4) -> tuple[str, str]:
    """Test pattern -> Write video, added through the editor (undoable edits); returns both ids."""
    editor = window.editor
    pattern = editor.add_node("kinograph.frames.test_pattern", (0.0, 0.0))
    write = editor.add_node("kinograph.video.write", (320.0, 0.0))
    for name, value in (("width", size[0]), ("height", size[1]), ("frames", frames), ("chunk", chunk)):
        assert editor.set_param(pattern, name, value) is None
    assert editor.set_param(write, "path", str(out)) is None
    assert editor.set_param(write, "preset", "ultrafast") is None
    assert editor.connect(f"{pattern}.frames", f"{write}.frames") is None
    return pattern, write


def run_and_wait(qtbot, window, selected: bool = False, timeout: int = 60000):
    """Trigger Run (or Run selected) like the user does and wait for run_finished; returns the result."""
    features = window.run_features
    with qtbot.waitSignal(features.controller.run_finished, timeout=timeout) as blocker:
        window.actions["run_selected" if selected else "run"].trigger()
    return blocker.args[0]


def make_png(path: Path, width: int = 96, height: int = 64) -> np.ndarray:
    """A PNG of a red left half and a blue right half; returns its pixels."""
    from kinograph.gui.viewer.pixels import to_qimage

    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = (200, 30, 40)
    pixels[:, width // 2 :] = (20, 60, 220)
    assert to_qimage(pixels).save(str(path))
    return pixels
