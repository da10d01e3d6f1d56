"""LSTM action generator: smooth, bounded motion from the identity; variation takes; checkpoints
checked before anything runs. (Whether the motion follows the photo: test_motion_checkpoint.py.)"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from test_resnet_features import Keep, _TestNodes

from kinograph.api import GraphError, ModelStore, Motion, NodeFailure, resolve_path
from kinograph.cli import main as kinograph_main
from kinograph.core.registry import reset_registry
from kinograph.core.validation import validate
from kinograph.host import RunOptions, Session
from kinograph.plugins.learned.action_generator import DEFAULT_CHECKPOINT
from kinograph.plugins.learned.bootstrap import make_photo
from kinograph.plugins.learned.checkpoints import read_metadata, save_checkpoint
from kinograph.plugins.learned.motion_model import (
    LIMITS,
    corners,
    integrate,
    seeded_generator,
    variation_noise,
)
from kinograph.testing import PluginHarness

LSTM = "kinograph.motion.lstm"
UNTRAINED = {"checkpoint": ""}
CHECKPOINT = resolve_path(DEFAULT_CHECKPOINT, None)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHarness:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("KINOGRAPH_OFFLINE", "1")
    h = PluginHarness()
    h.register(_TestNodes(), "learned-tests")
    Keep.received.clear()
    reset_registry(h.registry)
    yield h
    reset_registry(None)


def spatial_features(count: int, size: int = 512, seed: int = 0) -> list[torch.Tensor]:
    """ResNet-like spatial maps (non-negative, sparse), one [1, size, 4, 6] tensor each."""
    g = torch.Generator().manual_seed(seed)
    return [torch.relu(torch.randn(1, size, 4, 6, generator=g)) for _ in range(count)]


def photo_features(harness: PluginHarness, count: int) -> list[torch.Tensor]:
    """Features of generated photos, computed as the checkpoint was trained (spatial, seed 0)."""
    params = {"weights": "none", "seed": 0, "output": "spatial", "input_size": read_metadata(CHECKPOINT)["input_size"]}
    kinds = ("subject", "horizon", "vertical", "flat")
    return [
        harness.run_node("kinograph.features.resnet", params, image=make_photo(8_000_000 + i, kinds[i % 4])[0])["features"]
        for i in range(count)
    ]


def motion(harness: PluginHarness, features: Any, **params: Any) -> Motion:
    return harness.run_node(LSTM, params, features=features)["motion"]


def camera(m: Motion) -> np.ndarray:
    return np.array([m.pan_x, m.pan_y, m.zoom, m.rotation]).T


def corner_distance(a: np.ndarray, b: np.ndarray, aspect: float) -> float:
    """Largest distance between the two moves' frame corners (frame widths)."""
    delta = corners(torch.from_numpy(a), aspect) - corners(torch.from_numpy(b), aspect)
    return float(delta.norm(dim=-1).max())


def test_untrained_motion_is_deterministic_per_seed_and_warns(harness: PluginHarness) -> None:
    (features,) = spatial_features(1)
    a = motion(harness, features, seed=5, **UNTRAINED)
    b = motion(harness, features, seed=5, **UNTRAINED)
    c = motion(harness, features, seed=6, **UNTRAINED)
    assert a.steps == 48
    assert camera(a).tolist() == camera(b).tolist()
    assert np.abs(camera(a) - camera(c)).max() > 1e-3
    result = harness.run(generator_graph(harness, checkpoint="", weights="none"))
    assert result.ok, result.failures
    assert any(n == "motion" and "untrained" in m for n, m in result.warnings)


@pytest.mark.parametrize("checkpoint", ["", CHECKPOINT])
@pytest.mark.parametrize("strength", [1.0, 3.0])
def test_motion_starts_at_the_photo_and_is_bounded_and_smooth(harness: PluginHarness, checkpoint: str, strength: float) -> None:
    moved = 0
    for i, features in enumerate(photo_features(harness, 4)):
        m = motion(harness, features, checkpoint=checkpoint, strength=strength, seed=i, steps=60)
        values = camera(m)
        assert values[0].tolist() == [0.0, 0.0, 1.0, 0.0]  # step 0: the photo as it is
        assert np.isfinite(values).all()
        assert np.abs(values[:, :2]).max() <= LIMITS.pan * strength + 1e-6
        assert np.abs(np.log(values[:, 2])).max() <= LIMITS.zoom * strength + 1e-6
        assert np.abs(values[:, 3]).max() <= LIMITS.rotation * strength + 1e-6
        # Smooth: where the frame's corners go, no step changes their velocity by more than a
        # fraction of their largest velocity (the move eases in from rest, never jerks); an
        # almost still camera may wobble by an invisible 0.02% of the width (times strength).
        path = corners(torch.from_numpy(values), 16 / 9).numpy()
        first = np.abs(np.diff(path, axis=0)).max()
        second = np.abs(np.diff(path, n=2, axis=0)).max()
        assert second <= 0.3 * first + 2e-4 * strength, (first, second)
        moved += np.abs(values[:, :3] - values[0, :3]).max() > 0.005
        assert m.meta["fps"] > 0
    assert moved >= 2


