"""Training the motion generator on footage: real clips rendered and encoded here, measured,
described by the real ResNet, trained with real torch (small sizes, so it runs in seconds)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from kinograph.cli import main as kinograph_main
from kinograph.plugins.learned import bootstrap
from kinograph.plugins.learned.action_generator import from_checkpoint
from kinograph.plugins.learned.checkpoints import read_metadata
from kinograph.plugins.learned.clips import make_views, view_targets
from kinograph.plugins.learned.footage import Measured, clip_target, find_sources
from kinograph.plugins.learned.tensor_cache import TensorCache
from kinograph.plugins.learned.training import TrainConfig, TrainingInterrupted, state_path, train

SMALL = (192, 108)
#: Tiny settings: 2 s clips (24 steps at 12/s), features at 64 px, a 2x2 grid.
TINY = {"clip_seconds": 2.0, "input_size": 64, "spatial_grid": 2, "weights": "none", "batch_size": 8, "patience": 100}


@pytest.fixture(scope="module")
def footage() -> Iterator[Path]:
    """Four small bootstrap videos (3 shots of 2.25 s each: all four kinds) and a warm cache.

    In a folder of its own (not pytest's numbered temp folders, which a concurrent pytest may
    sweep while this module still uses them).
    """
    root = Path(tempfile.mkdtemp(prefix="kinograph-training-"))
    clips = root / "clips"
    bootstrap.make_bootstrap_clips(clips, videos=4, shots_per_video=3, seed=11, size=SMALL, move_seconds=2.0,
                                   kinds=("subject", "horizon", "subject", "flat", "vertical", "subject"))
    yield clips
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def shared_cache(footage: Path, kinograph_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One KINOGRAPH_HOME for the module: its training cache is what makes later runs fast."""
    monkeypatch.setenv("KINOGRAPH_HOME", str(footage.parent / "home"))
    monkeypatch.setenv("KINOGRAPH_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(footage.parent / "torch"))


def config(footage: Path, out: Path, **changes: object) -> TrainConfig:
    return TrainConfig(inputs=[footage], out=out, **{**TINY, "epochs": 12, **changes})  # type: ignore[arg-type]


def test_a_tiny_run_lowers_validation_loss_clearly_and_writes_its_files(footage: Path, tmp_path: Path) -> None:
    out = tmp_path / "motion.safetensors"
    lines: list[str] = []
    result = train(config(footage, out, epochs=25), say=lines.append)
    history = result.history
    start = history[0]
    assert start["epoch"] == 0  # the untrained generator's validation loss
    best = min(row["val_loss"] for row in history[1:])
    assert best < 0.5 * start["val_loss"], [round(r["val_loss"], 2) for r in history]
    meta = read_metadata(out)
    assert meta["weights"] == "random-init seed 0" and meta["extractor"] == "resnet18"
    assert meta["layout"] == "grid" and meta["grid"] == 2 and meta["steps"] == 24 and meta["step_rate"] == 12.0
    assert meta["data"]["train_clips"] + meta["data"]["val_clips"] == 12
    # validation holds whole videos: no source on both sides
    assert not set(meta["data"]["train_sources"]) & set(meta["data"]["val_sources"])
    assert len(meta["mean_motion"]) == 24
    metrics = json.loads((tmp_path / "motion.metrics.json").read_text())
    assert metrics["metrics"]["val"]["error_percent"]["trained"] < metrics["metrics"]["val"]["error_percent"]["untrained"]
    with Image.open(tmp_path / "motion.loss.png") as plot:
        assert plot.size == (720, 420)
    model, _ = from_checkpoint(out)  # the node loads it
    assert model.grid == 2
    assert any(line.startswith("epoch 25/25") for line in lines)


def test_resume_continues_from_the_saved_epoch_with_the_same_optimizer_state(footage: Path, tmp_path: Path) -> None:
    straight = train(config(footage, tmp_path / "straight.safetensors", epochs=6))

    def stop_after_epoch_3(line: str) -> None:  # Ctrl+C, as the third epoch is reported
        if line.startswith("epoch 3/"):
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as stopped:
        train(config(footage, tmp_path / "resumed.safetensors", epochs=6), say=stop_after_epoch_3)
    assert [row["epoch"] for row in stopped.value.result.history] == [0, 1, 2, 3]
    lines: list[str] = []
    resumed = train(config(footage, tmp_path / "resumed.safetensors", epochs=6, resume=tmp_path / "resumed.safetensors"),
                    say=lines.append)
    assert any("resumed from" in line and "after epoch 3" in line for line in lines)
    assert [row["epoch"] for row in resumed.history] == [0, 1, 2, 3, 4, 5, 6]
    # Same optimizer moments, batches and dropout: the resumed run ends exactly where the
    # uninterrupted one did.
    assert straight.history[-1]["train_loss"] == pytest.approx(resumed.history[-1]["train_loss"], rel=1e-5)
    from safetensors.torch import load_file

    ours = load_file(state_path(tmp_path / "resumed.safetensors"))
    for key, value in load_file(state_path(tmp_path / "straight.safetensors")).items():
        assert torch.allclose(value.float(), ours[key].float(), atol=1e-6), key


def test_ctrl_c_leaves_a_loadable_checkpoint_and_a_resumable_state(footage: Path, tmp_path: Path) -> None:
    out = tmp_path / "stopped.safetensors"
    command = [sys.executable, "-m", "kinograph", "train", str(footage), "--out", str(out), "--epochs", "100000",
               "--clip-seconds", "2", "--input-size", "64", "--spatial-grid", "2", "--weights", "none", "--patience", "100000"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ})
    assert process.stderr is not None
    seen = []
    deadline = time.monotonic() + 120
    for line in process.stderr:  # interrupt once it reports an epoch, not after a guessed sleep
        seen.append(line)
        if line.startswith("epoch 2/"):
            break
        assert time.monotonic() < deadline, seen
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    assert process.wait(timeout=60) == 130, "".join(seen) + rest
    assert "resume" in rest and "Traceback" not in rest
    model, meta = from_checkpoint(out)
    assert meta["epoch"] >= 1 and model.grid == 2
    from safetensors import safe_open

    with safe_open(str(state_path(out)), framework="pt") as f:
        saved_epoch = json.loads(f.metadata()["info"])["epoch"]
    assert saved_epoch >= 2
    resumed = train(config(footage, out, epochs=saved_epoch + 1, resume=out))
    assert resumed.history[-1]["epoch"] == saved_epoch + 1


