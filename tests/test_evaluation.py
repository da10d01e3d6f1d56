"""`kinograph evaluate` and the metric nodes: metrics right on known cases, JSON equal to the
table, contact sheets with the expected grid, flow ranked above blend on footage with known
motion, the nodes inside a graph and in the editor's viewer.

Frames are small and synthetic (a photo-like texture filmed by a virtual camera), videos are
real H.264 files written and decoded with PyAV, flow is real OpenCV DIS.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from kinograph.api import Motion
from kinograph.cli import main
from kinograph.plugins.evaluation.contact_sheet import CAPTION, EvenSampler, Tile, contact_sheet, grid
from kinograph.plugins.evaluation.image_quality import psnr, ssim
from kinograph.plugins.evaluation.interpolation_quality import InterpolationCheck, settings_for
from kinograph.plugins.evaluation.report import Measure, Report
from kinograph.plugins.evaluation.smoothness import camera_jerk
from kinograph.plugins.evaluation.video_metrics import FrameMeter, measure_video
from kinograph.testing import PluginHarness

W, H = 192, 144
FPS = 24.0


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A photo-like RGB image (gradients, soft-edged shapes, grain), kept within 20..235."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        a, b, phase = rng.uniform(0.5, 3.0, 3)
        img[..., c] = 120 + 50 * np.sin(xs / width * a * 3 + phase) * np.cos(ys / height * b * 3 + c)
    for _ in range(50):
        color = rng.uniform(30, 225, 3).tolist()
        cx, cy, r = int(rng.uniform(0, width)), int(rng.uniform(0, height)), int(rng.uniform(6, 30))
        if rng.random() < 0.5:
            cv2.circle(img, (cx, cy), r, color, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (cx - r, cy - r // 2), (cx + r, cy + r // 2), color, -1, cv2.LINE_AA)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.0)
    img += (grain / grain.std() * 12)[..., None]
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    return np.clip(img, 20, 235).astype(np.uint8)


@pytest.fixture(scope="module")
def canvas() -> np.ndarray:
    return photo(W + 200, H + 60)


def filmed(canvas: np.ndarray, xs: list[float], zoom_step: float = 0.0) -> np.ndarray:
    """Frames ``[n, H, W, 3]`` of a camera looking at ``canvas`` at column offsets ``xs``
    (sub-pixel allowed), zooming in by ``zoom_step`` per frame."""
    frames = []
    for k, x in enumerate(xs):
        m = cv2.getRotationMatrix2D((0.0, 0.0), 0.0, 1.0 + zoom_step * k)
        m[0, 2] -= 20 + x
        m[1, 2] -= 30
        frames.append(cv2.warpAffine(canvas, m, (W, H), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT))
    return np.ascontiguousarray(np.stack(frames))


def write_mp4(path: Path, frames: np.ndarray, fps: float = FPS) -> Path:
    """A real H.264 file (near lossless, so the metrics see the frames, not the codec)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv444p"
        stream.options = {"crf": "4", "preset": "ultrafast"}
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def printed_cells(text: str) -> list[list[str]]:
    """The plain table ``Report.print`` writes (title first), as rows of cells."""
    import re

    lines = [line for line in text.strip().splitlines()[1:] if line and not line.startswith("note:")]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def same_number(printed: str, stored: object) -> bool:
    if stored is None:
        return printed == "n/a"
    if isinstance(stored, str):
        return printed == stored
    return float(printed) == stored


# -- metrics on known cases -------------------------------------------------------------------


def test_identical_frames_have_infinite_psnr_ssim_one_and_zero_warp_error(canvas: np.ndarray) -> None:
    frame = filmed(canvas, [0.0])[0]
    assert psnr(frame, frame.copy()) == math.inf
    assert ssim(frame, frame.copy()) == 1.0
    still = filmed(canvas, [0.0] * 7)
    check = InterpolationCheck(settings_for(["flow", "blend"], ["medium"]), FPS, H, W)
    for f in still:
        check.add(f)
    for scores in check.scores.values():
        summary = scores.summary("still")
        assert summary["frames"] == 3 and summary["exact"] == 3
        assert summary["psnr"] == math.inf and summary["psnr_min"] == math.inf and summary["ssim"] == 1.0
    meter = FrameMeter()
    for f in still:
        meter.add(f)
    assert meter.warp_error[1:] == [0.0] * 6


