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
    # every frame differs from the one before (the interpolator holds the last keyframe at the end)
    assert (mean_motion(frames)[:-1] > 0.05).all()
    assert "warning" in done.stderr  # untrained/random weights are announced


def test_two_photos_give_different_motion(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    other = tmp_path / "other.png"
    texture = (rng.random((240, 320, 3)) * 255).astype(np.uint8)
    Image.fromarray(np.ascontiguousarray(np.flipud(texture))).save(other)
    paths = []
    for name, photo in (("a", GRAPHS / "assets" / "photo.png"), ("b", other)):
        out = tmp_path / f"{name}.mp4"
        done = kinograph("run", str(GRAPHS / "image_to_video.json"), "--device", "cpu", "--set", f"load.path={photo}",
                         "--set", f"write.path={out}", "--set", "interpolate.method=blend", *SMALL)
        assert done.returncode == 0, done.stderr
        paths.append(out)
    motion_a = mean_motion(decode(paths[0])[0])
    motion_b = mean_motion(decode(paths[1])[0])
    assert not np.allclose(motion_a, motion_b, atol=0.05)


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
