"""Write video: real encodes decoded again with PyAV; atomic output; audio; image sequences."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from test_media_load_video import make_video

from kinograph.api import CancelToken, GraphError
from kinograph.host import Graph, RunOptions
from kinograph.plugins.media.embed import read_embedded_graph

WRITE = "kinograph.video.write"
OPTIONS = RunOptions(device="cpu", use_cache=False)
UNCHECKED = RunOptions(device="cpu", use_cache=False, validate=False)


def pattern_graph(session, out: Path, *, width=64, height=48, frames=24, fps=24.0, fail_at=None, **params) -> Graph:
    graph = Graph(session.registry)
    graph.add_node("kinograph.frames.test_pattern", "pattern", params={"width": width, "height": height, "frames": frames, "fps": fps})
    graph.add_node(WRITE, "write", params={"path": str(out), "preset": "ultrafast", **params})
    if fail_at is not None:
        graph.add_node("test.invert", "stage", params={"fail_at": fail_at})
        graph.connect("pattern.frames", "stage.frames")
        graph.connect("stage.frames", "write.frames")
    else:
        graph.connect("pattern.frames", "write.frames")
    return graph


def decode(path: Path) -> tuple[av.container.InputContainer, list[np.ndarray]]:
    container = av.open(str(path))
    frames = [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
    return container, frames


def test_h264_file_decodes_with_its_properties_and_graph(session, tmp_path: Path) -> None:
    out = tmp_path / "out" / "video.mp4"
    result = session.run(pattern_graph(session, out, frames=30, fps=30.0), OPTIONS)
    assert result.ok, result.failures
    assert result.outputs["write"]["path"] == str(out)
    container, frames = decode(out)
    video = container.streams.video[0]
    ctx = video.codec_context
    assert (ctx.name, ctx.pix_fmt) == ("h264", "yuv420p")
    assert (video.width, video.height) == (64, 48)
    assert float(video.average_rate) == 30.0
    assert len(frames) == 30 == video.frames
    assert (ctx.color_primaries, ctx.color_trc, ctx.colorspace) == (1, 1, 1)  # BT.709
    container.close()
    # The encoded pictures are the pattern's (crf 18: close, not exact).
    from kinograph.plugins.basic import TestPattern

    expected = next(iter(TestPattern(TestPattern.Params(width=64, height=48, frames=30)).run(None)["frames"])).pixels
    assert np.abs(frames[3].astype(int) - expected[3]).mean() < 6
    embedded = read_embedded_graph(out)
    assert embedded is not None and json.loads(embedded)["nodes"]["write"]["type"] == WRITE
    assert not list(out.parent.glob(".*partial*"))


def test_faststart_puts_the_index_first(session, tmp_path: Path) -> None:
    out = tmp_path / "fast.mp4"
    assert session.run(pattern_graph(session, out, frames=8), OPTIONS).ok
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")


def test_odd_sizes_are_padded_to_even(session, tmp_path: Path) -> None:
    graph = Graph(session.registry)
    graph.add_node("kinograph.image.load", "load", params={"path": str(_odd_png(tmp_path))})
    graph.add_node("kinograph.motion.camera_path", "path", params={"steps": 5, "zoom_end": 1.0})
    graph.add_node("kinograph.frames.animate", "animate", params={"width": 38, "height": 26})
    graph.add_node(WRITE, "write", params={"path": str(tmp_path / "odd.mp4"), "preset": "ultrafast"})
    graph.connect("load.image", "animate.image")
    graph.connect("path.motion", "animate.motion")
    graph.connect("animate.frames", "write.frames")
    assert session.run(graph, OPTIONS).ok
    # Animate only makes even sizes; feed the writer an odd stream directly.
    from kinograph.api import FrameStream, RunContext
    from kinograph.plugins.media.write_video import WriteVideo

    frames = FrameStream.from_array(np.full((6, 25, 33, 3), 90, dtype=np.uint8), fps=12)
    node = WriteVideo(WriteVideo.Params(path=str(tmp_path / "odd2.mp4"), preset="ultrafast"))
    ctx = RunContext("write")
    node.run(ctx, frames=frames)
    assert any("padded to 34x26" in w for w in ctx.warnings)
    container, decoded = decode(tmp_path / "odd2.mp4")
    assert container.streams.video[0].width == 34 and container.streams.video[0].height == 26
    assert len(decoded) == 6
    container.close()


def _odd_png(folder: Path) -> Path:
    path = folder / "odd.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (31, 45, 3), dtype=np.uint8)).save(path)
    return path


def test_if_exists_modes(session, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"keep me")
    failed = session.run(pattern_graph(session, out, frames=4, if_exists="error"), OPTIONS)
    assert not failed.ok and "already exists" in failed.failures[0].message
    assert out.read_bytes() == b"keep me"
    inc = session.run(pattern_graph(session, out, frames=4, if_exists="increment"), OPTIONS)
    assert inc.outputs["write"]["path"] == str(tmp_path / "clip_0001.mp4")
    assert out.read_bytes() == b"keep me"
    over = session.run(pattern_graph(session, out, frames=4, if_exists="overwrite"), OPTIONS)
    assert over.ok and out.read_bytes()[4:8] == b"ftyp"


def test_stream_failing_midway_leaves_nothing(session, tmp_path: Path) -> None:
    out = tmp_path / "broken.mp4"
    result = session.run(pattern_graph(session, out, frames=40, fail_at=20), OPTIONS)
    assert result.status == "failed"
    assert [f.node_id for f in result.failures] == ["stage"]
    assert result.states["write"] == "skipped"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a folder that refuses new files (Linux /proc)")
def test_folder_that_refuses_files_fails_before_any_frame_is_made(session) -> None:
    # /proc refuses new files even for root (chmod would not stop root in CI containers).
    out = Path("/proc/kinograph-test-video.mp4")
    result = session.run(pattern_graph(session, out, frames=40, fail_at=1), OPTIONS)
    assert [f.node_id for f in result.failures] == ["write"]
    message = result.failures[0].message
    assert "/proc" in message and "does not accept new files" in message and "encoding" not in message
    # The writer gave up before pulling a frame: the stage that fails at frame 1 never ran.
    assert result.states["stage"] != "failed"
    assert not out.exists()
    # The same for an image sequence (a folder of PNGs).
    result = session.run(pattern_graph(session, out.with_suffix(""), frames=4, image_sequence=True), OPTIONS)
    assert [f.node_id for f in result.failures] == ["write"]
    assert "does not accept new files" in result.failures[0].message


def test_existing_file_survives_a_failed_overwrite(session, tmp_path: Path) -> None:
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"previous render")
    result = session.run(pattern_graph(session, out, frames=40, fail_at=30), OPTIONS)
    assert result.status == "failed"
    assert out.read_bytes() == b"previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_cancel_midway_leaves_nothing(session, tmp_path: Path) -> None:
    out = tmp_path / "cancelled.mp4"
    cancel = CancelToken()

    def on_event(event) -> None:
        if getattr(event, "kind", None) == "node_progress" and getattr(event, "node_id", None) == "write":
            if event.data.get("done", 0) >= 16:
                cancel.cancel()

    result = session.run(pattern_graph(session, out, frames=200, width=32, height=32), OPTIONS, [on_event], cancel)
    assert result.status == "cancelled"
    assert list(tmp_path.iterdir()) == []


def test_audio_is_copied_from_the_source_video(session, tmp_path: Path) -> None:
    source = make_video(tmp_path / "with_sound.mp4", count=24, fps=12, audio=True)
    graph = Graph(session.registry)
    graph.add_node("kinograph.video.load", "load", params={"path": str(source)})
    graph.add_node(WRITE, "write", params={"path": str(tmp_path / "copy.mp4"), "preset": "ultrafast"})
    graph.connect("load.frames", "write.frames")
    assert session.run(graph, OPTIONS).ok
    with av.open(str(tmp_path / "copy.mp4")) as container:
        assert len(container.streams.audio) == 1
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        samples = sum(f.samples for f in container.decode(audio))
        assert abs(samples / 48000 - 2.0) < 0.1
    graph.set_param("write", "copy_audio", False)
    graph.set_param("write", "path", str(tmp_path / "silent.mp4"))
    assert session.run(graph, OPTIONS).ok
    with av.open(str(tmp_path / "silent.mp4")) as container:
        assert len(container.streams.audio) == 0


def test_audio_input_is_reencoded_when_the_container_needs_it(tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    with av.open(str(wav), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=16000)
        stream.layout = "mono"
        tone = (8000 * np.sin(np.arange(16000) / 5.0)).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    from kinograph.api import RunContext
    from kinograph.plugins.basic import TestPattern
    from kinograph.plugins.media.write_video import WriteVideo

    frames = TestPattern(TestPattern.Params(width=32, height=32, frames=12, fps=12.0)).run(None)["frames"]
    node = WriteVideo(WriteVideo.Params(path=str(tmp_path / "scored.mp4"), preset="ultrafast"))
    node.run(RunContext("write"), frames=frames, audio=str(wav))
    with av.open(str(tmp_path / "scored.mp4")) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        samples = sum(f.samples for f in container.decode(audio))
        assert abs(samples / audio.rate - 1.0) < 0.1


def test_image_sequence(session, tmp_path: Path) -> None:
    result = session.run(pattern_graph(session, tmp_path / "seq.mp4", frames=5, image_sequence=True), OPTIONS)
    assert result.ok, result.failures
    folder = Path(result.outputs["write"]["path"])
    assert folder == tmp_path / "seq"
    files = sorted(folder.glob("*.png"))
    assert [f.name for f in files] == [f"frame_{i:06d}.png" for i in range(5)]
    assert sorted(p.name for p in folder.iterdir()) == [".kinograph-sequence"] + [f.name for f in files]
    assert Image.open(files[0]).size == (64, 48)
    assert read_embedded_graph(files[0]) is not None
    failed = session.run(pattern_graph(session, tmp_path / "seq", frames=40, fail_at=20, image_sequence=True), OPTIONS)
    assert failed.status == "failed"
    assert len(list(folder.glob("*.png"))) == 5  # the previous sequence is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq"]


def test_other_codecs_and_clear_refusals(session, tmp_path: Path) -> None:
    with pytest.raises(GraphError, match=r"nodes\.write\.params\.codec: \.webm files cannot hold h264"):
        session.run(pattern_graph(session, tmp_path / "clip.webm", frames=4), OPTIONS)
    # Without validation the writer still refuses before encoding.
    webm = session.run(pattern_graph(session, tmp_path / "clip.webm", frames=4), UNCHECKED)
    assert not webm.ok and "cannot hold h264" in webm.failures[0].message
    vp9 = session.run(pattern_graph(session, tmp_path / "clip.webm", frames=6, codec="vp9", preset="ultrafast"), OPTIONS)
    assert vp9.ok, vp9.failures
    with av.open(str(tmp_path / "clip.webm")) as container:
        assert container.streams.video[0].codec_context.name == "vp9"
        assert sum(1 for _ in container.decode(video=0)) == 6
    assert read_embedded_graph(tmp_path / "clip.webm") is not None
    with pytest.raises(GraphError, match=r"nodes\.write\.params\.path: cannot write video to .*clip\.gif: use one of \.mp4"):
        session.run(pattern_graph(session, tmp_path / "clip.gif", frames=4), OPTIONS)


def test_missing_encoder_is_a_clear_failure() -> None:
    from kinograph.api import NodeFailure
    from kinograph.plugins.media.write_video import ENCODERS, pick_encoder

    ENCODERS["test-codec"] = ["libdoesnotexist"]
    try:
        with pytest.raises(NodeFailure, match=r"libdoesnotexist.*h264"):
            pick_encoder("test-codec")
    finally:
        del ENCODERS["test-codec"]


def test_preview_beside_the_writer_does_not_stall_it(session, tmp_path: Path) -> None:
    graph = pattern_graph(session, tmp_path / "both.mp4", frames=40, width=32, height=32)
    graph.add_node("kinograph.image.preview", "preview", params={"size": 16})
    graph.connect("pattern.frames", "preview.frames")
    result = session.run(graph, OPTIONS)
    assert result.ok, result.failures
    assert result.outputs["preview"]["thumbnail"].shape == (16, 16, 3)
    container, frames = decode(tmp_path / "both.mp4")
    container.close()
    assert len(frames) == 40


def test_audio_input_from_another_video(session, tmp_path: Path) -> None:
    sound = make_video(tmp_path / "sound.mp4", count=24, fps=24, audio=True)
    graph = pattern_graph(session, tmp_path / "dubbed.mp4", frames=12, fps=24.0)
    graph.add_node("kinograph.video.load", "music", params={"path": str(sound)})
    graph.connect("music.audio", "write.audio")
    result = session.run(graph, OPTIONS)
    assert result.ok, result.failures
    with av.open(str(tmp_path / "dubbed.mp4")) as container:
        audio = container.streams.audio[0]
        samples = sum(f.samples for f in container.decode(audio))
    # The video lasts 0.5 s: the copied audio stops there (within an AAC frame or two).
    assert abs(samples / 48000 - 0.5) < 0.05


def test_crf_beyond_h264_range_is_refused(session, tmp_path: Path) -> None:
    with pytest.raises(GraphError, match=r"nodes\.write\.params\.crf: crf 60 is out of range for h264: use 0\.\.51"):
        session.run(pattern_graph(session, tmp_path / "q.mp4", frames=4, crf=60), OPTIONS)
    result = session.run(pattern_graph(session, tmp_path / "q.mp4", frames=4, crf=60), UNCHECKED)
    assert not result.ok and "0..51" in result.failures[0].message
    assert list(tmp_path.iterdir()) == []


def test_colours_survive_write_and_load(tmp_path: Path) -> None:
    """BT.709 on the way in and on the way out: saturated colours come back within a few levels."""
    from kinograph.api import FrameStream, RunContext
    from kinograph.plugins.media.write_video import WriteVideo
    from kinograph.testing import PluginHarness

    colours = [(200, 30, 60), (20, 180, 40), (30, 60, 220), (240, 240, 20)]
    frames = np.stack([np.full((32, 32, 3), c, np.uint8) for c in colours])
    out = tmp_path / "colours.mp4"
    node = WriteVideo(WriteVideo.Params(path=str(out), preset="ultrafast", crf=10))
    node.run(RunContext("write"), frames=FrameStream.from_array(frames, fps=12))
    loaded = PluginHarness().run_node("kinograph.video.load", {"path": str(out)})["frames"]
    for frame, colour in zip(loaded.frames(), colours, strict=True):
        assert np.abs(frame[16, 16].astype(int) - colour).max() <= 4