def test_psnr_of_known_noise_matches_the_analytic_value(canvas: np.ndarray) -> None:
    # uniform integer noise in [-k, k] on an image within 20..235 never clips: MSE = k(k+1)/3
    rng = np.random.default_rng(1)
    frame = filmed(canvas, [0.0])[0]
    for k in (2, 5, 12):
        noisy = (frame.astype(np.int16) + rng.integers(-k, k + 1, frame.shape)).astype(np.uint8)
        analytic = 10 * math.log10(255**2 / (k * (k + 1) / 3))
        assert abs(psnr(frame, noisy) - analytic) < 0.1, (k, psnr(frame, noisy), analytic)
        assert ssim(frame, noisy) < 1.0


def test_interpolation_check_scores_only_dropped_frames_against_known_noise(canvas: np.ndarray) -> None:
    # a still shot whose odd (dropped) frames carry known noise: both methods rebuild the clean
    # frame, so the score is the noise's PSNR, and kept frames never enter the mean
    rng = np.random.default_rng(2)
    clean = filmed(canvas, [0.0])[0]
    k = 6
    frames = [clean if i % 2 == 0 else (clean.astype(np.int16) + rng.integers(-k, k + 1, clean.shape)).astype(np.uint8)
              for i in range(9)]
    check = InterpolationCheck(settings_for(["flow", "blend"], ["fast"]), FPS, H, W)
    for f in frames:
        check.add(f)
    analytic = 10 * math.log10(255**2 / (k * (k + 1) / 3))
    for scores in check.scores.values():
        assert scores.frames == [1, 3, 5, 7]
        summary = scores.summary("noisy")
        assert summary["exact"] == 0
        assert abs(summary["psnr"] - analytic) < 0.1, (scores.setting, summary["psnr"], analytic)


def test_a_known_shift_is_followed_by_the_flow_and_measured_as_a_pan(canvas: np.ndarray) -> None:
    frames = filmed(canvas, [3.0 * k for k in range(10)])
    found = measure_video([frames[:5], frames[5:]], FPS)
    plain = float(np.abs(frames[1:].astype(np.float32) - frames[:-1]).mean())
    assert plain > 5.0  # the frames do differ...
    assert found.summary("x")["warp_error"] < 0.5  # ...but moving the previous frame 3 px explains them
    steps = np.diff(np.array(found.motion.pan_x)) * W
    assert np.allclose(steps, 3.0, atol=0.05), steps
    assert found.jerk.pan < 0.05 * (3.0 / W) * FPS**3  # constant speed: no jerk
    # the interpolation of that shift: flow rebuilds the dropped frames, a cross-fade cannot
    check = InterpolationCheck(settings_for(["flow", "blend"], ["medium"]), FPS, H, W)
    for f in frames:
        check.add(f)
    flow, blend = (check.scores[s].summary("x") for s in check.settings)
    assert flow["psnr"] > 40.0 and blend["psnr"] < 32.0, (flow, blend)


