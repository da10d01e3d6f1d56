"""Save image (graph embedded in PNG text) and Preview (thumbnails, stops pulling a stream)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kinograph.api import FrameChunk, FrameStream, NodeFailure
from kinograph.host import Graph, RunOptions
from kinograph.plugins.media.embed import read_embedded_graph
from kinograph.testing import PluginHarness


@pytest.fixture
def harness() -> PluginHarness:
    return PluginHarness()


def picture(width: int = 64, height: int = 48) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs * 4 % 256, ys * 5 % 256, (xs * ys) % 256], axis=-1).astype(np.uint8)


def save_graph(session, photo: Path, out: Path, **write_params) -> Graph:
    graph = Graph(session.registry)
    graph.add_node("kinograph.image.load", "load", params={"path": str(photo)})
    graph.add_node("kinograph.image.save", "save", params={"path": str(out), **write_params})
    graph.connect("load.image", "save.image")
    return graph


def test_saved_png_is_lossless_and_embeds_the_graph(session, tmp_path: Path) -> None:
    pixels = picture()
    Image.fromarray(pixels).save(tmp_path / "in.png")
    graph = save_graph(session, tmp_path / "in.png", tmp_path / "out" / "copy.png")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert result.ok, result.failures
    written = Path(result.outputs["save"]["path"])
    assert written == tmp_path / "out" / "copy.png"
    assert np.array_equal(np.asarray(Image.open(written)), pixels)
    embedded = read_embedded_graph(written)
    assert embedded is not None
    data = json.loads(embedded)
    assert data["nodes"]["save"]["type"] == "kinograph.image.save"
    reopened = Graph.from_json(embedded, session.registry)
    assert set(reopened.nodes) == {"load", "save"}


def test_if_exists_modes(session, tmp_path: Path) -> None:
    Image.fromarray(picture()).save(tmp_path / "in.png")
    target = tmp_path / "copy.png"
    target.write_bytes(b"old")
    options = RunOptions(device="cpu", use_cache=False)
    result = session.run(save_graph(session, tmp_path / "in.png", target, if_exists="error"), options)
    assert not result.ok and "already exists" in result.failures[0].message
    assert target.read_bytes() == b"old"
    result = session.run(save_graph(session, tmp_path / "in.png", target, if_exists="increment"), options)
    assert Path(result.outputs["save"]["path"]) == tmp_path / "copy_0001.png"
    assert target.read_bytes() == b"old"
    result = session.run(save_graph(session, tmp_path / "in.png", target, if_exists="overwrite"), options)
    assert result.ok and Image.open(target).size == (64, 48)
    assert not list(tmp_path.glob(".*partial*"))


def test_jpeg_keeps_graph_in_comment(harness, tmp_path: Path) -> None:
    from kinograph.plugins.media.save_image import save_image

    graph_text = json.dumps({"format": "kinograph.graph", "version": 1, "nodes": {}, "links": []})
    save_image(picture(), tmp_path / "shot.jpg", graph_text)
    assert read_embedded_graph(tmp_path / "shot.jpg") == graph_text
    Image.fromarray(picture()).save(tmp_path / "plain.png")
    assert read_embedded_graph(tmp_path / "plain.png") is None


def test_unknown_suffix_fails_clearly(harness, tmp_path: Path) -> None:
    with pytest.raises(NodeFailure, match="use one of"):
        harness.run_node("kinograph.image.save", {"path": str(tmp_path / "x.gifx")}, image=picture())


def test_preview_of_an_image_fits_the_size(harness) -> None:
    thumb = harness.run_node("kinograph.image.preview", {"size": 32}, image=picture(64, 48))["thumbnail"]
    assert thumb.shape == (24, 32, 3) and thumb.dtype == np.uint8
    small = harness.run_node("kinograph.image.preview", {"size": 256}, image=picture(20, 10))["thumbnail"]
    assert small.shape == (10, 20, 3)


def test_preview_of_frames_stops_pulling(harness) -> None:
    pulled = []

    def chunks():
        for start in range(0, 400, 4):
            pulled.append(start)
            yield FrameChunk(start, np.full((4, 40, 80, 3), start % 256, dtype=np.uint8))

    stream = FrameStream(chunks, fps=24, width=80, height=40, frame_count=400)
    thumb = harness.run_node("kinograph.image.preview", {"size": 40, "frame": 5}, frames=stream)["thumbnail"]
    assert thumb.shape == (20, 40, 3)
    assert int(thumb[0, 0, 0]) == 4  # frame 5 lives in the chunk starting at 4
    assert pulled == [0, 4]


def test_preview_needs_an_input(harness) -> None:
    with pytest.raises(NodeFailure, match="link an image or frames"):
        harness.run_node("kinograph.image.preview", {})


def test_unwritable_place_fails_clearly(harness, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(NodeFailure, match=r"cannot (write|create the folder)"):
        harness.run_node("kinograph.image.save", {"path": str(blocker / "sub" / "x.png")}, image=picture())


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a folder that refuses new files (Linux /proc)")
def test_a_folder_that_refuses_files_fails_clearly(harness) -> None:
    # /proc refuses new files even for root, where chmod would not stop a CI container's user.
    with pytest.raises(NodeFailure) as caught:
        harness.run_node("kinograph.image.save", {"path": "/proc/kinograph-test.png"}, image=picture())
    message = str(caught.value)
    assert message.startswith("cannot write /proc/kinograph-test.png") and "Errno" not in message
    assert not Path("/proc/kinograph-test.png").exists()


def test_unlinked_preview_is_refused_before_running(tmp_path: Path) -> None:
    from kinograph.core.validation import validate
    from kinograph.host import Graph

    graph = Graph()
    graph.add_node("kinograph.image.preview", "preview")
    problems = validate(graph)
    assert [(p.where, p.message) for p in problems] == [
        ("nodes.preview", "nothing to preview: link its image or frames input")
    ]
