"""Interpolation quality on photo-like frames moved by known camera motion, with real DIS flow.

A textured synthetic photo (smooth colour gradients, anti-aliased shapes, fine grain) is filmed
by a virtual camera that pans, zooms or rotates. Every fourth frame is kept, the node makes the
three in between, and they are compared with the true frames on the central 90%.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from kinograph.api import FrameStream
from kinograph.testing import PluginHarness

WIDTH, HEIGHT = 256, 192
STEPS = 4  # true frames per kept-frame step; the node is asked for factor 4


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A photo-like RGB image: gradients, shapes with soft edges and film-like grain."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        a, b, phase = rng.uniform(0.5, 3.0, 3)
        img[..., c] = 110 + 60 * np.sin(xs / width * a * 3 + phase) * np.cos(ys / height * b * 3 + c)
    for _ in range(60):
        color = rng.uniform(0, 255, 3).tolist()
        cx, cy = int(rng.uniform(0, width)), int(rng.uniform(0, height))
        r = int(rng.uniform(width / 40, width / 8))
        if rng.random() < 0.5:
            cv2.circle(img, (cx, cy), r, color, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (cx - r, cy - r // 2), (cx + r, cy + r // 2), color, -1, cv2.LINE_AA)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.2)
    img += (grain / grain.std() * 20)[..., None]
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    return np.clip(img, 0, 255).astype(np.uint8)


def camera(
    canvas: np.ndarray, dx: float = 0.0, dy: float = 0.0, zoom: float = 1.0, angle: float = 0.0
) -> np.ndarray:
    """The ``WIDTH x HEIGHT`` view of a larger canvas, panned, zoomed and rotated about its centre."""
    ch, cw = canvas.shape[:2]
    m = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, zoom)
    m[0, 2] += dx - (cw - WIDTH) / 2
    m[1, 2] += dy - (ch - HEIGHT) / 2
    return cv2.warpAffine(canvas, m, (WIDTH, HEIGHT), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB on the central 90% (or on ``mask``)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if mask is None:
        h, w = a.shape[:2]
        mh, mw = round(h * 0.05), round(w * 0.05)
        a, b = a[mh : h - mh, mw : w - mw], b[mh : h - mh, mw : w - mw]
    else:
        a, b = a[mask], b[mask]
    mse = float(((a - b) ** 2).mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-10))


def interpolate(harness: PluginHarness, kept: list[np.ndarray], **params: Any) -> np.ndarray:
    """Run the node on ``kept`` frames at factor ``STEPS``; all output frames ``[n, H, W, 3]``."""
    stream = FrameStream.from_array(np.stack(kept), fps=10.0, chunk_size=2)
    params = {"factor": STEPS, **params}
    out = harness.run_node("kinograph.frames.interpolate", params, frames=stream)["frames"]
    return np.concatenate([chunk.pixels for chunk in out])


@pytest.fixture(scope="module")
def harness() -> PluginHarness:
    return PluginHarness()


@pytest.fixture(scope="module")
def canvas() -> np.ndarray:
    return photo(WIDTH + 128, HEIGHT + 128)


# Motion between two kept frames (four true frames apart): the task's upper limits.
MOTIONS = {
    "pan": {"dx": 12.8, "dy": -9.6},  # 16 px
    "zoom": {"zoom": 1.03},
    "rotation": {"angle": 2.0},
}


def true_frames(canvas: np.ndarray, motion: dict[str, float], steps: int) -> list[np.ndarray]:
    """``steps + 1`` frames of the motion, linear in time, from still to the full ``motion``."""
    frames = []
    for k in range(steps + 1):
        tau = k / steps
        frames.append(
            camera(
                canvas,
                dx=motion.get("dx", 0.0) * tau,
                dy=motion.get("dy", 0.0) * tau,
                zoom=1.0 + (motion.get("zoom", 1.0) - 1.0) * tau,
                angle=motion.get("angle", 0.0) * tau,
            )
        )
    return frames


@pytest.mark.parametrize("kind", sorted(MOTIONS))
def test_flow_recovers_dropped_frames_of_camera_motion(
    harness: PluginHarness, canvas: np.ndarray, kind: str
) -> None:
    # two steps of the motion: kept frames 0, 4, 8 of the true sequence
    truth = true_frames(
        canvas, {k: v * 2 if k != "zoom" else 1 + (v - 1) * 2 for k, v in MOTIONS[kind].items()}, 2 * STEPS
    )
    kept = truth[::STEPS]
    flow = interpolate(harness, kept, method="flow", backend="opencv")
    blend = interpolate(harness, kept, method="blend")
    assert flow.shape[0] == len(kept) * STEPS
    dropped = [i for i in range(len(truth)) if i % STEPS]
    flow_db = [psnr(flow[i], truth[i]) for i in dropped]
    blend_db = [psnr(blend[i], truth[i]) for i in dropped]
    assert min(flow_db) >= 35.0, f"{kind}: flow PSNR {flow_db}"
    assert np.mean(flow_db) >= np.mean(blend_db) + 10.0, f"{kind}: flow {flow_db} vs blend {blend_db}"
    # kept frames come through untouched
    for i in range(0, len(truth), STEPS):
        np.testing.assert_array_equal(flow[i], truth[i])


def moving_square(background: np.ndarray, square: np.ndarray, x: float, y: int = 72) -> np.ndarray:
    """``background`` with ``square`` pasted at column ``x`` (whole pixels), row ``y``."""
    frame = background.copy()
    size = square.shape[0]
    frame[y : y + size, int(x) : int(x) + size] = square
    return frame


def test_occluding_object_is_moved_not_ghosted(harness: PluginHarness, canvas: np.ndarray) -> None:
    # a textured square slides 16 px right over a still background between the kept frames:
    # background appears on its left and disappears on its right
    background = camera(canvas)
    square = photo(64, 64, seed=7)[8:56, 8:56]
    truth = [moving_square(background, square, 80 + 4 * k) for k in range(STEPS + 1)]
    kept = [truth[0], truth[STEPS]]
    flow = interpolate(harness, kept, method="flow", backend="opencv")
    blend = interpolate(harness, kept, method="blend")
    region = np.zeros((HEIGHT, WIDTH), bool)
    region[72:120, 80 : 80 + 48 + 16] = True  # everything the square touches
    for i in range(1, STEPS):
        flow_db, blend_db = psnr(flow[i], truth[i], region), psnr(blend[i], truth[i], region)
        assert flow_db >= blend_db + 6.0, f"frame {i}: flow {flow_db:.1f} dB, blend {blend_db:.1f} dB"
        assert flow_db >= 20.0, f"frame {i}: flow {flow_db:.1f} dB in the occluded region"
        # away from the square the still background stays as it is
        assert psnr(flow[i], truth[i], ~region) >= 45.0


def test_scene_cut_repeats_the_nearer_side(harness: PluginHarness, canvas: np.ndarray) -> None:
    other = photo(WIDTH + 128, HEIGHT + 128, seed=3)
    # both shots pan 16 px between kept frames
    first = true_frames(canvas, {"dx": 32.0}, 2 * STEPS)
    second = true_frames(other, {"dx": 32.0}, 2 * STEPS)
    kept = first[::STEPS] + second[::STEPS]  # 3 + 3 frames, the cut between 3rd and 4th
    out = interpolate(harness, kept, method="flow", backend="opencv")
    assert out.shape[0] == len(kept) * STEPS
    cut = 2 * STEPS  # output index of the last frame before the cut
    for i in range(cut, cut + STEPS):
        nearer = kept[2] if (i - cut) / STEPS < 0.5 else kept[3]
        np.testing.assert_array_equal(out[i], nearer, err_msg=f"output frame {i} mixes the two shots")
    # inside each shot the motion is still interpolated, not repeated
    for i in (1, 2, 3, 5, 6, 7):
        assert psnr(out[i], first[i]) >= 35.0
        assert psnr(out[cut + STEPS + i], second[i]) >= 35.0
    # with detection off the same frames are ghosts of both shots: the check above can fail
    ghosts = interpolate(harness, kept, method="flow", backend="opencv", scene_cut_threshold=1.0)
    assert max(psnr(ghosts[cut + 2], kept[2]), psnr(ghosts[cut + 2], kept[3])) < 20.0


@pytest.mark.parametrize("scene", ["camera", "occlusion"])
def test_torch_backend_matches_opencv(harness: PluginHarness, canvas: np.ndarray, scene: str) -> None:
    if scene == "camera":
        truth = true_frames(canvas, {"dx": -10.0, "dy": 8.0, "zoom": 0.97, "angle": -1.5}, STEPS)
    else:
        square = photo(64, 64, seed=7)[8:56, 8:56]
        truth = [moving_square(camera(canvas), square, 80 + 4 * k) for k in range(STEPS + 1)]
    kept = [truth[0], truth[STEPS]]
    cv_frames = interpolate(harness, kept, method="flow", backend="opencv")
    torch_frames = interpolate(harness, kept, method="flow", backend="torch")
    diff = np.abs(cv_frames.astype(np.int16) - torch_frames.astype(np.int16))
    assert diff.mean() < 1.0
    assert min(psnr(cv_frames[i], torch_frames[i]) for i in range(1, STEPS)) > 40.0
    assert psnr(torch_frames[2], truth[2]) >= (35.0 if scene == "camera" else 30.0)


def test_cut_score_separates_camera_motion_from_cuts(canvas: np.ndarray) -> None:
    from kinograph.plugins.interpolation.node import InterpolateFrames
    from kinograph.plugins.interpolation.scene_cut import cut_score, histogram

    threshold = InterpolateFrames.Params().scene_cut_threshold
    still = camera(canvas)
    moved = [camera(canvas, dx=40, dy=20), camera(canvas, zoom=1.05), camera(canvas, angle=5.0)]
    shots = [camera(photo(WIDTH + 128, HEIGHT + 128, seed=seed)) for seed in (3, 11)]
    for frame in moved:
        assert cut_score(histogram(still), histogram(frame)) < threshold / 2
    for frame in shots:
        assert cut_score(histogram(still), histogram(frame)) > threshold * 1.5


def test_reduced_flow_grid_on_large_frames_keeps_quality(
    harness: PluginHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # frames big enough that the fast presets work on a flow grid scaled down 2x (ultrafast 4x
    # needs 960 px); compared with the same run on a full-size grid, on camera motion and an object
    from kinograph.plugins.interpolation import flow as flow_module

    width, height = 864, 480
    assert flow_module.flow_reduction("fast", height, width) == 2
    scene = photo(width + 128, height + 128, seed=5)
    ch, cw = scene.shape[:2]

    def view(dx: float, zoom: float) -> np.ndarray:
        m = cv2.getRotationMatrix2D((cw / 2, ch / 2), 0.0, zoom)
        m[0, 2] += dx - (cw - width) / 2
        m[1, 2] += 0.4 * dx - (ch - height) / 2
        return cv2.warpAffine(scene, m, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)

    camera_truth = [view(13.3 * k, 1.0 + 0.01 * k) for k in range(3)]
    square = photo(160, 160, seed=7)[16:144, 16:144]
    object_truth = [moving_square(view(0.0, 1.0), square, 300 + 14 * k, y=180) for k in range(3)]
    region = np.zeros((height, width), bool)
    region[180:308, 300 : 300 + 128 + 28] = True

    def middle(frames: list[np.ndarray], **params: Any) -> np.ndarray:
        stream = FrameStream.from_array(np.stack([frames[0], frames[2]]), fps=10.0)
        out = harness.run_node("kinograph.frames.interpolate", {"factor": 2, **params}, frames=stream)
        return np.concatenate([chunk.pixels for chunk in out["frames"]])[1]

    for backend in ("opencv", "torch"):
        reduced_camera = middle(camera_truth, preset="fast", backend=backend)
        reduced_object = middle(object_truth, preset="fast", backend=backend)
        camera_db = psnr(reduced_camera, camera_truth[1])
        object_db = psnr(reduced_object, object_truth[1], region)
        assert camera_db >= 35.0, f"{backend}: {camera_db:.1f} dB on camera motion"
        assert camera_db >= psnr(middle(camera_truth, method="blend"), camera_truth[1]) + 10.0
        assert object_db >= psnr(middle(object_truth, method="blend"), object_truth[1], region) + 6.0
        with monkeypatch.context() as patched:
            patched.setattr(flow_module, "MIN_FLOW_SIDE", 10**6)  # the full-size grid
            full_camera = psnr(middle(camera_truth, preset="fast", backend=backend), camera_truth[1])
            full_object = psnr(middle(object_truth, preset="fast", backend=backend), object_truth[1], region)
        assert camera_db >= full_camera - 0.5, f"{backend}: {camera_db:.1f} dB vs {full_camera:.1f} dB"
        assert object_db >= full_object - 0.5, f"{backend}: {object_db:.1f} dB vs {full_object:.1f} dB"