def test_strength_scales_the_move_and_zero_holds_still(harness: PluginHarness) -> None:
    (features,) = spatial_features(1)
    still = camera(motion(harness, features, strength=0.0, checkpoint=CHECKPOINT))
    assert np.allclose(still, [0.0, 0.0, 1.0, 0.0])
    one = camera(motion(harness, features, strength=1.0, checkpoint=CHECKPOINT))
    two = camera(motion(harness, features, strength=2.0, checkpoint=CHECKPOINT))
    np.testing.assert_allclose(two[:, [0, 1, 3]], 2 * one[:, [0, 1, 3]], atol=1e-6)
    np.testing.assert_allclose(np.log(two[:, 2]), 2 * np.log(one[:, 2]), atol=1e-6)


def test_variation_zero_is_deterministic_and_others_are_other_takes(harness: PluginHarness) -> None:
    (features,) = photo_features(harness, 1)
    base = camera(motion(harness, features, checkpoint=CHECKPOINT))
    again = camera(motion(harness, features, checkpoint=CHECKPOINT, variation=0))
    assert base.tolist() == again.tolist()
    takes = [camera(motion(harness, features, checkpoint=CHECKPOINT, variation=v)) for v in (1, 2, 3)]
    assert takes[0].tolist() == camera(motion(harness, features, checkpoint=CHECKPOINT, variation=1)).tolist()
    aspect = 16 / 9
    for take in takes:  # other takes: frame corners at least 0.2% of the width apart, somewhere
        assert corner_distance(take, base, aspect) > 0.002
    assert corner_distance(takes[0], takes[1], aspect) > 0.002
    assert variation_noise(0) is None


def generator_graph(harness: PluginHarness, *, arch: str = "resnet18", checkpoint: str = CHECKPOINT,
                    weights: str = "none", output: str = "spatial", seed: int = 0, input_size: int = 64) -> Any:
    graph = harness.graph()
    graph.add_node("learned_test.photo", "photo0", {"seed": 1})
    graph.add_node("kinograph.features.resnet", "features0",
                   {"arch": arch, "weights": weights, "input_size": input_size, "output": output, "seed": seed})
    graph.add_node(LSTM, "motion", {"checkpoint": checkpoint})
    graph.add_node("learned_test.keep", "keep0")
    graph.connect("photo0.image", "features0.image")
    graph.connect("features0.features", "motion.features")
    graph.connect("motion.motion", "keep0.value")
    return graph


def test_features_of_other_weights_than_the_checkpoints_give_a_warning(harness: PluginHarness) -> None:
    size = read_metadata(CHECKPOINT)["input_size"]
    same = harness.run(generator_graph(harness, input_size=size))
    assert same.ok and not any(n == "motion" for n, _ in same.warnings), same.warnings
    other = harness.run(generator_graph(harness, seed=9, input_size=size))
    assert other.ok, other.failures
    (warning,) = [m for n, m in other.warnings if n == "motion"]
    assert "random-init seed 0" in warning and "random-init seed 9" in warning
    smaller = harness.run(generator_graph(harness, input_size=64))
    (warning,) = [m for n, m in smaller.warnings if n == "motion"]
    assert f"input_size {size}" in warning


def test_the_default_checkpoint_says_what_it_expects() -> None:
    meta = read_metadata(CHECKPOINT)
    assert meta["feature_size"] == 512 and meta["extractor"] == "resnet18"
    assert meta["grid"] == 3 and meta["step_rate"] > 0 and meta["steps"] >= 2
    assert {"data", "metrics", "mean_motion", "motion_format", "weights", "input_size"} <= set(meta)


