"""Load video on real files encoded here with PyAV: properties, trimming, rotation, VFR, audio."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from kinograph.api import NodeFailure
from kinograph.testing import PluginHarness

LOAD = "kinograph.video.load"


@pytest.fixture
def harness() -> PluginHarness:
    return PluginHarness()


def numbered_frame(index: int, width: int, height: int) -> np.ndarray:
    """A frame whose brightness encodes its index (survives lossy coding) plus an asymmetric mark."""
    frame = np.full((height, width, 3), (index * 8) % 256, dtype=np.uint8)
    frame[: height // 4, : width // 4] = (255, 0, 0)  # red top-left corner shows orientation
    return frame


def frame_index(frame: np.ndarray) -> int:
    h, w = frame.shape[:2]
    return round(float(frame[h // 2 :, w // 2 :].mean()) / 8)


def make_video(
    path: Path,
    count: int = 24,
    fps: int = 24,
    size: tuple[int, int] = (64, 48),
    *,
    times: list[float] | None = None,
    rotation: int = 0,
    audio: bool = False,
) -> Path:
    """Encode ``count`` numbered frames; ``times`` (seconds) makes a variable frame rate file."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "10", "preset": "ultrafast"}
        if times is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=48000)
            sound.layout = "stereo"
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(numbered_frame(i, *size), format="rgb24")
            if times is not None:
                frame.pts = round(times[i] * 1000)
                frame.time_base = Fraction(1, 1000)
            else:
                frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            samples_total = int(48000 * count / fps)
            for start in range(0, samples_total, 1024):
                n = min(1024, samples_total - start)
                t = (np.arange(start, start + n) / 48000.0).astype(np.float32)
                tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                aframe = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                aframe.sample_rate = 48000
                aframe.pts = start
                for packet in sound.encode(aframe):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return path


def indices(stream) -> list[int]:
    return [frame_index(f) for f in stream.frames()]


def test_properties_and_all_frames(harness, tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", count=20, fps=24, size=(64, 48))
    stream = harness.run_node(LOAD, {"path": str(path)})["frames"]
    assert (stream.width, stream.height, stream.fps, stream.frame_count) == (64, 48, 24.0, 20)
    assert stream.audio is None
    assert indices(stream) == list(range(20))


def test_start_end_step(harness, tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", count=30, fps=10)
    stream = harness.run_node(LOAD, {"path": str(path), "start": 0.5, "end": 2.5, "step": 3})["frames"]
    assert stream.fps == pytest.approx(10 / 3)
    got = indices(stream)
    assert got == list(range(5, 25, 3))
    assert stream.frame_count == len(got)


def test_rotation_metadata_is_applied(harness, tmp_path: Path) -> None:
    # -90 is how phones tag portrait video ("rotate: 90"): shown turned 90 degrees clockwise.
    path = make_video(tmp_path / "phone.mp4", count=4, size=(64, 48), rotation=-90)
    stream = harness.run_node(LOAD, {"path": str(path)})["frames"]
    assert (stream.width, stream.height) == (48, 64)
    first = next(stream.frames())
    assert first.shape == (64, 48, 3)
    # The red top-left corner of the stored frame ends up top-right after a clockwise turn.
    assert first[2, -3, 0] > 200 and first[2, -3, 1] < 60
    assert first[-3, 2, 0] < 200


def test_variable_frame_rate_becomes_constant(harness, tmp_path: Path) -> None:
    # 10 frames, shown for 0.1 s each except frame 4 which stays 0.4 s.
    times = [0.0, 0.1, 0.2, 0.3, 0.4, 0.8, 0.9, 1.0, 1.1, 1.2]
    path = make_video(tmp_path / "vfr.mp4", count=10, fps=10, times=times)
    stream = harness.run_node(LOAD, {"path": str(path), "constant_fps": 10})["frames"]
    assert stream.fps == 10
    got = indices(stream)
    assert got[:8] == [0, 1, 2, 3, 4, 4, 4, 4]
    assert got[8:11] == [5, 6, 7]
    assert stream.frame_count is None or stream.frame_count == len(got)


def test_audio_track_is_announced(harness, tmp_path: Path) -> None:
    path = make_video(tmp_path / "sound.mp4", count=12, fps=12, audio=True)
    stream = harness.run_node(LOAD, {"path": str(path)})["frames"]
    assert stream.audio == str(path)
    assert len(indices(stream)) == 12


def test_stream_is_lazy_and_stops_cleanly(harness, tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", count=40, fps=24)
    stream = harness.run_node(LOAD, {"path": str(path), "chunk": 4})["frames"]
    chunks = iter(stream)
    first = next(chunks)
    assert first.count == 4 and first.pixels.shape == (4, 48, 64, 3)
    chunks.close()  # a preview stops pulling: the decoder is closed, no error


def test_missing_and_corrupt_files_fail_clearly(harness, tmp_path: Path) -> None:
    with pytest.raises(NodeFailure, match=r"missing\.mp4"):
        harness.run_node(LOAD, {"path": str(tmp_path / "missing.mp4")})
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 20)
    with pytest.raises(NodeFailure, match=r"broken\.mp4") as caught:
        harness.run_node(LOAD, {"path": str(broken)})
    assert "Errno" not in str(caught.value) and str(broken) in str(caught.value)  # said once, no errno noise
    with pytest.raises(NodeFailure, match="is a folder, not a video file"):
        harness.run_node(LOAD, {"path": str(tmp_path)})


def test_audio_output_names_the_file_only_with_sound(harness, tmp_path: Path) -> None:
    loud = make_video(tmp_path / "loud.mp4", count=6, fps=12, audio=True)
    quiet = make_video(tmp_path / "quiet.mp4", count=6, fps=12)
    assert harness.run_node(LOAD, {"path": str(loud)})["audio"] == str(loud)
    assert harness.run_node(LOAD, {"path": str(quiet)})["audio"] is None


def test_constant_rate_from_a_start_inside_a_long_frame(harness, tmp_path: Path) -> None:
    times = [0.0, 0.1, 0.2, 0.3, 0.4, 0.8, 0.9, 1.0, 1.1, 1.2]
    path = make_video(tmp_path / "vfr.mp4", count=10, fps=10, times=times)
    stream = harness.run_node(LOAD, {"path": str(path), "constant_fps": 10, "start": 0.5})["frames"]
    # At 0.5 s frame 4 (shown from 0.4 s to 0.8 s) is on screen.
    assert indices(stream)[:4] == [4, 4, 4, 5]
