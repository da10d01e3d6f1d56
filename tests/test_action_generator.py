"""LSTM action generator: bounded, smooth, seeded motion; checkpoints checked before anything runs."""

from __future__ import annotations

import math
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
from kinograph.plugins.learned.action_model import MotionRanges
from kinograph.plugins.learned.checkpoints import read_metadata
from kinograph.plugins.learned.train import fit_action_generator, synthetic_dataset
from kinograph.testing import PluginHarness

LSTM = "kinograph.motion.lstm"
UNTRAINED = {"checkpoint": ""}


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


def feature_vectors(count: int, size: int = 512, seed: int = 0) -> list[torch.Tensor]:
    """ResNet-like feature vectors (non-negative, sparse), one [1, size] tensor each."""
    g = torch.Generator().manual_seed(seed)
    return [torch.relu(torch.randn(1, size, generator=g)) for _ in range(count)]


def motion(harness: PluginHarness, features: Any, **params: Any) -> Motion:
    return harness.run_node(LSTM, params, features=features)["motion"]


def camera(m: Motion) -> np.ndarray:
    return np.array([m.pan_x, m.pan_y, m.zoom, m.rotation]).T


def corners_inside(m: Motion, aspect: float) -> bool:
    """Whether the rotated, zoomed, panned view of the image's aspect stays inside the image."""
    width, height = aspect, 1.0
    for pan_x, pan_y, zoom, rotation in camera(m):
        theta = math.radians(rotation)
        cx, cy = width / 2 + pan_x * width, height / 2 + pan_y * height
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            dx, dy = sx * width / (2 * zoom), sy * height / (2 * zoom)
            x = cx + dx * math.cos(theta) - dy * math.sin(theta)
            y = cy + dx * math.sin(theta) + dy * math.cos(theta)
            if not (-1e-9 <= x <= width + 1e-9 and -1e-9 <= y <= height + 1e-9):
                return False
    return True


def test_untrained_motion_is_deterministic_per_seed_and_warns(harness: PluginHarness) -> None:
    (features,) = feature_vectors(1)
    a = motion(harness, features, seed=5, **UNTRAINED)
    b = motion(harness, features, seed=5, **UNTRAINED)
    c = motion(harness, features, seed=6, **UNTRAINED)
    assert a.steps == 48
    assert camera(a).tolist() == camera(b).tolist()
    assert np.abs(camera(a) - camera(c)).max() > 1e-3
    result = harness.run(generator_graph(harness, checkpoint="", weights="none"))
    assert result.ok, result.failures
    assert any(n == "motion" and "untrained" in m for n, m in result.warnings)


@pytest.mark.parametrize("checkpoint", ["", DEFAULT_CHECKPOINT])
@pytest.mark.parametrize("strength", [1.0, 3.0])
def test_motion_is_bounded_smooth_and_moves(harness: PluginHarness, checkpoint: str, strength: float) -> None:
    path = resolve_path(checkpoint, None)
    for i, features in enumerate(feature_vectors(4, seed=1)):
        m = motion(harness, features, checkpoint=path, strength=strength, seed=i, steps=60, flow_grid=5)
        values = camera(m)
        assert np.isfinite(values).all()
        assert (values[:, 2] >= 1.0).all()
        ranges = MotionRanges.at(strength)
        assert np.abs(values[:, 3]).max() <= ranges.rotation + 1e-6
        for aspect in (1.0, 16 / 9, 9 / 16, 2.0):
            assert corners_inside(m, aspect), f"view leaves a {aspect:.2f} image"
        assert m.flow is not None and m.flow.shape == (60, 5, 5, 2) and m.flow.dtype == np.float32
        assert np.abs(m.flow).max() <= ranges.flow + 1e-6
        # Smooth: the change of velocity is small next to the velocity itself.
        first = np.abs(np.diff(values, axis=0)).max(axis=0)
        second = np.abs(np.diff(values, n=2, axis=0)).max(axis=0)
        assert (second <= 0.3 * first + 1e-7).all(), (first, second)
        # Moves: the view centre or the zoom travels at least 0.5% of the image.
        travel = np.abs(values[:, :3] - values[0, :3]).max()
        assert travel > 0.005, travel


def test_strength_zero_holds_the_camera_still(harness: PluginHarness) -> None:
    (features,) = feature_vectors(1)
    values = camera(motion(harness, features, strength=0.0, **UNTRAINED))
    assert np.allclose(values, [0.0, 0.0, 1.0, 0.0])


