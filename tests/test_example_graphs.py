"""The example graphs run headless as a user runs them, and produce real, playable videos."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

GRAPHS = Path(__file__).resolve().parent.parent / "graphs"
SMALL = ["--set", "animate.width=256", "--set", "animate.height=144", "--set", "motion.steps=12"]


def kinograph(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kinograph", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ})


def decode(path: Path) -> tuple[list[np.ndarray], dict]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        info = {"codec": video.codec_context.name, "pix_fmt": video.codec_context.pix_fmt,
                "fps": float(video.average_rate), "audio": [s.codec_context.name for s in container.streams.audio]}
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames, info


def mean_motion(frames: list[np.ndarray]) -> np.ndarray:
    return np.array([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in itertools.pairwise(frames)])


def test_main_job_makes_a_moving_h264_video(tmp_path: Path) -> None:
    out = tmp_path / "video.mp4"
    done = kinograph("run", str(GRAPHS / "image_to_video.json"), "--device", "cpu", "--set", f"write.path={out}", *SMALL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    frames, info = decode(out)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert len(frames) == 24 and frames[0].shape == (144, 256, 3)
    # the camera eases in from rest; from then on every frame differs from the one before (the
    # interpolator holds the last keyframe at the end)
    moving = mean_motion(frames)[:-1] > 0.05
    assert moving[len(moving) // 2 :].all(), mean_motion(frames)
    assert "warning" not in done.stderr  # the features are the ones the checkpoint was trained on


def test_a_mirrored_photo_gets_the_mirrored_camera_move(tmp_path: Path) -> None:
    """The main job end to end: the camera pushes in toward the subject, so the mirrored photo
    pans the other way (measured in the written videos, not read from the generator)."""
    from kinograph.plugins.learned.bootstrap import make_photo
    from kinograph.plugins.learned.footage import Source, decode
    from kinograph.plugins.learned.measure import measure_chunks

    # A photo the shipped checkpoint never saw: a detailed subject well left of centre.
    seed = next(s for s in range(7_000_000, 7_000_100) if make_photo(s, "subject")[1].target[0] < 0.3)
    photo = make_photo(seed, "subject")[0]
    moves = []
    for name, pixels in (("photo", photo), ("mirror", np.ascontiguousarray(photo[:, ::-1]))):
        source, out = tmp_path / f"{name}.png", tmp_path / f"{name}.mp4"
        Image.fromarray(pixels).save(source)
        done = kinograph("run", str(GRAPHS / "image_to_video.json"), "--device", "cpu", "--set", f"load.path={source}",
                         "--set", f"write.path={out}", "--set", "interpolate.method=blend", *SMALL,
                         "--set", "motion.steps=36")
        assert done.returncode == 0, done.stderr
        moves.append(measure_chunks(decode(Source(out)), 24.0))
    photo_move, mirror_move = moves
    assert photo_move.pan_x[-1] < -0.005, photo_move.pan_x  # toward the subject, on the left
    assert mirror_move.pan_x[-1] > 0.005, mirror_move.pan_x  # and to the right in the mirror
    assert photo_move.zoom[-1] > 1.05 and mirror_move.zoom[-1] > 1.05  # a push-in


def test_interpolate_video_doubles_the_rate_and_keeps_audio(tmp_path: Path) -> None:
    out = tmp_path / "double.mp4"
    done = kinograph("run", str(GRAPHS / "interpolate_video.json"), "--device", "cpu", "--set", f"write.path={out}")
    assert done.returncode == 0, done.stderr
    frames, info = decode(out)
    source, source_info = decode(GRAPHS / "assets" / "clip.mp4")
    assert info["fps"] == pytest.approx(2 * source_info["fps"])
    assert len(frames) == 2 * len(source)
    assert info["audio"] == ["aac"]


def test_images_to_video(tmp_path: Path) -> None:
    out = tmp_path / "burst.mp4"
    done = kinograph("run", str(GRAPHS / "images_to_video.json"), "--device", "cpu", "--set", f"write.path={out}")
    assert done.returncode == 0, done.stderr
    frames, info = decode(out)
    assert info["fps"] == pytest.approx(24)
    assert len(frames) >= 60


@pytest.mark.parametrize("name", ["image_to_video", "interpolate_video", "images_to_video", "camera_move"])
def test_example_graphs_validate(name: str) -> None:
    done = kinograph("validate", str(GRAPHS / f"{name}.json"))
    assert done.returncode == 0, done.stderr