def test_jerk_of_a_known_camera_path() -> None:
    # pan_x = a t^3 has jerk 6a everywhere; the third difference is exact for a cubic
    a, n = 0.05, 12
    t = [k / FPS for k in range(n)]
    motion = Motion(tuple(a * s**3 for s in t), (0.0,) * n, (1.0,) * n, (0.0,) * n,
                    meta={"fps": FPS, "size": [W, H], "segments": [0]})
    jerk = camera_jerk(motion)
    assert jerk.windows == n - 3
    assert all(math.isnan(v) for v in jerk.per_frame[:3])
    assert jerk.pan == pytest.approx(6 * a, rel=1e-6)
    assert jerk.zoom == 0.0 and jerk.rotation == 0.0
    # zoom as log-zoom and rotation in degrees: exp(b t^3) and c t^3 give 6b and 6c
    motion = Motion((0.0,) * n, (0.0,) * n, tuple(math.exp(0.2 * s**3) for s in t), tuple(3.0 * s**3 for s in t),
                    meta={"fps": FPS, "size": [W, H], "segments": [0]})
    jerk = camera_jerk(motion)
    assert jerk.zoom == pytest.approx(1.2, rel=1e-6) and jerk.rotation == pytest.approx(18.0, rel=1e-6)
    # no window spans a cut: a jump at frame 6 (a new shot) adds no jerk
    jump = [0.0] * 6 + [0.5] * 6
    motion = Motion(tuple(jump), (0.0,) * n, (1.0,) * n, (0.0,) * n, meta={"fps": FPS, "size": [W, H], "segments": [0, 6]})
    jerk = camera_jerk(motion)
    assert jerk.pan == 0.0 and jerk.windows == n - 3 - 3
    short = Motion((0.0,) * 3, (0.0,) * 3, (1.0,) * 3, (0.0,) * 3, meta={"fps": FPS, "size": [W, H]})
    assert camera_jerk(short).pan is None


def test_measured_jerk_of_a_shaky_camera_matches_its_known_value(canvas: np.ndarray) -> None:
    # a 2 px/frame pan with a 2 px wobble on every other frame: the wobble's third difference
    # is +-8 px, so the jerk is 8 / W frame widths per frame^3
    steady = measure_video([filmed(canvas, [2.0 * k for k in range(14)])], FPS)
    shaky = measure_video([filmed(canvas, [2.0 * k + 2.0 * (k % 2) for k in range(14)])], FPS)
    expected = 8 / W * FPS**3
    assert shaky.jerk.pan == pytest.approx(expected, rel=0.1), (shaky.jerk.pan, expected)
    assert steady.jerk.pan < 0.02 * expected


def test_flicker_of_a_known_brightness_wobble(canvas: np.ndarray) -> None:
    still = filmed(canvas, [0.0])[0].astype(np.int16)
    d = 6
    frames = np.stack([(still + (d if k % 2 else -d)).astype(np.uint8) for k in range(8)])
    found = measure_video([frames], FPS)
    assert found.summary("x")["flicker"] == pytest.approx(2 * d, abs=0.05)
    steady = measure_video([np.stack([still.astype(np.uint8)] * 8)], FPS)
    assert steady.summary("x")["flicker"] == 0.0


def test_sharpness_kept_falls_when_the_video_softens(canvas: np.ndarray) -> None:
    frame = filmed(canvas, [0.0])[0]
    frames = np.stack([frame, frame, cv2.GaussianBlur(frame, (0, 0), 1.5)])
    summary = measure_video([frames], FPS).summary("x")
    assert summary["sharpness_min"] == summary["sharpness_last"] < 0.5


# -- reports, contact sheets ------------------------------------------------------------------


def test_infinity_is_printed_inf_and_stored_as_the_string_inf() -> None:
    report = Report("t", "test", [Measure("name", "name"), Measure("psnr", "PSNR", "dB", 2), Measure("n", "n")])
    report.add({"name": "a", "psnr": math.inf, "n": 3})
    report.add({"name": "b", "psnr": 31.4159, "n": None})
    assert report.table()[1] == [["a", "inf", "3"], ["b", "31.42", "n/a"]]
    stored = json.loads(report.json_text())["results"]
    assert stored == [{"name": "a", "psnr": "inf", "n": 3}, {"name": "b", "psnr": 31.42, "n": None}]
    assert float(stored[0]["psnr"]) == math.inf