def generator_graph(harness: PluginHarness, *, seeds: tuple[int, ...] = (0,), arch: str = "resnet18", checkpoint: str = DEFAULT_CHECKPOINT, weights: str = "none") -> Any:
    graph = harness.graph()
    for i, seed in enumerate(seeds):
        graph.add_node("learned_test.photo", f"photo{i}", {"seed": seed})
        graph.add_node("kinograph.features.resnet", f"features{i}", {"arch": arch, "weights": weights, "input_size": 64})
        graph.add_node(LSTM, "motion" if i == 0 else f"motion{i}", {"checkpoint": checkpoint})
        graph.add_node("learned_test.keep", f"keep{i}")
        motion_id = "motion" if i == 0 else f"motion{i}"
        graph.connect(f"photo{i}.image", f"features{i}.image")
        graph.connect(f"features{i}.features", f"{motion_id}.features")
        graph.connect(f"{motion_id}.motion", f"keep{i}.value")
    return graph


@pytest.mark.parametrize("checkpoint", ["", DEFAULT_CHECKPOINT])
def test_two_photos_give_different_motion(harness: PluginHarness, checkpoint: str) -> None:
    result = harness.run(generator_graph(harness, seeds=(1, 2), checkpoint=checkpoint))
    assert result.ok, result.failures
    first, second = (camera(m) for m in Keep.received)
    assert np.abs(first - second).max() > 1e-3


def test_the_default_checkpoint_is_small_and_says_what_it_expects() -> None:
    path = Path(resolve_path(DEFAULT_CHECKPOINT, None))
    assert path.stat().st_size < 5 * 1024 * 1024
    meta = read_metadata(path)
    assert meta["feature_size"] == 512 and meta["extractor"] == "resnet18"
    assert {"steps", "hidden_size", "layers"} <= set(meta)


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


def test_an_extractor_mismatch_of_equal_size_is_reported(harness: PluginHarness) -> None:
    problems = [str(p) for p in validate(generator_graph(harness, arch="resnet34"))]
    assert len(problems) == 1 and "resnet18" in problems[0] and "resnet34" in problems[0], problems


def test_untrained_generator_accepts_any_feature_size(harness: PluginHarness) -> None:
    assert validate(generator_graph(harness, arch="resnet50", checkpoint="")) == []
    spatial = torch.relu(torch.randn(2, 64, 3, 3, generator=torch.Generator().manual_seed(0)))
    assert motion(harness, spatial, **UNTRAINED).steps == 48


def test_bad_checkpoints_fail_clearly(harness: PluginHarness, tmp_path: Path) -> None:
    (features,) = feature_vectors(1)
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
        motion(harness, torch.rand(1, 100), checkpoint=resolve_path(DEFAULT_CHECKPOINT, None))

    # validation reads the same header and names the file
    graph = generator_graph(harness, checkpoint=str(garbage))
    assert any("garbage.safetensors" in str(p) for p in validate(graph))


class _Exploit:
    marker = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path(self.marker),))


def test_checkpoints_never_unpickle_objects(harness: PluginHarness, tmp_path: Path) -> None:
    exploit = _Exploit()
    exploit.marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {}, "metadata": exploit}, path, pickle_module=pickle)
    (features,) = feature_vectors(1)
    with pytest.raises(NodeFailure, match="pickled objects are refused"):
        motion(harness, features, checkpoint=str(path))
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_a_fitted_checkpoint_round_trips(harness: PluginHarness, tmp_path: Path, suffix: str) -> None:
    features, targets = synthetic_dataset(32, samples=64, steps=12, seed=0)
    kwargs = {"extractor": "tiny", "hidden_size": 8, "epochs": 6, "batch_size": 32, "seed": 2}
    result = fit_action_generator(features, targets, **kwargs)
    again = fit_action_generator(features, targets, **kwargs)
    assert result.losses == again.losses  # deterministic per seed
    assert result.losses[-1] < 0.7 * result.losses[0]
    path = result.save(tmp_path / f"tiny{suffix}")
    meta = read_metadata(path)
    assert (meta["feature_size"], meta["extractor"], meta["steps"], meta["hidden_size"], meta["layers"]) == (32, "tiny", 12, 8, 1)

    from kinograph.plugins.learned.action_model import integrate

    with torch.no_grad():
        start, actions = result.model(features[:1], 12)
        expected, _ = integrate(start, actions, 1.0)
    m = motion(harness, features[:1], checkpoint=str(path), steps=12, hidden_size=8)
    np.testing.assert_allclose(camera(m), expected[0].numpy(), rtol=1e-5, atol=1e-6)


def test_no_flow_grid_means_no_flow(harness: PluginHarness) -> None:
    (features,) = feature_vectors(1)
    m = motion(harness, features, flow_grid=0, **UNTRAINED)
    assert m.flow is None and m.source == "lstm:untrained"
    assert motion(harness, features).source == "lstm:resnet18"
