"""Media nodes: load images and videos, write videos and images, previews.

Heavy libraries (numpy, Pillow, OpenCV, PyAV) are imported inside the functions that use them,
so listing nodes stays fast.
"""

from __future__ import annotations

from kinograph.api import GraphReader, Node, hookimpl
from kinograph.plugins.media.embed import EMBEDDING_SUFFIXES, read_embedded_graph
from kinograph.plugins.media.load_image import LoadImage
from kinograph.plugins.media.load_images import LoadImages
from kinograph.plugins.media.load_video import LoadVideo
from kinograph.plugins.media.preview import Preview
from kinograph.plugins.media.save_image import SaveImage
from kinograph.plugins.media.write_video import WriteVideo


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [LoadImage, LoadImages, LoadVideo, WriteVideo, SaveImage, Preview]


@hookimpl
def kinograph_graph_readers() -> list[GraphReader]:
    # Write video and Save image embed the graph that made a file; this reads it back.
    return [GraphReader("kinograph media", EMBEDDING_SUFFIXES, read_embedded_graph)]
