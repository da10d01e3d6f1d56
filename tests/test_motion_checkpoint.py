"""The shipped motion checkpoint: its motion follows the photo, on photos it never saw.

The photos and clips here are generated with another seed than the bootstrap set the checkpoint
was trained on (``make_bootstrap_clips(seed=0)``), so none of them was used in training.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kinograph.api import resolve_path
from kinograph.cli import main as kinograph_main
from kinograph.plugins.learned import bootstrap
from kinograph.plugins.learned.action_generator import DEFAULT_CHECKPOINT
from kinograph.plugins.learned.checkpoints import read_metadata
from kinograph.testing import PluginHarness

#: Photo seeds ``TEST_SET * 1_000_000 + i`` never occur in the training set (seed 0).
TEST_SET = 7
CHECKPOINT = resolve_path(DEFAULT_CHECKPOINT, None)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHarness:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("KINOGRAPH_OFFLINE", "1")
    monkeypatch.setenv("KINOGRAPH_HOME", str(tmp_path / "home"))
    return PluginHarness()


def features_params() -> dict[str, object]:
    """The features the checkpoint says it was trained on (as graphs/image_to_video.json pins them)."""
    meta = read_metadata(CHECKPOINT)
    seed = int(meta["weights"].removeprefix("random-init seed "))
    return {"arch": meta["extractor"], "weights": "none", "seed": seed, "output": "spatial", "input_size": meta["input_size"]}


def pan_x_travel(harness: PluginHarness, image: np.ndarray) -> float:
    features = harness.run_node("kinograph.features.resnet", features_params(), image=image)["features"]
    motion = harness.run_node("kinograph.motion.lstm", {"checkpoint": CHECKPOINT}, features=features)["motion"]
    return motion.pan_x[-1] - motion.pan_x[0]


def sideways_photos(count: int) -> list[tuple[np.ndarray, float]]:
    """Generated photos whose content sits to one side: a subject off-centre, or a horizon with
    its detail at one end. With the side (-1 left, +1 right) a person would pan toward."""
    found = []
    i = 0
    while len(found) < count:
        kind = ("subject", "horizon")[i % 2]
        photo, scene = bootstrap.make_photo(TEST_SET * 1_000_000 + i, kind)
        i += 1
        offset = scene.target[0] - 0.5
        if abs(offset) >= 0.15:
            found.append((photo, float(np.sign(offset))))
    return found


def test_a_mirrored_photo_gets_the_mirrored_move(harness: PluginHarness) -> None:
    photos = sideways_photos(24)
    agree = toward = 0
    travels = []
    for photo, side in photos:
        original = pan_x_travel(harness, photo)
        mirrored = pan_x_travel(harness, np.ascontiguousarray(photo[:, ::-1]))
        travels.append((round(original, 4), round(mirrored, 4)))
        agree += np.sign(original) == -np.sign(mirrored) and min(abs(original), abs(mirrored)) > 0.003
        toward += np.sign(original) == side
    assert agree >= 0.9 * len(photos), travels
    # ... and the move goes toward the subject or the detailed end of the horizon
    assert toward >= 0.8 * len(photos), travels


def test_flat_photos_hold_still_and_subjects_get_a_push_in(harness: PluginHarness) -> None:
    def end_zoom(kind: str, i: int) -> float:
        photo, _ = bootstrap.make_photo(TEST_SET * 1_000_000 + 500 + i, kind)
        features = harness.run_node("kinograph.features.resnet", features_params(), image=photo)["features"]
        return harness.run_node("kinograph.motion.lstm", {"checkpoint": CHECKPOINT}, features=features)["motion"].zoom[-1]

    flat = [end_zoom("flat", i) for i in range(6)]
    subject = [end_zoom("subject", i) for i in range(6)]
    assert np.median(subject) > 1.15, subject
    assert np.median(flat) < 1.08 and np.median(flat) < np.median(subject) - 0.1, (flat, subject)


def test_the_shipped_checkpoint_beats_the_baselines_on_clips_it_never_saw(
    harness: PluginHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips = tmp_path / "clips"
    bootstrap.make_bootstrap_clips(clips, videos=2, shots_per_video=6, seed=TEST_SET,
                                   kinds=("subject", "horizon", "flat", "subject", "vertical", "horizon"))
    report = tmp_path / "motion.json"
    code = kinograph_main(["evaluate", "motion", str(clips), "--checkpoint", CHECKPOINT, "--json", str(report)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "trained generator" in err and "no motion" in err  # the table
    result = json.loads(report.read_text())
    errors = result["error_percent"]
    assert result["clips"] == 12 and result["used_in_training"] == []
    assert errors["trained"] <= 0.7 * errors["mean_motion"], errors
    assert errors["trained"] < errors["untrained"] and errors["trained"] < errors["no_motion"], errors
    spread = result["spread_percent"]
    assert spread["across_photos"] > 0.3 * spread["measured_across_photos"], spread
    assert spread["across_variation"] > 0.05, spread


def test_the_shipped_checkpoint_is_small_and_says_how_it_was_made() -> None:
    assert Path(CHECKPOINT).stat().st_size < 5 * 1024 * 1024
    meta = read_metadata(CHECKPOINT)
    assert meta["format_version"] == 2 and meta["trained_by"] == "kinograph train"
    assert meta["weights"].startswith("random-init seed ") and meta["layout"] == "grid"
    assert meta["data"]["clips"] >= 500 and meta["metrics"]["val"]["ratio_to_mean_motion"] < 0.7
    graph = json.loads((Path(__file__).resolve().parent.parent / "graphs" / "image_to_video.json").read_text())
    pinned = graph["nodes"]["features"]["params"]
    assert {k: pinned[k] for k in features_params()} == features_params()