def test_contact_sheet_has_the_expected_grid() -> None:
    rng = np.random.default_rng(3)
    h, w, cols = 30, 40, 4
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(10)]
    sheet = contact_sheet(grid([Tile(f, f"frame {i}") for i, f in enumerate(frames)], cols))
    rows = 3
    assert sheet.shape == (rows * (h + CAPTION), cols * w, 3)
    for i, frame in enumerate(frames):
        r, c = divmod(i, cols)
        top, left = r * (h + CAPTION), c * w
        np.testing.assert_array_equal(sheet[top : top + h, left : left + w], frame)
        assert sheet[top + h : top + h + CAPTION, left : left + w].max() > 100  # a caption was drawn
    empty = sheet[2 * (h + CAPTION) :, 2 * w :]
    assert (empty == empty[0, 0]).all()  # the two slots after the last frame stay background


def test_even_sampler_keeps_evenly_spaced_frames_in_bounded_memory() -> None:
    sampler = EvenSampler(6)  # length unknown: stride doubling
    held = 0
    for i in range(1000):
        sampler.offer(i, lambda i=i: i)
        held = max(held, len(sampler.items))
    picked = [i for i, _ in sampler.picked()]
    assert held <= 24 and len(picked) == 6 and picked[0] == 0 and picked[-1] > 900
    gaps = np.diff(picked)
    assert gaps.max() - gaps.min() <= sampler.stride, picked
    made = []
    sampler = EvenSampler(5, total=101)  # length known: exactly evenly spaced
    for i in range(101):
        sampler.offer(i, lambda i=i: made.append(i) or i)
    assert [i for i, _ in sampler.picked()] == made == [0, 25, 50, 75, 100]


# -- the command ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clips(canvas: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real MP4s: a camera panning 4 px/frame while zooming in, and the same shot shaky."""
    folder = tmp_path_factory.mktemp("clips")
    smooth = filmed(canvas, [4.0 * k for k in range(13)], zoom_step=0.004)
    shaky = filmed(canvas, [4.0 * k + 3.0 * (k % 2) for k in range(13)], zoom_step=0.004)
    return {"smooth": write_mp4(folder / "smooth.mp4", smooth), "shaky": write_mp4(folder / "shaky.mp4", shaky)}


