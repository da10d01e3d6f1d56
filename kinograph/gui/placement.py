"""Where a new node goes: where the user asked, or the nearest spot where it covers no other node."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF

#: Space kept around nodes, and the step of the search for a free spot.
CLEARANCE = 20.0
STEP = 40.0
RINGS = 15


def free_spot(near: QPointF, size: tuple[float, float], others: Iterable[QRectF]) -> QPointF:
    """The top-left nearest to ``near`` for a node of ``size`` that overlaps none of ``others``.

    Spots below, then right of the wanted one come first: a new node joins the graph's edge.
    """
    taken = [rect.adjusted(-CLEARANCE, -CLEARANCE, CLEARANCE, CLEARANCE) for rect in others]
    for ring in range(RINGS):
        offsets = [(0.0, 0.0)] if ring == 0 else [
            (dx * STEP, dy * STEP) for dx in range(-ring, ring + 1) for dy in range(-ring, ring + 1)
            if max(abs(dx), abs(dy)) == ring]
        for dx, dy in sorted(offsets, key=lambda o: (abs(o[0]) + abs(o[1]), -o[1], -o[0])):
            rect = QRectF(near.x() + dx, near.y() + dy, size[0], size[1])
            if not any(rect.intersects(other) for other in taken):
                return QPointF(near.x() + dx, near.y() + dy)
    return near
