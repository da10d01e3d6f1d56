"""Badges: small status overlays drawn on a node (run state, progress, warnings).

The editor's run view (queued / running / cached / done / failed) sets them with
:meth:`NodeItem.set_badge`; the graph model never stores them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Badge:
    """Text in a coloured pill at the node's top-right; ``progress`` (0..1) draws a bar under the title."""

    text: str
    color: str = "#3d5a80"
    progress: float | None = None
    tooltip: str = ""
    #: Message drawn under the node (e.g. a failure), wrapped to the node's width.
    message: str = ""
    #: Colour of that message (default: a lighter shade of the pill's colour).
    message_color: str = ""
