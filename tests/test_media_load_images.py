"""Load images: folders and globs in natural order, as a batch or a lazy stream."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kinograph.api import NodeFailure
from kinograph.testing import PluginHarness

LOAD = "kinograph.image.load_folder"


@pytest.fixture
def harness() -> PluginHarness:
    return PluginHarness()


def write_burst(folder: Path, names: list[str], size: tuple[int, int] = (24, 16)) -> dict[str, int]:
    """One flat-coloured image per name; the colour encodes the name's intended position."""
    folder.mkdir(parents=True, exist_ok=True)
    values = {}
    for name in names:
        value = int("".join(ch for ch in name if ch.isdigit()) or 0) * 10 % 256
        Image.fromarray(np.full((size[1], size[0], 3), value, dtype=np.uint8)).save(folder / name)
        values[name] = value
    return values


def frame_values(stream) -> list[int]:
    return [int(frame[0, 0, 0]) for frame in stream.frames()]


def test_folder_in_natural_order_as_a_lazy_stream(harness, tmp_path: Path) -> None:
    names = ["img10.png", "img2.png", "img1.png", "img21.png", "img3.png"]
    write_burst(tmp_path / "burst", names)
    (tmp_path / "burst" / "notes.txt").write_text("not an image")
    stream = harness.run_node(LOAD, {"path": str(tmp_path / "burst"), "fps": 12})["frames"]
    assert (stream.width, stream.height, stream.frame_count, stream.fps) == (24, 16, 5, 12)
    assert frame_values(stream) == [10, 20, 30, 100, 210]


def test_glob_selects_files(harness, tmp_path: Path) -> None:
    write_burst(tmp_path, ["a1.png", "a2.png", "b3.png"])
    stream = harness.run_node(LOAD, {"path": str(tmp_path / "a*.png")})["frames"]
    assert frame_values(stream) == [10, 20]


def test_batch_output_when_not_streaming(harness, tmp_path: Path) -> None:
    write_burst(tmp_path, ["f1.png", "f2.png", "f3.png"])
    outputs = harness.run_node(LOAD, {"path": str(tmp_path), "as_stream": False})
    images = outputs["images"]
    assert images.shape == (3, 16, 24, 3) and images.dtype == np.uint8
    assert [int(v) for v in images[:, 0, 0, 0]] == [10, 20, 30]
    assert frame_values(outputs["frames"]) == [10, 20, 30]


def test_mixed_sizes_are_resized(harness, tmp_path: Path) -> None:
    write_burst(tmp_path, ["s1.png"], (24, 16))
    write_burst(tmp_path, ["s2.png"], (48, 32))
    stream = harness.run_node(LOAD, {"path": str(tmp_path), "mismatch": "resize"})["frames"]
    frames = list(stream.frames())
    assert [f.shape for f in frames] == [(16, 24, 3), (16, 24, 3)]
    assert int(frames[1][5, 5, 0]) == 20
    # Resizing is allowed but never silent: one warning names how many and an example.
    (warning,) = harness.last_context.warnings
    assert "1 of 2 images" in warning and "s2.png is 48x32" in warning and "24x16" in warning


def test_same_sizes_give_no_warning(harness, tmp_path: Path) -> None:
    write_burst(tmp_path, ["s1.png", "s2.png"], (24, 16))
    harness.run_node(LOAD, {"path": str(tmp_path)})
    assert harness.last_context.warnings == []


def test_mixed_sizes_refused_before_reading_pixels(harness, tmp_path: Path) -> None:
    write_burst(tmp_path, ["s1.png"], (24, 16))
    write_burst(tmp_path, ["s2.png"], (48, 32))
    with pytest.raises(NodeFailure, match=r"s2\.png is 48x32"):
        harness.run_node(LOAD, {"path": str(tmp_path), "mismatch": "error"})


def test_empty_folder_and_missing_folder_fail_clearly(harness, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NodeFailure, match="no images in"):
        harness.run_node(LOAD, {"path": str(tmp_path / "empty")})
    with pytest.raises(NodeFailure, match="missing"):
        harness.run_node(LOAD, {"path": str(tmp_path / "missing")})


def test_stream_reads_one_chunk_at_a_time(harness, tmp_path: Path) -> None:
    names = [f"p{i}.png" for i in range(1, 21)]
    write_burst(tmp_path, names)
    stream = harness.run_node(LOAD, {"path": str(tmp_path)})["frames"]
    chunks = iter(stream)
    first = next(chunks)
    assert first.count == 8
    # Files past the first chunk are not read yet: replace one and the stream sees the new one.
    Image.fromarray(np.full((16, 24, 3), 7, dtype=np.uint8)).save(tmp_path / "p20.png")
    rest = [int(f[0, 0, 0]) for chunk in chunks for f in chunk.pixels]
    assert rest[-1] == 7


def test_resize_keeps_the_shape_by_cropping(harness, tmp_path: Path) -> None:
    write_burst(tmp_path, ["w1.png"], (40, 20))
    wide = np.zeros((20, 80, 3), dtype=np.uint8)
    wide[:, 20:60] = 200  # the centre 40 px of a 2:1 picture twice as wide
    Image.fromarray(wide).save(tmp_path / "w2.png")
    frames = list(harness.run_node(LOAD, {"path": str(tmp_path)})["frames"].frames())
    assert frames[1].shape == (20, 40, 3)
    assert frames[1].min() == 200  # the centre was kept, not squeezed
