"""Measure motion: known camera moves come back through H.264 within the stated accuracy, and a
measured move replays on a photo (motion transfer).

Clips are rendered from procedural photos with the camera pack's own warp (so "known" means the
exact per-frame views Animate image would use), encoded to H.264 and decoded with PyAV, then
measured. Errors are judged the way a replay sees them: the measured Motion is played back with
``plan_views`` on the first frame, and its frame-to-frame views are compared with the true ones.
"""

from __future__ import annotations

import gc
import io
import json
import math
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from kinograph.api import Motion, NodeFailure
from kinograph.plugins.camera.animate import stream_fps
from kinograph.plugins.camera.warp import plan_views, shrink_for, warp_opencv
from kinograph.plugins.learned.measure import measure_chunks
from kinograph.testing import PluginHarness, frames_from_array

GRAPHS = Path(__file__).resolve().parent.parent / "graphs"
SIZE = (640, 360)
STEPS = 100
#: The accuracy the issue asks for, at 640 px wide.
PAN_PX_PER_STEP = 0.0005 * SIZE[0]  # 0.3 px
ZOOM_PER_STEP = 5e-4  # relative; moves a frame corner by ~0.18 px
ROTATION_DEG_PER_STEP = 0.03  # moves a frame corner by ~0.19 px
DRIFT_PX = 0.01 * SIZE[0]  # 6.4 px over 100 steps


# -- clips -------------------------------------------------------------------------------


