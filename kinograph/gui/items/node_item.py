"""A node on the canvas: title bar in its category colour, ports by type, a summary of key params.

Nodes whose type no installed plugin provides are drawn as clearly marked placeholders that
name the package to install; their params are kept untouched.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from kinograph.api import Node
from kinograph.gui import theme
from kinograph.gui.items.badge import Badge
from kinograph.gui.items.port_item import PortItem
from kinograph.host import SUBGRAPH_TYPE, GraphNode, node_inputs

if TYPE_CHECKING:
    from kinograph.host import Registry

TITLE_H = 26.0
ROW_H = 22.0
SUMMARY_H = 17.0
MIN_WIDTH = 170.0
RADIUS = 6.0
SUMMARY_PARAMS = 3
#: Below this scale nodes are drawn as plain blocks (their text would be a few pixels high).
FAR_ZOOM = 0.3


def format_value(value: Any) -> str:
    """A param value as a short string for the node's summary."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        if ("/" in value or os.sep in value) and len(value) > 18:
            value = "…/" + os.path.basename(value)
        return value if len(value) <= 22 else value[:21] + "…"
    text = str(value)
    return text if len(text) <= 22 else text[:21] + "…"


class NodeItem(QGraphicsItem):
    """The drawing of one graph node; ``node_id`` ties it to the model."""

    def __init__(self, node: GraphNode, node_class: type[Node] | None, registry: Registry,
                 extra_inputs: list[str] | None = None, extra_outputs: list[str] | None = None) -> None:
        super().__init__()
        self.node_id = node.id
        self.type_id = node.type
        self.node_class = node_class
        self.registry = registry
        self.missing = node_class is None
        self.bypass = node.bypass
        self.badge: Badge | None = None
        self.params: dict[str, Any] = dict(node.params)
        self.plugin = node.plugin or {}
        self.exposed = list(node.exposed)
        #: a group (a node holding a graph: Tab enters it), and the reusable file it uses, if any
        self.is_group = node.type == SUBGRAPH_TYPE
        self.subgraph_source = node.ref.source if node.ref is not None else ""
        self.subgraph_version = node.ref.version if node.ref is not None else None
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.title_font = QFont()
        self.title_font.setPointSizeF(9.5)
        self.title_font.setBold(True)
        self.small_font = QFont()
        self.small_font.setPointSizeF(8.0)
        self._build_ports(extra_inputs or [], extra_outputs or [])
        self._layout()
        pos = node.ui.get("pos")
        if isinstance(pos, list | tuple) and len(pos) == 2:
            self.setPos(float(pos[0]), float(pos[1]))
        self.setOpacity(0.45 if self.bypass else 1.0)
        self._set_tooltip()

    # -- model -> drawing --

    @property
    def title(self) -> str:
        if self.node_class is not None:
            return self.node_class.title()
        return self.type_id.rsplit(".", 1)[-1]

    @property
    def category(self) -> str:
        return self.node_class.category if self.node_class else "Missing"

    def _build_ports(self, extra_inputs: list[str], extra_outputs: list[str]) -> None:
        if self.node_class is not None:
            inputs = [(p.name, p.type, p.description, p.optional) for p in node_inputs(self.node_class, self.exposed)]
            outputs = [(p.name, p.type, p.description, False) for p in self.node_class.outputs]
        else:
            # A placeholder only knows the ports its links name.
            inputs = [(name, None, "", False) for name in extra_inputs]
            outputs = [(name, None, "", False) for name in extra_outputs]
        for name, type_name, description, optional in inputs:
            tip = self._port_tip(name, type_name, description, optional)
            self.inputs[name] = PortItem(self, name, "input", type_name,
                                         theme.port_color(self.registry, type_name), tip)
        for name, type_name, description, _ in outputs:
            tip = self._port_tip(name, type_name, description, False)
            self.outputs[name] = PortItem(self, name, "output", type_name,
                                          theme.port_color(self.registry, type_name), tip)

    @staticmethod
    def _port_tip(name: str, type_name: str | None, description: str, optional: bool) -> str:
        head = f"<b>{name}</b> ({type_name or 'unknown type'})" + (" — optional" if optional else "")
        return head + (f"<br>{description}" if description else "")

    def summary_lines(self) -> list[tuple[str, str]]:
        if self.missing and self.is_group:
            return [("missing", format_value(self.subgraph_source)), ("file", "not found")]
        if self.missing:
            package = self.plugin.get("dist") or self.plugin.get("name") or "the plugin that provides it"
            return [("missing", self.type_id), ("install", package)]
        lines = []
        for name in list(self.params)[:SUMMARY_PARAMS]:
            lines.append((name, format_value(self.params[name])))
        return lines

    def _layout(self) -> None:
        metrics = QFontMetricsF(self.title_font)
        small = QFontMetricsF(self.small_font)
        width = max(MIN_WIDTH, metrics.horizontalAdvance("▦  " + self.title) + 40)
        in_w = max((small.horizontalAdvance(self.port_label(p)) for p in self.inputs.values()), default=0)
        out_w = max((small.horizontalAdvance(self.port_label(p)) for p in self.outputs.values()), default=0)
        width = max(width, in_w + out_w + 48)
        for key, value in self.summary_lines():
            width = max(width, small.horizontalAdvance(f"{key}  {value}") + 28)
        rows = max(len(self.inputs), len(self.outputs), 1 if not self.summary_lines() else 0)
        self.width = float(round(width / 10) * 10)
        self.ports_top = TITLE_H + 4
        self.summary_top = self.ports_top + rows * ROW_H
        self.height = self.summary_top + len(self.summary_lines()) * SUMMARY_H + 8
        for i, port in enumerate(self.inputs.values()):
            port.setPos(0, self.ports_top + ROW_H * i + ROW_H / 2)
        for i, port in enumerate(self.outputs.values()):
            port.setPos(self.width, self.ports_top + ROW_H * i + ROW_H / 2)

    def _set_tooltip(self) -> None:
        if self.missing and self.is_group:
            self.setToolTip(f"<b>{self.node_id}</b>: the subgraph file <b>{self.subgraph_source}</b> was not found; "
                            "the group is kept and saved unchanged.")
        elif self.is_group and self.node_class is not None:
            source = (f"<br>uses {self.subgraph_source} (version {self.subgraph_version})" if self.subgraph_source
                      else "<br>its graph is kept in this file")
            self.setToolTip(f"<b>{self.node_id}</b> — group {self.node_class.title()}{source}<br>"
                            "Tab enters it; Ctrl+Alt+G ungroups it.")
        elif self.missing:
            package = self.plugin.get("dist") or self.plugin.get("name")
            hint = f"install the package {package!r}" if package else "install the plugin that provides it"
            self.setToolTip(f"<b>{self.node_id}</b>: node type <b>{self.type_id}</b> is not installed; "
                            f"{hint}. Its params are kept and saved unchanged.")
        elif self.node_class is not None:
            self.setToolTip(f"<b>{self.node_id}</b> — {self.type_id}<br>{self.node_class.description}")

    def set_params(self, params: dict[str, Any]) -> None:
        self.prepareGeometryChange()
        self.params = dict(params)
        self._layout()
        self.update()

    def set_bypass(self, bypass: bool) -> None:
        self.bypass = bypass
        self.setOpacity(0.45 if bypass else 1.0)
        self.update()

    def set_badge(self, badge: Badge | None) -> None:
        """Show (or clear with None) a status badge; the run view of the editor uses this hook."""
        self.prepareGeometryChange()
        self.badge = badge
        self.setToolTip(badge.tooltip) if badge and badge.tooltip else self._set_tooltip()
        self.update()

    def port(self, name: str, direction: str) -> PortItem | None:
        return (self.inputs if direction == "input" else self.outputs).get(name)

    def ports(self) -> list[PortItem]:
        return list(self.inputs.values()) + list(self.outputs.values())

    # -- QGraphicsItem --

    def boundingRect(self) -> QRectF:
        extra = 40.0 if self.badge and self.badge.message else 0.0
        return QRectF(-4, -14, self.width + 8, self.height + 18 + extra)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, self.width, self.height), RADIUS, RADIUS)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < FAR_ZOOM:
            self._paint_far(painter)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(0, 0, self.width, self.height)
        body = QPainterPath()
        body.addRoundedRect(rect, RADIUS, RADIUS)
        if self.is_group:  # a stack of cards: this node holds others
            back = QPainterPath()
            back.addRoundedRect(rect.translated(4, 4), RADIUS, RADIUS)
            painter.fillPath(back, QBrush(theme.NODE_BODY.darker(130)))
            painter.setPen(QPen(theme.NODE_BORDER, 1.0))
            painter.drawPath(back)
        painter.fillPath(body, QBrush(theme.NODE_BODY))
        # Title bar: category colour (red for a missing type), rounded top corners only.
        title_color = theme.MISSING.darker(140) if self.missing else theme.category_color(self.category)
        painter.save()
        painter.setClipPath(body)  # the title bar takes the body's rounded top corners
        painter.fillRect(QRectF(0, 0, self.width, TITLE_H), title_color)
        painter.restore()
        painter.setFont(self.title_font)
        painter.setPen(theme.NODE_TEXT)
        glyph = "⚠" if self.missing else theme.category_glyph(self.category)
        painter.drawText(QRectF(9, 0, self.width - 18, TITLE_H), Qt.AlignmentFlag.AlignVCenter,
                         f"{glyph}  {self.title}")
        self._paint_ports(painter)
        self._paint_summary(painter)
        self._paint_frame(painter, body)
        if self.bypass:
            self._paint_bypass(painter)
        painter.setFont(self.small_font)
        painter.setPen(theme.NODE_SUBTEXT)
        painter.drawText(QRectF(2, -14, self.width, 13), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                         self.node_id)
        if self.badge is not None:
            self._paint_badge(painter)

    def _paint_far(self, painter: QPainter) -> None:
        """Zoomed far out text is unreadable: a block in the title colour, the run state as a
        strip on top. A 1,000-node graph shown whole stays quick to draw."""
        title = theme.MISSING.darker(140) if self.missing else theme.category_color(self.category)
        painter.fillRect(QRectF(0, 0, self.width, self.height), theme.NODE_BODY)
        painter.fillRect(QRectF(0, 0, self.width, TITLE_H * 1.5), title)
        if self.badge is not None:
            painter.fillRect(QRectF(0, -TITLE_H * 0.8, self.width, TITLE_H * 0.8), QColor(self.badge.color))
        if self.isSelected():
            painter.setPen(QPen(theme.NODE_SELECTED, 0))  # cosmetic: visible at any zoom
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(0, 0, self.width, self.height))

    def _paint_ports(self, painter: QPainter) -> None:
        painter.setFont(self.small_font)
        painter.setPen(theme.NODE_TEXT)
        for port in self.inputs.values():
            y = port.pos().y()
            painter.drawText(QRectF(12, y - ROW_H / 2, self.width - 24, ROW_H), Qt.AlignmentFlag.AlignVCenter,
                             self.port_label(port))
        for port in self.outputs.values():
            y = port.pos().y()
            painter.drawText(QRectF(12, y - ROW_H / 2, self.width - 24, ROW_H),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, self.port_label(port))

    def port_label(self, port: PortItem) -> str:
        """A port's label: its name, and the type's name when a plugin added the type (its
        colour alone does not say what a ToneCurve is; the built-in types' colours are known)."""
        if port.type_name and self.registry.type_plugin(port.type_name) is not None:
            return f"{port.name}: {port.type_name}"
        return port.name

    def _paint_summary(self, painter: QPainter) -> None:
        lines = self.summary_lines()
        if not lines:
            return
        painter.setPen(QPen(QColor("#3a3f46"), 1))
        painter.drawLine(QPointF(8, self.summary_top + 1), QPointF(self.width - 8, self.summary_top + 1))
        painter.setFont(self.small_font)
        for i, (key, value) in enumerate(lines):
            row = QRectF(10, self.summary_top + 4 + i * SUMMARY_H, self.width - 20, SUMMARY_H)
            painter.setPen(theme.NODE_SUBTEXT)
            painter.drawText(row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, key)
            painter.setPen(theme.MISSING.lighter(130) if self.missing else theme.NODE_TEXT)
            painter.drawText(row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, value)

    def _paint_frame(self, painter: QPainter, body: QPainterPath) -> None:
        if self.isSelected():
            pen = QPen(theme.NODE_SELECTED, 2.0)
        elif self.missing:
            pen = QPen(theme.MISSING, 2.0, Qt.PenStyle.DashLine)
        else:
            pen = QPen(theme.NODE_BORDER, 1.2)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(body)

    def _paint_bypass(self, painter: QPainter) -> None:
        painter.setPen(QPen(QColor("#e8b339"), 2.0))
        painter.drawLine(QPointF(6, self.height - 6), QPointF(self.width - 6, TITLE_H + 4))
        painter.setFont(self.small_font)
        painter.drawText(QRectF(0, 0, self.width - 8, TITLE_H),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, "bypassed")

    def _paint_badge(self, painter: QPainter) -> None:
        badge = self.badge
        assert badge is not None
        painter.setFont(self.small_font)
        metrics = QFontMetricsF(self.small_font)
        w = metrics.horizontalAdvance(badge.text) + 12
        pill = QRectF(self.width - w - 4, -9, w, 16)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(badge.color))
        painter.drawRoundedRect(pill, 8, 8)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, badge.text)
        if badge.progress is not None:
            bar = QRectF(4, TITLE_H - 3, (self.width - 8) * max(0.0, min(1.0, badge.progress)), 3)
            painter.fillRect(bar, QColor(badge.color).lighter(140))
        if badge.message:
            painter.setPen(QColor(badge.message_color) if badge.message_color else QColor(badge.color).lighter(150))
            painter.drawText(QRectF(0, self.height + 2, self.width, 40),
                             Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop, badge.message)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        scene = self.scene()
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and scene is not None:
            snap = getattr(scene, "snap_point", None)
            if snap is not None and scene.snap_to_grid:
                return snap(value)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged and scene is not None:
            scene.node_item_moved(self)
        return super().itemChange(change, value)
