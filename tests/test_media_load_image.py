"""Load image on real files written by Pillow: formats, orientation, modes, depth, failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kinograph.api import NodeFailure
from kinograph.testing import PluginHarness

LOAD = "kinograph.image.load"


@pytest.fixture
def harness() -> PluginHarness:
    return PluginHarness()


def pattern(width: int = 37, height: int = 23) -> np.ndarray:
    """An asymmetric RGB pattern (odd size) so flips and rotations show."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs * 255 // width, ys * 255 // height, (xs + 2 * ys) % 256], axis=-1).astype(np.uint8)


@pytest.mark.parametrize(
    ("suffix", "options", "tolerance"),
    [(".png", {}, 0), (".bmp", {}, 0), (".tiff", {}, 0), (".webp", {"lossless": True}, 0), (".jpg", {"quality": 98}, 12)],
)
def test_formats_load_as_rgb_uint8(harness, tmp_path: Path, suffix, options, tolerance) -> None:
    pixels = pattern()
    path = tmp_path / f"picture{suffix}"
    Image.fromarray(pixels).save(path, **options)
    image = harness.run_node(LOAD, {"path": str(path)})["image"]
    assert image.dtype == np.uint8 and image.shape == (23, 37, 3) and image.flags["C_CONTIGUOUS"]
    assert np.abs(image.astype(int) - pixels).mean() <= tolerance


def test_exif_orientation_is_applied(harness, tmp_path: Path) -> None:
    pixels = pattern(40, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    path = tmp_path / "phone.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=98)
    image = harness.run_node(LOAD, {"path": str(path)})["image"]
    assert image.shape == (40, 20, 3)
    expected = np.rot90(pixels, -1)
    assert np.abs(image.astype(int) - expected).mean() < 12


def test_grayscale_becomes_rgb(harness, tmp_path: Path) -> None:
    gray = pattern()[..., 0]
    Image.fromarray(gray, mode="L").save(tmp_path / "gray.png")
    image = harness.run_node(LOAD, {"path": str(tmp_path / "gray.png")})["image"]
    assert image.shape == (23, 37, 3)
    for channel in range(3):
        assert np.array_equal(image[..., channel], gray)


def test_rgba_is_composited_over_background(harness, tmp_path: Path) -> None:
    rgba = np.zeros((10, 12, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:, :6, 3] = 255  # left half opaque red
    rgba[:, 6:, 3] = 0  # right half fully transparent
    rgba[0, 0, 3] = 128  # one half-transparent pixel
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "alpha.png")
    image = harness.run_node(LOAD, {"path": str(tmp_path / "alpha.png"), "background": "#00ff00"})["image"]
    assert tuple(image[5, 2]) == (200, 0, 0)
    assert tuple(image[5, 9]) == (0, 255, 0)
    r, g, _ = image[0, 0]
    assert abs(int(r) - 100) <= 1 and abs(int(g) - 127) <= 1


def test_sixteen_bit_grayscale_is_scaled(harness, tmp_path: Path) -> None:
    deep = (np.arange(16 * 8, dtype=np.uint16).reshape(8, 16) * 512).astype(np.uint16)
    deep[0, 0] = 65535
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    image = harness.run_node(LOAD, {"path": str(tmp_path / "deep.png")})["image"]
    assert image.dtype == np.uint8 and image.shape == (8, 16, 3)
    assert image[0, 0, 0] == 255
    assert np.abs(image[..., 1].astype(int) - np.rint(deep / 257.0)).max() <= 1


def test_palette_with_transparency(harness, tmp_path: Path) -> None:
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.paste(1, (4, 0, 8, 8))
    pal.save(tmp_path / "pal.png", transparency=0)
    image = harness.run_node(LOAD, {"path": str(tmp_path / "pal.png"), "background": "#ffffff"})["image"]
    assert tuple(image[0, 0]) == (255, 255, 255)
    assert tuple(image[0, 6]) == (0, 0, 255)


def test_missing_file_names_the_path(harness, tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(NodeFailure, match=r"nope\.png"):
        harness.run_node(LOAD, {"path": str(missing)})


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30])
def test_corrupt_file_names_the_path(harness, tmp_path: Path, content: bytes) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(content)
    with pytest.raises(NodeFailure, match=r"broken\.png"):
        harness.run_node(LOAD, {"path": str(broken)})


def test_truncated_jpeg_fails_cleanly(harness, tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    Image.fromarray(pattern(64, 64)).save(path, quality=90)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(NodeFailure, match=r"cut\.jpg"):
        harness.run_node(LOAD, {"path": str(path)})


def test_in_a_graph_the_cli_reports_a_clean_error(session, tmp_path: Path) -> None:
    from kinograph.host import Graph, RunOptions

    missing = tmp_path / "gone.png"
    missing.write_bytes(b"junk")
    graph = Graph(session.registry)
    graph.add_node(LOAD, "load", params={"path": str(missing)})
    graph.add_node("kinograph.image.preview", "preview")
    graph.connect("load.image", "preview.image")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert result.status == "failed"
    assert result.failures[0].node_id == "load" and "gone.png" in result.failures[0].message
    assert result.states["preview"] == "skipped"
