"""The viewer dock: the selected node's output from the last run, shown by what it is.

Images are zoomable; features show shape, stats and a small plot; motion shows a curve per
parameter; frame streams get a scrubber and play, read frame by frame from the disk stream
cache; files show their path with "Open folder" (and play, when they are videos or images).

Runs happen in another process, which sends small previews of value outputs, never the values
(see :mod:`kinograph.gui.run.previews`): an image as a PNG (at most 2048 pixels wide), features
as shape, stats and a few hundred values, a motion as its curves. Frames of streams are read
from the disk stream cache here, one at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kinograph.gui.run.previews import (
    ArrayPreview,
    ImagePreview,
    ImagesPreview,
    MotionPreview,
    TextPreview,
)
from kinograph.gui.viewer.frame_source import CachedFrames, FrameSource, VideoFrames
from kinograph.gui.viewer.image_view import ImageView
from kinograph.gui.viewer.metrics_view import MetricsView, is_metrics
from kinograph.gui.viewer.plots import FeaturesPlot, MotionPlot
from kinograph.gui.viewer.stream_view import StreamView

if TYPE_CHECKING:
    from kinograph.gui.run.controller import RunController
    from kinograph.host import Registry

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
PAGES = ("message", "image", "features", "motion", "stream", "file", "text", "metrics")


class PreviewFrames(FrameSource):
    """An Images batch as the run process sent it (PNGs of its first images) seen as frames."""

    def __init__(self, preview: ImagesPreview, fps: float = 24.0) -> None:
        self.pngs = preview.pngs
        self.count = len(preview.pngs)
        self.width, self.height = preview.width, preview.height
        self.fps = fps
        shown = f"first {self.count} of {preview.count} images" if self.count < preview.count else "images"
        self.label = shown

    def frame(self, index: int) -> QImage | None:
        if not 0 <= index < self.count:
            return None
        image = QImage.fromData(self.pngs[index], "PNG")
        return None if image.isNull() else image


class ViewerPanel(QWidget):
    """Shows one node's output; follows the canvas selection and refreshes after each run."""

    def __init__(self, controller: RunController, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.registry = registry
        self.node_id: str | None = None
        self.node_type: str | None = None
        self.title = QLabel("", self)
        self.title.setStyleSheet("font-weight: bold;")
        self.ports = QComboBox(self)
        self.ports.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.ports.currentIndexChanged.connect(lambda _i: self._show_port())
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.ports)
        self.pages = QStackedWidget(self)
        self.page: dict[str, QWidget] = {}
        self._build_pages()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(head)
        layout.addWidget(self.pages, 1)
        self.show_node(None)

    def _build_pages(self) -> None:
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #9aa0a6; padding: 12px;")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # image
        image_page = QWidget(self)
        self.image = ImageView(image_page)
        self.image_info = QLabel("", image_page)
        self.image_info.setStyleSheet("color: #9aa0a6;")
        fit = QPushButton("Fit", image_page)
        fit.clicked.connect(self.image.fit)
        actual = QPushButton("1:1", image_page)
        actual.clicked.connect(lambda: self.image.set_zoom(1.0))
        self.image.zoom_changed.connect(self._zoom_text)
        row = QHBoxLayout()
        row.addWidget(self.image_info, 1)
        row.addWidget(fit)
        row.addWidget(actual)
        column = QVBoxLayout(image_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.image, 1)
        column.addLayout(row)
        # features
        features_page = QWidget(self)
        self.features_stats = QLabel("", features_page)
        self.features_stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.features_plot = FeaturesPlot(features_page)
        column = QVBoxLayout(features_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.features_stats)
        column.addWidget(self.features_plot, 1)
        # motion
        motion_page = QWidget(self)
        self.motion_info = QLabel("", motion_page)
        self.motion_plot = MotionPlot(motion_page)
        column = QVBoxLayout(motion_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.motion_info)
        column.addWidget(self.motion_plot, 1)
        # stream
        self.stream = StreamView(self)
        # file
        file_page = QWidget(self)
        self.file_path = QLabel("", file_page)
        self.file_path.setWordWrap(True)
        self.file_path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open folder", file_page)
        self.open_button.clicked.connect(self.open_folder)
        self.file_stream = StreamView(file_page)
        row = QHBoxLayout()
        row.addWidget(self.file_path, 1)
        row.addWidget(self.open_button)
        column = QVBoxLayout(file_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.file_stream, 1)
        # text
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        # metrics (evaluation results): a table and per-frame plots
        self.metrics = MetricsView(self)
        for name, widget in zip(PAGES, (self.message, image_page, features_page, motion_page, self.stream,
                                        file_page, self.text, self.metrics), strict=True):
            self.page[name] = widget
            self.pages.addWidget(widget)

    # -- what to show --

    @property
    def kind(self) -> str:
        """The page shown now: message, image, features, motion, stream, file, text or metrics."""
        current = self.pages.currentWidget()
        return next(name for name, widget in self.page.items() if widget is current)

    def show_node(self, node_id: str | None) -> None:
        """Show ``node_id``'s outputs (None: nothing selected)."""
        graph = self.controller.graph
        self.node_id = node_id if node_id in graph.nodes else None
        self.ports.blockSignals(True)
        self.ports.clear()
        if self.node_id is None:
            self.ports.blockSignals(False)
            self.ports.setVisible(False)
            self.title.setText("")
            self._message("Select a node to see its output from the last run.")
            return
        node = graph.nodes[self.node_id]
        self.node_type = node.type
        cls = self.registry.node(node.type)
        self.title.setText(f"{self.node_id} — {cls.title() if cls else node.type}")
        for port in cls.outputs if cls else []:
            self.ports.addItem(f"{port.name} ({port.type})", (port.name, port.type))
        self.ports.setVisible(self.ports.count() > 1)
        self.ports.blockSignals(False)
        self._show_port()

    def refresh(self) -> None:
        """Show the current node again (a run just finished), at the same output and frame."""
        port = self.ports.currentIndex()
        frames = {view: view.index for view in (self.stream, self.file_stream)}
        self.show_node(self.node_id)
        if 0 <= port < self.ports.count():
            self.ports.setCurrentIndex(port)
        for view, index in frames.items():
            if view.source is not None and 0 < index < view.source.count:
                view.show_frame(index)

    def _show_port(self) -> None:
        node_id = self.node_id
        if node_id is None:
            return
        record = self.controller.record
        if node_id in record.failures:
            message, _details = record.failures[node_id]
            self._message(f"This node failed in the last run:\n\n{message}\n\nThe log has the details.")
            return
        data = self.ports.currentData()
        if data is None:
            self._message("This node has no outputs to show.")
            return
        port, type_name = data
        outputs = record.outputs.get(node_id)
        key = record.keys.get(node_id)
        if outputs is None and key is None:
            self._message("Run the graph (F5) to see this node's output.")
            return
        if port in (outputs or {}):
            self._show_value(outputs[port], type_name)
            return
        port_type = self.registry.ports.get(type_name)
        if port_type is not None and port_type.streaming and key is not None:
            self._show_cached_stream(f"{key}-{port}")
            return
        self._message(f"No value of {port!r} was kept in the last run.")

    def _show_value(self, value: Any, type_name: str) -> None:
        """Show a value output as the run process previewed it (or a plain number, text, path)."""
        if is_metrics(value):
            self.metrics.set_metrics(value)
            self.pages.setCurrentWidget(self.page["metrics"])
        elif isinstance(value, MotionPreview):
            self._show_motion(value)
        elif isinstance(value, ImagePreview):
            self._show_image(value)
        elif isinstance(value, ImagesPreview):
            self.stream.set_source(PreviewFrames(value))
            self.pages.setCurrentWidget(self.page["stream"])
        elif isinstance(value, ArrayPreview):
            self._show_features(value, type_name)
        elif isinstance(value, str) and type_name in ("Path", "Text") and value and (
                type_name == "Path" or Path(value).suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES):
            self._show_file(Path(value))
        else:
            if isinstance(value, TextPreview):
                text = f"({value.type_name})\n{value.text}"
            else:
                text = value if isinstance(value, str) else repr(value)
            self.text.setPlainText(text)
            self.pages.setCurrentWidget(self.page["text"])

    def _show_image(self, preview: ImagePreview) -> None:
        image = QImage.fromData(preview.png, "PNG")
        self.image.set_image(image)
        size = f"{preview.width}x{preview.height}"
        if (image.width(), image.height()) != (preview.width, preview.height):
            size += f" (shown at {image.width()}x{image.height()})"
        self.image_info.setText(size)
        self.pages.setCurrentWidget(self.page["image"])

    def _zoom_text(self, zoom: float) -> None:
        w, h = self.image.image_size
        self.image_info.setText(f"{w}x{h}   {zoom:.0%}")

    def _show_features(self, preview: ArrayPreview, type_name: str) -> None:
        stats = f"{type_name}  shape {tuple(preview.shape)}  {preview.dtype}"
        if preview.stats is not None:
            low, high, mean, std = preview.stats
            stats += f"\nmin {low:.4g}   max {high:.4g}   mean {mean:.4g}   std {std:.4g}"
        self.features_stats.setText(stats)
        self.features_plot.set_values(list(preview.values), preview.label)
        self.pages.setCurrentWidget(self.page["features"])

    def _show_motion(self, motion: MotionPreview) -> None:
        extra = f", local flow {tuple(motion.flow_shape)}" if motion.flow_shape is not None else ""
        source = f", from {motion.source}" if motion.source else ""
        self.motion_info.setText(f"{len(motion.pan_x)} steps{source}{extra}")
        self.motion_plot.set_motion(motion)
        self.pages.setCurrentWidget(self.page["motion"])

    def _show_cached_stream(self, key: str) -> None:
        try:
            source = CachedFrames(self.controller.streams, key)
        except FileNotFoundError:
            # Run selected records the streams of the nodes it targets, so that is the way to see it.
            self._message("This stream was not kept in the last run: only streams that feed an "
                          "output node are.\nTo see its frames, keep this node selected and press "
                          "Run selected (Shift+F5).")
            return
        self.stream.set_source(source)
        self.pages.setCurrentWidget(self.page["stream"])

    def _show_file(self, path: Path) -> None:
        self.file_path.setText(str(path))
        self.file_path.setToolTip(str(path))
        self.file_stream.set_source(None)
        self.file_stream.setVisible(False)
        if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
            try:
                self.file_stream.set_source(VideoFrames(path))
                self.file_stream.setVisible(True)
            except Exception as exc:  # any decoder error: still show the path
                self.file_path.setText(f"{path}\n(cannot play it here: {exc})")
        elif path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            image = QImage(str(path))
            if not image.isNull():
                self.file_stream.setVisible(True)
                self.file_stream.set_source(None)
                self.file_stream.image.set_image(image)
        elif not path.exists():
            self.file_path.setText(f"{path}\n(the file is not there any more)")
        self.pages.setCurrentWidget(self.page["file"])

    def _message(self, text: str) -> None:
        self.stream.set_source(None)
        self.message.setText(text)
        self.pages.setCurrentWidget(self.page["message"])

    def open_folder(self) -> Path | None:
        """Open the shown file's folder in the system's file manager; returns the folder."""
        text = self.file_path.text().split("\n", 1)[0]
        if not text:
            return None
        folder = Path(text).parent
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        return folder