def test_evaluate_interpolation_ranks_flow_above_blend_and_json_equals_the_table(
    clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "interp.json"
    code = main(["evaluate", "interpolation", str(clips["smooth"]), "--methods", "flow,blend",
                 "--presets", "fast", "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    stored = json.loads(out.read_text())
    rows = {r["method"]: r for r in stored["results"]}
    assert rows["flow"]["frames"] == rows["blend"]["frames"] == 6  # frames 1, 3, ..., 11
    assert rows["flow"]["psnr"] > rows["blend"]["psnr"] + 3.0, rows
    assert rows["flow"]["ssim"] > rows["blend"]["ssim"], rows
    header, *cells = printed_cells(captured.out)
    assert header[:3] == ["video", "method", "preset"]
    assert len(cells) == len(stored["results"])
    keys = list(stored["results"][0])
    for row, result in zip(cells, stored["results"], strict=True):
        assert len(row) == len(keys)
        for text, key in zip(row, keys, strict=True):
            assert same_number(text, result[key]) if key not in ("video", "method", "preset") else text == str(result[key])


def test_evaluate_video_json_equals_the_table_and_shaky_is_jerkier(
    clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "video.json"
    code = main(["evaluate", "video", str(clips["smooth"]), str(clips["shaky"]), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    stored = json.loads(out.read_text())
    results = stored["results"]
    assert [r["video"] for r in results] == ["smooth.mp4", "shaky.mp4"]
    header, *cells = printed_cells(captured.out)
    assert header == ["metric", "unit", "smooth.mp4", "shaky.mp4"]
    keys = [k for k in results[0] if k != "video"]
    assert len(cells) == len(keys)
    for row, key in zip(cells, keys, strict=True):
        assert len(row) == 4 and row[1] == stored["units"].get(key, "-")
        for text, result in zip(row[-2:], results, strict=True):
            assert same_number(text, result[key]) if key != "size" else text == result[key], (key, text, result[key])
    smooth, shaky = results
    assert smooth["frames"] == shaky["frames"] == 13
    assert shaky["jerk_pan"] > 10 * smooth["jerk_pan"]
    assert smooth["warp_error"] < 2.0


def test_json_to_stdout_puts_the_table_on_stderr(clips: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "video", str(clips["smooth"]), "--json", "-"]) == 0
    captured = capsys.readouterr()
    stored = json.loads(captured.out)
    assert stored["format"] == "kinograph.evaluation" and stored["kind"] == "video"
    assert "warp error (mean)" in captured.err


def test_plots_contact_sheets_and_side_by_side_videos(clips: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    plots = tmp_path / "plots"
    a, b = str(clips["smooth"]), str(clips["shaky"])
    assert main(["evaluate", "video", "--compare", a, b, "--plots", str(plots), "--sheet", "6"]) == 0
    assert main(["evaluate", "interpolation", a, "--plots", str(plots), "--compare", "flow", "blend", "--sheet", "3"]) == 0
    capsys.readouterr()
    names = sorted(p.name for p in plots.iterdir())
    assert names == sorted([
        "smooth_metrics.png", "smooth_motion.png", "smooth_contact.png", "smooth_per_frame.csv",
        "shaky_metrics.png", "shaky_motion.png", "shaky_contact.png", "shaky_per_frame.csv",
        "videos_metrics.png", "smooth_vs_shaky.mp4",
        "smooth_interpolation.png", "smooth_interpolation_contact.png", "smooth_interpolation_per_frame.csv",
        "smooth_flow-medium_vs_blend.mp4",
    ])
    for name in names:
        if name.endswith(".png"):
            assert cv2.imread(str(plots / name)) is not None, name
    sheet = cv2.imread(str(plots / "smooth_contact.png"))
    # 6 frames in rows of 4 tiles of 240 px (the frames scaled from 192x144 to 240x180)
    assert sheet.shape[:2] == (2 * (180 + CAPTION), 4 * 240)
    sheet = cv2.imread(str(plots / "smooth_interpolation_contact.png"))
    assert sheet.shape[:2] == (3 * (180 + CAPTION), 3 * 240)  # original, flow, blend per row
    with av.open(str(plots / "smooth_vs_shaky.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 13 and frames[0].shape == (H, 2 * W + 4, 3)
    with av.open(str(plots / "smooth_flow-medium_vs_blend.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 13  # 6 kept + 6 rebuilt + the last kept frame
    assert not list(plots.glob(".*"))  # no temporary files left behind


def test_mistakes_are_one_line_and_exit_2(clips: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "missing.mp4"
    assert main(["evaluate", "video", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"error: video file not found: {missing} (check the path)"
    assert main(["evaluate", "interpolation", str(missing), "--json", str(tmp_path / "x.json")]) == 2
    assert "video file not found" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    assert main(["evaluate", "video", str(not_video)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open video") and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["evaluate", "interpolation", str(clips["smooth"]), "--methods", "magic"]) == 2
    assert capsys.readouterr().err.strip() == "error: unknown method 'magic'; use flow, blend"
    assert main(["evaluate", "interpolation", str(clips["smooth"]), "--compare", "flow", "sharp"]) == 2
    assert "'sharp' is not among the methods evaluated" in capsys.readouterr().err
    assert main(["evaluate"]) == 2  # no kind: argparse's usage error
    assert main(["evaluate", "video"]) == 2
    assert "name at least one video" in capsys.readouterr().err


def test_evaluate_help_imports_no_heavy_library() -> None:
    code = (
        "import sys, runpy\n"
        "for args in (['evaluate', '--help'], ['evaluate', 'video', '--help'], ['evaluate', 'interpolation', '--help']):\n"
        "    sys.argv = ['kinograph', *args]\n"
        "    try:\n        runpy.run_module('kinograph', run_name='__main__')\n"
        "    except SystemExit:\n        pass\n"
        "heavy = ('torch', 'numpy', 'cv2', 'av', 'networkx', 'skimage', 'matplotlib')\n"
        "sys.stderr.write('HEAVY=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY=" in proc.stderr, proc.stderr
    assert proc.stderr.rsplit("HEAVY=", 1)[1].strip() == ""
    assert "drop every other frame" in proc.stdout and "--compare A B" in proc.stdout


# -- the nodes, in a graph and in the editor --------------------------------------------------


def metrics_graph(harness: PluginHarness, out: Path) -> object:
    """Test pattern -> Write video, and the same stream -> Video metrics and Interpolation quality."""
    graph = harness.graph()
    graph.add_node("kinograph.frames.test_pattern", "pattern", params={"width": 64, "height": 48, "frames": 9})
    graph.add_node("kinograph.video.write", "write", params={"path": str(out / "video.mp4"), "preset": "ultrafast"})
    graph.add_node("kinograph.eval.video_metrics", "metrics", params={"name": "pattern", "report_path": str(out / "m.json")})
    graph.add_node("kinograph.eval.interpolation_quality", "quality", params={"methods": "blend"})
    for target in ("write", "metrics", "quality"):
        graph.connect("pattern.frames", f"{target}.frames")
    return graph


def test_metric_nodes_score_a_stream_in_the_same_run_that_writes_it(tmp_path: Path) -> None:
    harness = PluginHarness()
    result = harness.run(metrics_graph(harness, tmp_path))
    assert result.ok, [f.message for f in result.failures]
    assert (tmp_path / "video.mp4").is_file()
    report = result.outputs["metrics"]["metrics"]
    header, rows = report.table()
    assert header == ["metric", "unit", "pattern"] and dict((r[0], r[2]) for r in rows)["frames"] == "9"
    assert json.loads((tmp_path / "m.json").read_text())["results"] == report.results
    assert result.outputs["metrics"]["report"] == str(tmp_path / "m.json")
    quality = result.outputs["quality"]["metrics"]
    assert [r["method"] for r in quality.results] == ["blend"] and quality.results[0]["frames"] == 4


def test_the_editor_viewer_shows_metrics_as_a_table_and_plots(qtbot, registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    os.environ.setdefault("KINOGRAPH_GUI_WARMUP", "0")
    from kinograph.gui.app import application
    from kinograph.gui.main_window import MainWindow
    from kinograph.gui.run import attach_run_features

    application()
    window = MainWindow(registry)
    attach_run_features(window)
    window.ask_unsaved = lambda: "discard"
    qtbot.addWidget(window)
    window.show()
    try:
        editor = window.editor
        pattern = editor.add_node("kinograph.frames.test_pattern", (0.0, 0.0))
        metrics = editor.add_node("kinograph.eval.video_metrics", (300.0, 0.0))
        for name, value in (("width", 64), ("height", 48), ("frames", 8)):
            assert editor.set_param(pattern, name, value) is None
        assert editor.connect(f"{pattern}.frames", f"{metrics}.frames") is None
        with qtbot.waitSignal(window.run_features.controller.run_finished, timeout=60000) as blocker:
            window.actions["run"].trigger()
        assert blocker.args[0].ok
        window.view.select_only([metrics])
        viewer = window.run_features.viewer
        assert viewer.kind == "metrics"
        table = viewer.metrics.table
        report = window.run_features.controller.record.outputs[metrics]["metrics"]
        header, rows = report.table()
        assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == header
        assert [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())] == rows
        plotted = viewer.metrics.plot.series
        assert "warp error (levels)" in plotted and len(plotted["brightness (levels)"]) == 8
        assert len(plotted["warp error (levels)"]) == 7  # frame 0 has no pair: left out, not drawn as NaN
    finally:
        window.run_features.close()
        window.stack.setClean()