def test_a_second_run_reads_clips_from_the_cache_and_doubts_a_damaged_entry(footage: Path, tmp_path: Path) -> None:
    train(config(footage, tmp_path / "a.safetensors", epochs=1))  # fills the cache if no test did
    lines: list[str] = []
    train(config(footage, tmp_path / "a.safetensors", epochs=1), say=lines.append)
    data_line = next(line for line in lines if "cache:" in line)
    assert "0 made" in data_line, data_line
    # Damage one cached features entry: it is recomputed, not trusted.
    entries = sorted((Path(os.environ["KINOGRAPH_HOME"]) / "cache" / "training" / "features").rglob("*.safetensors"))
    damaged = entries[0]
    raw = bytearray(damaged.read_bytes())
    raw[-5] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    lines.clear()
    train(config(footage, tmp_path / "b.safetensors", epochs=1), say=lines.append)
    data_line = next(line for line in lines if "cache:" in line)
    assert "1 made" in data_line, data_line


def test_the_tensor_cache_checks_what_it_reads(tmp_path: Path) -> None:
    cache = TensorCache(tmp_path)
    cache.put("x", "k1", {"a": np.arange(6, dtype=np.float32).reshape(2, 3)}, {"note": 1})
    tensors, meta = cache.get("x", "k1")  # type: ignore[misc]
    assert tensors["a"].tolist() == [[0, 1, 2], [3, 4, 5]] and meta == {"note": 1}
    assert cache.get("x", "other") is None
    path = cache.path("x", "k1")
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0x01
    path.write_bytes(bytes(raw))
    assert cache.get("x", "k1") is None
    path.write_bytes(b"junk")
    assert cache.get("x", "k1") is None