def test_a_feature_size_mismatch_is_reported_before_anything_runs(
    harness: PluginHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = generator_graph(harness, arch="resnet50")
    problems = [str(p) for p in validate(graph)]
    assert len(problems) == 1, problems
    assert problems[0].startswith("nodes.motion:")
    assert "'features0'" in problems[0] and "2048" in problems[0] and "512" in problems[0]

    store = ModelStore()
    with pytest.raises(GraphError):
        Session(harness.registry, models=store).run(graph, RunOptions(device="cpu"))
    assert store.loads == 0  # no model was loaded: the check came first

    path = tmp_path / "mismatch.json"
    graph.save(path)
    assert kinograph_main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "motion" in err and "features0" in err and "resnet18" in err


def test_an_extractor_or_layout_mismatch_is_reported(harness: PluginHarness) -> None:
    problems = [str(p) for p in validate(generator_graph(harness, arch="resnet34"))]
    assert len(problems) == 1 and "resnet18" in problems[0] and "resnet34" in problems[0], problems
    problems = [str(p) for p in validate(generator_graph(harness, output="pooled"))]
    assert len(problems) == 1 and "set features0.output to spatial" in problems[0], problems
    with pytest.raises(NodeFailure, match="set the features node's output to spatial"):
        motion(harness, torch.rand(1, 512), checkpoint=CHECKPOINT)


def test_untrained_generator_accepts_any_features(harness: PluginHarness) -> None:
    assert validate(generator_graph(harness, arch="resnet50", checkpoint="")) == []
    assert motion(harness, torch.rand(2, 64, 3, 3), **UNTRAINED).steps == 48
    assert motion(harness, torch.rand(1, 100), **UNTRAINED).steps == 48


def test_bad_checkpoints_fail_clearly(harness: PluginHarness, tmp_path: Path) -> None:
    (features,) = spatial_features(1)
    with pytest.raises(NodeFailure, match=r"does not exist: .*nope\.safetensors"):
        motion(harness, features, checkpoint=str(tmp_path / "nope.safetensors"))
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(NodeFailure, match=r"garbage\.safetensors"):
        motion(harness, features, checkpoint=str(garbage))
    with pytest.raises(NodeFailure, match=r"is a folder, not a checkpoint file"):
        motion(harness, features, checkpoint=str(tmp_path))
    torch_garbage = tmp_path / "garbage.pt"
    torch_garbage.write_bytes(b"not a checkpoint" * 8)
    with pytest.raises(NodeFailure, match=r"garbage\.pt: not a PyTorch tensor file") as caught:
        motion(harness, features, checkpoint=str(torch_garbage))
    assert "weights_only" not in str(caught.value)
    with pytest.raises(NodeFailure, match=r"expects 512-channel features"):
        motion(harness, torch.rand(1, 100, 3, 3), checkpoint=CHECKPOINT)
    # validation reads the same header and names the file
    graph = generator_graph(harness, checkpoint=str(garbage))
    assert any("garbage.safetensors" in str(p) for p in validate(graph))


def test_an_old_format_checkpoint_says_how_to_replace_it(harness: PluginHarness, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    old = tmp_path / "old.safetensors"
    meta = {"format": "kinograph.motion.lstm", "format_version": "1", "feature_size": "512", "extractor": "resnet18",
            "steps": "32", "hidden_size": "32", "layers": "1"}
    save_file({"encode.weight": torch.zeros(32, 512)}, str(old), metadata=meta)
    (features,) = spatial_features(1)
    with pytest.raises(NodeFailure, match=r"format version 1.*kinograph train"):
        motion(harness, features, checkpoint=str(old))


class _Exploit:
    marker = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path(self.marker),))


def test_checkpoints_never_unpickle_objects(harness: PluginHarness, tmp_path: Path) -> None:
    exploit = _Exploit()
    exploit.marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {}, "metadata": exploit}, path, pickle_module=pickle)
    (features,) = spatial_features(1)
    with pytest.raises(NodeFailure, match="pickled objects are refused"):
        motion(harness, features, checkpoint=str(path))
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_a_saved_checkpoint_runs_as_its_network(harness: PluginHarness, tmp_path: Path, suffix: str) -> None:
    model = seeded_generator(32, 2, 8, 1, seed=3).eval()
    meta = {"feature_size": 32, "extractor": "tiny", "weights": "random-init seed 0", "layout": "grid", "grid": 2,
            "steps": 12, "step_rate": 6.0, "hidden_size": 8, "layers": 1, "data": {"clips": 1}}
    path = save_checkpoint(tmp_path / f"tiny{suffix}", model.state_dict(), meta)
    back = read_metadata(path)
    assert (back["feature_size"], back["grid"], back["step_rate"], back["data"]) == (32, 2, 6.0, {"clips": 1})
    features = torch.rand(1, 32, 3, 5)
    with torch.no_grad():
        expected = integrate(model(features, 12, 6.0), 6.0)[0].numpy()
    m = motion(harness, features, checkpoint=str(path), steps=12)
    np.testing.assert_allclose(camera(m), expected, rtol=1e-5, atol=1e-6)
    assert m.meta["fps"] == 6.0 and m.source == "lstm:tiny"


def test_version_1_params_migrate(harness: PluginHarness) -> None:
    params = harness.params(LSTM, {"steps": 20, "flow_grid": 5, "checkpoint": ""}, version=1)
    assert params.steps == 20 and not hasattr(params, "flow_grid")