def photo(width: int, height: int, seed: int, flat: tuple[int, int] | None = None) -> np.ndarray:
    """A textured procedural photo: noise at three scales plus random discs and boxes.

    ``flat`` = (x0, x1) paints that band of columns an even grey (a wall, a sky).
    """
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.float32)
    for scale in (4, 16, 64):
        noise = rng.normal(0, 1, (height // scale + 2, width // scale + 2, 3)).astype(np.float32)
        big = cv2.resize(noise, (width + 2 * scale, height + 2 * scale), interpolation=cv2.INTER_CUBIC)
        img += big[scale : scale + height, scale : scale + width] * math.sqrt(scale)
    img = np.clip(128 + 10 * img, 0, 255).astype(np.uint8)
    for _ in range(width * height // 12000):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(5, 50))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, colour, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (x, y), (x + r, y + int(rng.integers(5, 40))), colour, -1)
    if flat is not None:
        img[:, flat[0] : flat[1]] = (120, 124, 118)
    return img


def render(image: np.ndarray, motion: Motion, size: tuple[int, int] = SIZE) -> tuple[np.ndarray, list[np.ndarray]]:
    """Frames of ``motion`` over ``image`` (Animate's warp, no crop-zoom) and their 3x3 views."""
    views = plan_views(motion, (image.shape[1], image.shape[0]), size, "reflect")
    source, shrunk = shrink_for(views, image)
    frames = np.stack([warp_opencv(source, m, size, "reflect") for m in shrunk.matrices])
    return frames, [as3x3(m) for m in views.matrices]


def h264(frames: np.ndarray, fps: int = 24, crf: int = 18) -> np.ndarray:
    """Encode with libx264 (yuv420p) and decode again, in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def ramp(*values: np.ndarray) -> Motion:
    return Motion(*(tuple(float(v) for v in seq) for seq in values))


def chunks_of(frames: np.ndarray, size: int = 8) -> list[np.ndarray]:
    return [frames[i : i + size] for i in range(0, len(frames), size)]


# -- judging -----------------------------------------------------------------------------


def as3x3(m: tuple[float, ...]) -> np.ndarray:
    a, b, c, d, e, f = m
    return np.array([[a, b, c], [d, e, f], [0.0, 0.0, 1.0]])


def true_maps(views: list[np.ndarray]) -> list[np.ndarray]:
    """Frame k pixels -> frame 0 pixels, from the views the clip was rendered with."""
    first = np.linalg.inv(views[0])
    return [first @ v for v in views]


def replayed_maps(motion: Motion, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    """The views Animate gives ``motion`` on the first frame itself (same size, no crop-zoom)."""
    return [as3x3(m) for m in plan_views(motion, size, size, "reflect").matrices]


def errors(motion: Motion, truth: list[np.ndarray], size: tuple[int, int] = SIZE) -> dict[str, float]:
    """Worst per-step pan (px at the frame centre), zoom (relative) and rotation (degrees) errors,
    and the worst drift (px) of the frame centre and corners over the whole clip."""
    replay = replayed_maps(motion, size)
    centre = np.array([(size[0] - 1) / 2, (size[1] - 1) / 2, 1.0])
    corners = [np.array([x, y, 1.0]) for x in (0, size[0] - 1) for y in (0, size[1] - 1)]
    pan, zoom, rotation = [], [], []
    for k in range(1, len(replay)):
        got = np.linalg.inv(replay[k - 1]) @ replay[k]
        want = np.linalg.inv(truth[k - 1]) @ truth[k]
        pan.append(float(np.linalg.norm((got @ centre - want @ centre)[:2])))
        zoom.append(abs(math.hypot(got[0, 0], got[1, 0]) / math.hypot(want[0, 0], want[1, 0]) - 1))
        turn = math.atan2(got[1, 0], got[0, 0]) - math.atan2(want[1, 0], want[0, 0])
        rotation.append(abs(math.degrees(turn)))
    drift = max(
        float(np.linalg.norm((replay[k] @ p - truth[k] @ p)[:2])) for k in range(len(replay)) for p in [centre, *corners]
    )
    return {"pan_px": max(pan), "zoom": max(zoom), "rotation_deg": max(rotation), "drift_px": drift}


def assert_within_spec(err: dict[str, float]) -> None:
    assert err["pan_px"] <= PAN_PX_PER_STEP, err
    assert err["zoom"] <= ZOOM_PER_STEP, err
    assert err["rotation_deg"] <= ROTATION_DEG_PER_STEP, err
    assert err["drift_px"] <= DRIFT_PX, err


# -- known moves through H.264 -----------------------------------------------------------

T = np.linspace(0.0, 1.0, STEPS)
MOVES = {
    # A handheld-like move: pan back and forth, tilt, push in, roll out and back.
    "sway": ramp(0.06 * np.sin(2 * np.pi * T), -0.04 * T, 1.3 * (1 + 0.25 * T), 3 * np.sin(np.pi * T)),
    # A steady pan with a slow roll and pull-out: errors that always lean one way would pile up.
    "steady": ramp(0.1 * T, 0.03 * T, 1.45 - 0.1 * T, 2.5 * T),
}


@pytest.fixture(scope="module")
def known_clips() -> dict[str, tuple[np.ndarray, list[np.ndarray]]]:
    clips = {}
    for seed, (name, move) in enumerate(MOVES.items(), start=1):
        frames, views = render(photo(1280, 720, seed), move)
        clips[name] = (h264(frames), true_maps(views))
    return clips


@pytest.mark.parametrize("name", list(MOVES))
def test_known_moves_come_back_within_the_accuracy_bound(known_clips, name: str) -> None:
    frames, truth = known_clips[name]
    motion = measure_chunks(chunks_of(frames), 24.0)
    assert motion.steps == STEPS
    assert (motion.pan_x[0], motion.pan_y[0], motion.zoom[0], motion.rotation[0]) == (0.0, 0.0, 1.0, 0.0)
    assert motion.meta["fps"] == 24.0 and motion.meta["segments"] == [0] and motion.meta["source"] == "measured"
    assert_within_spec(errors(motion, truth))


def test_measured_values_are_the_move_relative_to_the_first_frame(known_clips) -> None:
    """In Motion's own units: zoom and rotation relative to frame 0, pan in fractions of it."""
    frames, _ = known_clips["steady"]
    motion = measure_chunks(chunks_of(frames), 24.0)
    move = MOVES["steady"]
    z0 = move.zoom[0]
    # Frame 0 shows 1/z0 of the photo (unrotated): a pan of p photo widths is p * z0 frame widths.
    assert motion.zoom[-1] == pytest.approx(move.zoom[-1] / z0, rel=1e-3)
    assert motion.rotation[-1] == pytest.approx(move.rotation[-1] - move.rotation[0], abs=0.01)
    assert motion.pan_x[-1] == pytest.approx((move.pan_x[-1] - move.pan_x[0]) * z0, abs=5e-4)
    assert motion.pan_y[-1] == pytest.approx((move.pan_y[-1] - move.pan_y[0]) * z0, abs=5e-4)


def test_dense_flow_method_meets_the_same_bound(known_clips) -> None:
    frames, truth = known_clips["sway"]
    motion = measure_chunks(chunks_of(frames), 24.0, method="flow")
    assert motion.meta["method"] == "flow"
    assert_within_spec(errors(motion, truth))


# -- what is not camera motion -----------------------------------------------------------


def test_a_static_shot_reads_exactly_zero() -> None:
    rng = np.random.default_rng(3)
    still = photo(*SIZE, seed=3).astype(np.int16)
    noisy = [np.clip(still + rng.normal(0, 2, still.shape).astype(np.int16), 0, 255).astype(np.uint8) for _ in range(30)]
    motion = measure_chunks(chunks_of(h264(np.stack(noisy))), 24.0, flow_grid=4)
    assert set(motion.pan_x) == {0.0} and set(motion.pan_y) == {0.0}
    assert set(motion.zoom) == {1.0} and set(motion.rotation) == {0.0}
    assert motion.flow is not None and motion.flow.shape == (30, 4, 4, 2) and not motion.flow.any()


def test_a_moving_object_over_a_static_background_is_no_camera_motion() -> None:
    background = photo(*SIZE, seed=4)
    thing = photo(220, 200, seed=40)  # a fifth of the frame, as textured as the background
    frames = []
    for k in range(40):
        frame = background.copy()
        x = 40 + 9 * k
        frame[100:300, x : x + 220] = thing
        frames.append(frame)
    motion = measure_chunks(chunks_of(h264(np.stack(frames))), 24.0, flow_grid=4)
    assert max(map(abs, motion.pan_x + motion.pan_y + motion.rotation)) < 1e-4
    assert max(abs(z - 1) for z in motion.zoom) < 1e-5
    # The object was seen (as local motion on the grid), not missed.
    assert motion.flow is not None and np.abs(motion.flow[-1, ..., 0]).max() * SIZE[0] > 20


def test_local_motion_lands_on_the_flow_grid_in_animates_units() -> None:
    """The right third of a still shot slides down 1 px a frame: no camera motion, and the grid
    cells over that third say where their content was in the first frame (1 px further up a frame)."""
    background = photo(*SIZE, seed=11)
    tall = photo(214, 460, seed=12)
    frames = []
    for k in range(30):
        frame = background.copy()
        frame[:, 426:] = tall[100 - k : 460 - k]
        frames.append(frame)
    motion = measure_chunks(chunks_of(h264(np.stack(frames))), 24.0, flow_grid=6)
    assert set(motion.pan_x + motion.pan_y + motion.rotation) == {0.0} and set(motion.zoom) == {1.0}
    assert motion.flow is not None and motion.flow.shape == (30, 6, 6, 2)
    flow_px = motion.flow * np.array([SIZE[0], SIZE[1]], np.float32)
    for k in (10, 29):
        assert not flow_px[k, :, :4].any()  # cells over the still part
        assert np.abs(flow_px[k, :, 4:, 1] + k).max() < 1.5, flow_px[k, ..., 1]
        assert np.abs(flow_px[k, :, 4:, 0]).max() < 0.5


def test_a_scene_cut_starts_a_new_segment_with_the_camera_held() -> None:
    move = ramp(0.05 * T[:48] * 2, 0 * T[:48], 1.2 + 0 * T[:48], 0 * T[:48])
    first, views_a = render(photo(1280, 720, seed=5), move)
    second, views_b = render(photo(1280, 720, seed=6), move)
    clip = h264(np.concatenate([first[:20], second[20:]]))
    motion = measure_chunks(chunks_of(clip), 24.0)
    assert motion.meta["segments"] == [0, 20]
    assert motion.pan_x[20] == motion.pan_x[19] and motion.zoom[20] == motion.zoom[19]
    # Each side of the cut is measured as the move it is.
    truth_a, truth_b = true_maps(views_a), true_maps(views_b)
    before = Motion(motion.pan_x[:20], motion.pan_y[:20], motion.zoom[:20], motion.rotation[:20])
    assert errors(before, truth_a[:20])["drift_px"] < 1.0
    step_px = (motion.pan_x[-1] - motion.pan_x[20]) * SIZE[0] / (47 - 20)
    want_px = (truth_b[-1] @ [319.5, 179.5, 1])[0] - (truth_b[20] @ [319.5, 179.5, 1])[0]
    assert step_px == pytest.approx(want_px / (47 - 20), abs=0.05)


def test_a_flat_stretch_warns_once_and_is_interpolated() -> None:
    # A wide photo with a featureless band in the middle; the camera pans across it.
    image = photo(2400, 360, seed=7, flat=(700, 1700))
    move = ramp(-0.32 + 0.64 * T, 0 * T, 1 + 0 * T, 0 * T)
    frames, views = render(image, move)
    warnings: list[str] = []
    motion = measure_chunks(chunks_of(h264(frames)), 24.0, warn=warnings.append)
    assert len(warnings) == 1 and "too little texture" in warnings[0], warnings
    missing = motion.meta["interpolated"]
    assert len(missing) >= 10, missing
    assert f"frames {missing[0]}-" in warnings[0]
    values = np.array([motion.pan_x, motion.pan_y, motion.zoom, motion.rotation])
    assert np.isfinite(values).all()
    assert motion.meta["segments"] == [0]
    # The steady pan carries through the gap: the end is where it should be.
    assert errors(motion, true_maps(views))["drift_px"] < DRIFT_PX


# -- streaming ---------------------------------------------------------------------------


def test_it_streams_holding_no_earlier_chunk() -> None:
    frames = h264(render(photo(640, 360, seed=8), ramp(0.05 * T[:40], 0 * T[:40], 1.2 + 0 * T[:40], 0 * T[:40]))[0])
    alive: list[weakref.ref] = []

    def fresh_chunks() -> Iterator[np.ndarray]:
        for i in range(0, len(frames), 4):
            chunk = frames[i : i + 4].copy()  # a new buffer each time, as a decoder gives
            alive.append(weakref.ref(chunk))
            yield chunk
            del chunk
            gc.collect()
            # Every chunk but the one being measured (and the one just handed over) is gone.
            assert sum(ref() is not None for ref in alive[:-2]) == 0

    streamed = measure_chunks(fresh_chunks(), 24.0)
    whole = measure_chunks([frames], 24.0)
    singles = measure_chunks(chunks_of(frames, 1), 24.0)
    assert streamed.pan_x == whole.pan_x == singles.pan_x and streamed.zoom == whole.zoom == singles.zoom


def test_cancel_stops_between_frames() -> None:
    frames = np.repeat(photo(320, 180, seed=9)[None], 20, axis=0)
    seen = []

    class Stop(Exception):
        pass

    def cancel() -> None:
        seen.append(1)
        if len(seen) > 5:
            raise Stop

    with pytest.raises(Stop):
        measure_chunks(chunks_of(frames), 24.0, cancel=cancel)
    assert len(seen) == 6


# -- the node ----------------------------------------------------------------------------


def test_node_pulls_the_stream_with_progress_and_warnings() -> None:
    harness = PluginHarness()
    frames = np.repeat(photo(320, 180, seed=10)[None], 12, axis=0)
    frames[4:8] = 128  # flat frames: a warning, through the node's context
    out = harness.run_node("kinograph.motion.measure", {"cut_threshold": 1.0}, frames=frames_from_array(frames, fps=15))
    motion = out["motion"]
    assert isinstance(motion, Motion) and motion.steps == 12 and motion.meta["fps"] == 15
    assert harness.progress[-1] == (12, 12) and len(harness.progress) == 2
    assert harness.last_context is not None and len(harness.last_context.warnings) == 1


def test_node_says_what_is_wrong_with_an_empty_video() -> None:
    harness = PluginHarness()
    empty = frames_from_array(np.zeros((0, 32, 32, 3), np.uint8))
    with pytest.raises(NodeFailure, match="no frames"):
        harness.run_node("kinograph.motion.measure", {}, frames=empty)


# -- motion transfer ---------------------------------------------------------------------


def test_animate_plays_at_the_motions_own_rate_unless_told() -> None:
    measured = Motion((0.0,), (0.0,), (1.0,), (0.0,), meta={"fps": 12.0})
    assert stream_fps(None, measured) == 12.0
    assert stream_fps(30.0, measured) == 30.0
    assert stream_fps(None, Motion((0.0,), (0.0,), (1.0,), (0.0,))) == 24.0


def decode_file(path: Path) -> tuple[np.ndarray, float]:
    with av.open(str(path)) as container:
        rate = float(container.streams.video[0].average_rate)
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]), rate


def test_motion_transfer_graph_replays_the_videos_move_on_a_photo(tmp_path: Path) -> None:
    # The example graph as shipped, copied with its assets so the output lands in tmp_path.
    graph_file = tmp_path / "motion_transfer.json"
    shutil.copytree(GRAPHS / "assets", tmp_path / "assets")
    data = json.loads((GRAPHS / "motion_transfer.json").read_text())
    data["nodes"]["write"]["params"]["path"] = "out/transfer.mp4"
    graph_file.write_text(json.dumps(data))
    harness = PluginHarness()
    result = harness.run(graph_file)
    assert result.ok, [f.message for f in result.failures]

    source, source_fps = decode_file(tmp_path / "assets" / "clip.mp4")
    output, output_fps = decode_file(tmp_path / "out" / "transfer.mp4")
    assert output_fps == source_fps == 12.0 and len(output) == len(source)
    want = measure_chunks([source], source_fps)
    got = measure_chunks([output], output_fps)
    assert want.zoom[-1] > 1.1 and want.pan_x[-1] > 0.05  # the clip moves right and in
    # Zoom and roll replay exactly; pans are fractions of the photo, so the extra zoom that
    # crop_zoom adds to keep borders out (from the same plan Animate makes) enlarges them on screen.
    photo_size = (640, 480)
    extra = plan_views(want, photo_size, (640, 480), "crop_zoom").extra_zoom
    assert 1.0 <= extra < 1.3
    for k in range(len(source)):
        assert got.zoom[k] == pytest.approx(want.zoom[k], rel=3e-3)
        assert got.rotation[k] == pytest.approx(want.rotation[k], abs=0.1)
        assert got.pan_x[k] == pytest.approx(want.pan_x[k] * extra, abs=2e-3)
        assert got.pan_y[k] == pytest.approx(want.pan_y[k] * extra, abs=2e-3)