def test_views_keep_targets_consistent() -> None:
    frame = np.zeros((60, 100, 3), np.uint8)
    frame[:, :20] = 255  # bright on the left
    pixels, done = make_views(frame, 4, ("flip", "crop", "color"), [1, 2])
    assert pixels.shape[0] == 4 and done[0].tolist() == [0.0, 1.0] and done[1].tolist() == [1.0, 1.0]
    assert pixels[1][:, -20:].mean() > 200 and pixels[1][:, :20].mean() < 50  # the mirror
    assert (done[2:, 1] >= 1.0).all() and (done[2:, 1] <= 1.25).all()
    move = torch.tensor([[[0.0, 0.0, 1.0, 0.0], [0.1, 0.05, 1.2, 2.0]]])
    mirrored = view_targets(move, torch.tensor([[1.0, 1.0]]))
    assert mirrored[0, 1].tolist() == pytest.approx([-0.1, 0.05, 1.2, -2.0])
    cropped = view_targets(move, torch.tensor([[0.0, 1.2]]))
    assert cropped[0, 1].tolist() == pytest.approx([0.12, 0.06, 1.2, 2.0])


def test_clip_targets_are_relative_to_the_clip_and_resampled() -> None:
    # A camera panning right at a steady 0.01 of the frame per frame, at 24 fps.
    frames = 60
    camera = np.zeros((frames, 4))
    camera[:, 0] = np.arange(frames) * 0.01
    camera[:, 2] = 1.0
    measured = Measured(camera, (0,), 24.0, (200, 100))
    target = clip_target(measured, 10, steps=5, step_rate=12.0)
    assert target[0].tolist() == pytest.approx([0, 0, 1, 0], abs=1e-9)
    assert target[:, 0].tolist() == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08], abs=1e-9)


def test_bad_input_is_one_line_and_exit_2(footage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(frames / "0001.png")
    out = str(tmp_path / "m.safetensors")
    cases = [
        (["train", str(tmp_path / "missing.mp4"), "--out", out], "does not exist"),
        (["train", str(frames), "--out", out], "--fps"),
        (["train", str(footage), "--out", out, "--steps", "10", "--clip-seconds", "2"], "not both"),
        (["train", str(footage), "--out", str(tmp_path / "m.txt")], ".safetensors"),
        (["train", str(footage), "--out", out, "--augment", "flip,twirl"], "twirl"),
        (["train", str(footage), "--out", out, "--resume", str(tmp_path / "none.safetensors")], "no training state"),
    ]
    for argv, words in cases:
        assert kinograph_main(argv) == 2, argv
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err and err.count("\n") == 1, err


def test_image_sequences_are_footage_too(footage: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sequence"
    folder.mkdir()
    photo, item = bootstrap.shot(5, "subject", size=SMALL, move_seconds=2.0)
    for i, pixels in enumerate(bootstrap.render_shot(photo, item.move, SMALL)):
        Image.fromarray(pixels).save(folder / f"frame_{i + 1}.png")
    (source,) = find_sources([folder], fps=24.0)
    assert source.is_sequence and source.frames[9].name == "frame_10.png"  # natural order
    lines: list[str] = []
    result = train(config(folder, tmp_path / "seq.safetensors", epochs=1, clip_seconds=1.0, stride=0.25, val_split=0.3, fps=24.0),
                   say=lines.append)
    data = read_metadata(result.checkpoint)["data"]
    assert data["clips"] == 6 and data["val_clips"] == 2
    assert any("one video only" in line for line in lines)


def test_last_block_finetuning_writes_features_weights_the_resnet_node_loads(footage: Path, tmp_path: Path) -> None:
    from kinograph.testing import PluginHarness

    out = tmp_path / "tuned.safetensors"
    train(config(footage, out, epochs=2, finetune="last-block"))
    meta = read_metadata(out)
    weights = tmp_path / "tuned.features.safetensors"
    assert meta["features_weights"] == weights.name and meta["weights"].startswith("file sha256:")
    harness = PluginHarness()
    image = np.asarray(bootstrap.make_photo(3, "subject", SMALL)[0])
    features = harness.run_node("kinograph.features.resnet", {"weights": str(weights), "output": "spatial",
                                                              "input_size": 64}, image=image)["features"]
    assert features.kinograph_features["weights"] == meta["weights"]
    untuned = harness.run_node("kinograph.features.resnet", {"weights": "none", "output": "spatial",
                                                             "input_size": 64}, image=image)["features"]
    assert not torch.allclose(features, untuned)  # the last block changed
    motion = harness.run_node("kinograph.motion.lstm", {"checkpoint": str(out), "steps": 24}, features=features)["motion"]
    assert motion.steps == 24
