"""A frame stream to look through: scrubber, play/pause at the stream's fps, one frame read at a time."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QIcon, QImage, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QStyle, QVBoxLayout, QWidget

from kinograph.gui.viewer.frame_source import FrameSource
from kinograph.gui.viewer.image_view import ImageView


class StreamView(QWidget):
    """Shows frame ``index`` of a :class:`FrameSource`; the slider scrubs, Play plays in real time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source: FrameSource | None = None
        self.image = ImageView(self)
        # Icons drawn by the style, not glyphs: "⏸" is missing from common fonts (DejaVu) and
        # showed as a box.
        self.play_button = QPushButton(self)
        self.play_button.setIcon(self._icon("play"))
        self.play_button.setFixedWidth(34)
        self.play_button.setToolTip("Play / pause (at the stream's fps)")
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setMinimum(0)
        self.slider.valueChanged.connect(self.show_frame)
        self.position = QLabel("", self)
        self.position.setMinimumWidth(120)
        self.info = QLabel("", self)
        self.info.setStyleSheet("color: #9aa0a6;")
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.position)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image, 1)
        layout.addLayout(controls)
        layout.addWidget(self.info)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.index = -1
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_source(self, source: FrameSource | None, index: int = 0) -> None:
        """Look at another stream (the previous one is closed), at frame ``index``."""
        self.stop()
        if self.source is not None and self.source is not source:
            self.source.close()
        self.source = source
        self.index = -1
        if source is None:
            self.image.clear()
            self.info.setText("")
            self.position.setText("")
            return
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(0, source.count - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.info.setText(f"{source.width}x{source.height}, {source.count} frames at {source.fps:g} fps — {source.label}")
        self.show_frame(max(0, min(index, source.count - 1)))

    def show_frame(self, index: int) -> bool:
        """Read and show one frame; False when it cannot be read."""
        if self.source is None:
            return False
        pixels = self.source.frame(index)
        if pixels is None:
            return False
        self.index = index
        if isinstance(pixels, QImage):  # a preview the run process sent as PNG
            self.image.set_image(pixels)
        else:
            self.image.set_pixels(pixels)
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        seconds = index / self.source.fps if self.source.fps else 0.0
        self.position.setText(f"{index + 1} / {self.source.count}  ({seconds:.2f} s)")
        return True

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        if self.source is None or self.source.count < 2:
            return
        if self.index >= self.source.count - 1:
            self.show_frame(0)
        self.timer.start(max(1, round(1000 / (self.source.fps or 24.0))))
        self.play_button.setIcon(self._icon("pause"))

    def stop(self) -> None:
        self.timer.stop()
        self.play_button.setIcon(self._icon("play"))

    def _icon(self, name: str) -> QIcon:
        """The style's play or pause icon (``icon_name`` says which one the button shows)."""
        self.icon_name = name
        pixmap = QStyle.StandardPixmap.SP_MediaPause if name == "pause" else QStyle.StandardPixmap.SP_MediaPlay
        return self.style().standardIcon(pixmap)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Left / Right step one frame, Home / End jump, Space plays or pauses."""
        if self.source is None:
            super().keyPressEvent(event)
            return
        key = event.key()
        steps = {Qt.Key.Key_Left: self.index - 1, Qt.Key.Key_Right: self.index + 1,
                 Qt.Key.Key_Home: 0, Qt.Key.Key_End: self.source.count - 1}
        if key in steps:
            self.stop()
            self.show_frame(max(0, min(self.source.count - 1, steps[key])))
        elif key == Qt.Key.Key_Space:
            self.toggle_play()
        else:
            super().keyPressEvent(event)

    def _tick(self) -> None:
        if self.source is None or self.index + 1 >= self.source.count or not self.show_frame(self.index + 1):
            self.stop()
