"""Animate image: frames move as the Motion says, stay inside the picture, backends agree."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from kinograph.api import Motion
from kinograph.plugins.camera.animate import AnimateImage
from kinograph.plugins.camera.warp import plan_views
from kinograph.testing import PluginHarness

ANIMATE = "kinograph.frames.animate"


@pytest.fixture
def harness() -> PluginHarness:
    return PluginHarness()


def photo(width: int = 160, height: int = 120, seed: int = 0) -> np.ndarray:
    """Smooth, detailed, never-black test picture (values 40..255)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack([xs / width, ys / height, 0.5 + 0.5 * np.sin(xs / 7.0) * np.cos(ys / 9.0)], axis=-1)
    noise = rng.normal(0, 0.03, (height // 4 + 1, width // 4 + 1, 3)).repeat(4, 0).repeat(4, 1)[:height, :width]
    return np.clip(40 + 215 * np.clip(base + noise, 0, 1), 0, 255).astype(np.uint8)


def motion(steps: int = 8, **ends: float) -> Motion:
    def ramp(name: str, rest: float) -> tuple[float, ...]:
        end = ends.get(name, rest)
        start = ends.get(f"{name}_start", rest)
        return tuple(start + (end - start) * i / max(steps - 1, 1) for i in range(steps))

    return Motion(ramp("pan_x", 0.0), ramp("pan_y", 0.0), ramp("zoom", 1.0), ramp("rotation", 0.0))


def frames_of(harness, image, mo, **params) -> np.ndarray:
    stream = harness.run_node(ANIMATE, {"width": 64, "height": 48, **params}, image=image, motion=mo)["frames"]
    return np.stack(list(stream.frames()))


def test_stream_properties_and_chunks(harness) -> None:
    stream = harness.run_node(
        ANIMATE, {"width": 80, "height": 60, "fps": 12, "chunk": 3}, image=photo(), motion=motion(7, zoom=1.3)
    )["frames"]
    assert (stream.width, stream.height, stream.fps, stream.frame_count) == (80, 60, 12, 7)
    chunks = list(stream)
    assert [c.start for c in chunks] == [0, 3, 6] and [c.count for c in chunks] == [3, 3, 1]
    assert all(c.pixels.dtype == np.uint8 and c.pixels.flags["C_CONTIGUOUS"] for c in chunks)


def test_frames_move(harness) -> None:
    frames = frames_of(harness, photo(), motion(6, zoom=1.4, pan_x=0.1, rotation=5))
    diffs = [np.abs(frames[i + 1].astype(int) - frames[i]).mean() for i in range(5)]
    assert min(diffs) > 1.0


def test_pan_moves_the_content_the_right_way(harness) -> None:
    image = np.full((100, 100, 3), 120, dtype=np.uint8)
    image[45:55, 45:55] = 255  # a bright square in the middle
    frames = frames_of(harness, image, motion(2, pan_x_start=0.0, pan_x=0.1, zoom=1.0), width=100, height=100, border="reflect")
    def centre_x(frame):
        return float(np.nonzero(frame[..., 0] > 200)[1].mean())
    # The camera moves right by 10% of the width, so the square moves left by 10 px.
    assert centre_x(frames[1]) == pytest.approx(centre_x(frames[0]) - 10, abs=0.6)


def test_positive_rotation_turns_the_picture_counter_clockwise(harness) -> None:
    image = np.full((64, 64, 3), 100, dtype=np.uint8)
    image[30:34, 50:58] = 255  # a mark right of centre
    mo = Motion((0.0,), (0.0,), (1.0,), (90.0,))
    frame = frames_of(harness, image, mo, width=64, height=64, border="reflect")[0]
    ys, xs = np.nonzero(frame[..., 0] > 200)
    # Counter-clockwise on screen: right of centre goes to above centre.
    assert ys.mean() < 16 and abs(xs.mean() - 31.5) < 2


@pytest.mark.parametrize("seed", range(6))
def test_crop_zoom_keeps_every_view_inside_with_the_smallest_extra_zoom(seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = 10
    mo = Motion(
        tuple(rng.uniform(-0.3, 0.3, steps)),
        tuple(rng.uniform(-0.3, 0.3, steps)),
        tuple(rng.uniform(0.6, 1.5, steps)),
        tuple(rng.uniform(-40, 40, steps)),
    )
    src, out = (200, 150), (96, 54)

    def worst_outside(matrices) -> float:
        worst = -math.inf
        for a, b, c, d, e, f in matrices:
            for u in (0, out[0] - 1):
                for v in (0, out[1] - 1):
                    x, y = a * u + b * v + c, d * u + e * v + f
                    worst = max(worst, -x, x - (src[0] - 1), -y, y - (src[1] - 1))
        return worst

    views = plan_views(mo, src, out, "crop_zoom")
    assert views.extra_zoom >= 1.0
    assert worst_outside(views.matrices) <= 1e-6
    # Minimal: 2% less extra zoom pushes some corner of some frame outside the picture.
    if views.extra_zoom > 1.0:
        looser = [
            (a * 1.02, b * 1.02, 0.0, d * 1.02, e * 1.02, 0.0) for a, b, _, d, e, _ in views.matrices
        ]
        centre_u, centre_v = (out[0] - 1) / 2, (out[1] - 1) / 2
        shifted = []
        for (a, b, c, d, e, f), (la, lb, _, ld, le, _) in zip(views.matrices, looser, strict=True):
            cx, cy = a * centre_u + b * centre_v + c, d * centre_u + e * centre_v + f
            shifted.append((la, lb, cx - la * centre_u - lb * centre_v, ld, le, cy - ld * centre_u - le * centre_v))
        assert worst_outside(shifted) > 0


def test_crop_zoom_frames_have_no_borders(harness) -> None:
    import cv2

    image = photo(160, 120)
    # Rotating 30 degrees and panning to the edge: reflect shows mirrored edges, crop_zoom never does.
    mo = motion(4, rotation_start=0, rotation=30, pan_x=0.3, zoom=0.8)
    cropped = frames_of(harness, image, mo, width=96, height=64, border="crop_zoom")
    assert cropped.min() >= 30  # the picture has no dark pixels; a black border would show
    views = plan_views(mo, (160, 120), (96, 64), "crop_zoom")
    assert views.extra_zoom > 1.2  # the rotation and pan needed extra zoom
    # The same views drawn with a black outside show no black either: nothing was sampled outside.
    for a, b, c, d, e, f in views.matrices:
        m = np.array([[a, b, c], [d, e, f]])
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        frame = cv2.warpAffine(image, m, (96, 64), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        assert frame.min() >= 30
    unzoomed = plan_views(mo, (160, 120), (96, 64), "reflect")
    a, b, c, d, e, f = unzoomed.matrices[-1]
    frame = cv2.warpAffine(image, np.array([[a, b, c], [d, e, f]]), (96, 64), flags=flags, borderValue=0)
    assert frame.min() == 0  # without the extra zoom this frame would show a border


def test_reflect_keeps_the_requested_zoom(harness) -> None:
    mo = motion(3, rotation=30, pan_x=0.3, zoom=0.8)
    assert plan_views(mo, (160, 120), (96, 64), "reflect").extra_zoom == 1.0
    frames = frames_of(harness, photo(), mo, width=96, height=64, border="reflect")
    assert frames.min() >= 30


def test_large_source_is_shrunk_smoothly(harness) -> None:
    import cv2

    big = photo(1600, 1200, seed=3)
    frame = frames_of(harness, big, Motion((0.0,), (0.0,), (1.0,), (0.0,)), width=80, height=60)[0]
    reference = cv2.resize(big, (80, 60), interpolation=cv2.INTER_AREA)
    assert np.abs(frame.astype(int) - reference).mean() < 3


@pytest.mark.parametrize("border", ["crop_zoom", "reflect"])
def test_torch_backend_matches_opencv(harness, border: str) -> None:
    mo = motion(5, zoom=1.3, pan_x=0.08, pan_y=-0.05, rotation=12)
    opencv = frames_of(harness, photo(), mo, border=border, backend="opencv")
    torch_frames = frames_of(harness, photo(), mo, border=border, backend="torch")
    diff = np.abs(opencv.astype(int) - torch_frames)
    assert diff.mean() < 0.6 and np.percentile(diff, 99) <= 3


def flow_motion(steps: int = 4, dx: float = 0.04) -> Motion:
    rng = np.random.default_rng(5)
    flow = np.zeros((steps, 6, 8, 2), dtype=np.float32)
    flow[..., 0] = dx
    flow += rng.normal(0, 0.005, flow.shape).astype(np.float32)
    base = motion(steps, zoom=1.2)
    return Motion(base.pan_x, base.pan_y, base.zoom, base.rotation, flow=flow)


def test_flow_displaces_like_a_pan() -> None:
    import cv2

    from kinograph.plugins.camera.warp import warp_opencv

    image = photo()
    views = plan_views(motion(1), (160, 120), (64, 48), "reflect")
    flow = np.zeros((6, 8, 2), dtype=np.float32)
    flow[..., 0] = 0.05
    moved = warp_opencv(image, views.matrices[0], (64, 48), "reflect", flow, (160.0, 120.0))
    panned = plan_views(Motion((0.05,), (0.0,), (1.0,), (0.0,)), (160, 120), (64, 48), "reflect")
    expected = warp_opencv(image, panned.matrices[0], (64, 48), "reflect")
    assert np.abs(moved.astype(int) - expected).mean() < 0.6
    assert np.abs(moved.astype(int) - cv2.resize(image, (64, 48))).mean() > 3


def test_torch_backend_matches_opencv_with_flow(harness) -> None:
    mo = flow_motion()
    opencv = frames_of(harness, photo(), mo, backend="opencv")
    torch_frames = frames_of(harness, photo(), mo, backend="torch")
    diff = np.abs(opencv.astype(int) - torch_frames)
    assert diff.mean() < 0.6 and np.percentile(diff, 99) <= 3


def test_flow_is_kept_inside_with_crop_zoom(harness) -> None:
    mo = flow_motion(dx=0.2)
    with_flow = plan_views(mo, (160, 120), (64, 48), "crop_zoom", [(0.21 * 160, 0.01 * 120)] * mo.steps)
    without = plan_views(mo, (160, 120), (64, 48), "crop_zoom")
    assert with_flow.extra_zoom > without.extra_zoom
    assert frames_of(harness, photo(), mo).min() >= 30


def test_size_must_be_even() -> None:
    with pytest.raises(ValidationError, match="multiple of 2"):
        AnimateImage.Params(width=101)
    AnimateImage.Params(width=102, height=58)


def test_batch_of_one_and_bad_inputs(harness) -> None:
    from kinograph.api import NodeFailure

    frames = frames_of(harness, photo()[None], motion(2))
    assert frames.shape == (2, 48, 64, 3)
    with pytest.raises(NodeFailure, match="RGB uint8"):
        frames_of(harness, photo().astype(np.float32), motion(2))
    with pytest.raises(NodeFailure, match=r"1x1 pixels, too small.*at least 2x2"):
        frames_of(harness, np.zeros((1, 1, 3), np.uint8), motion(2))


@pytest.mark.parametrize(("zoom", "rotation", "words"), [(0.0, 0.0, "zoom"), (1.0, float("nan"), "finite")])
def test_broken_motion_fails_clearly(harness, zoom: float, rotation: float, words: str) -> None:
    from kinograph.api import NodeFailure

    broken = Motion((0.0, 0.0), (0.0, 0.0), (1.0, zoom), (0.0, rotation))
    with pytest.raises(NodeFailure, match=f"{words}.*step 1"):
        frames_of(harness, photo(), broken)
