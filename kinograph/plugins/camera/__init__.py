"""Camera nodes: a hand-set camera path and the node that animates a still image along a Motion.

Heavy libraries (numpy, OpenCV, torch) are imported when the nodes run.
"""

from __future__ import annotations

from kinograph.api import Node, hookimpl
from kinograph.plugins.camera.animate import AnimateImage
from kinograph.plugins.camera.camera_path import CameraPath


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [CameraPath, AnimateImage]
