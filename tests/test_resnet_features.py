"""ResNet features on real torchvision models (random or locally saved weights; no downloads)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torchvision
from torchvision.models.feature_extraction import create_feature_extractor

from kinograph.api import (
    IMAGE,
    Input,
    ModelStore,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    hookimpl,
)
from kinograph.cli import main as kinograph_main
from kinograph.core.registry import reset_registry
from kinograph.core.validation import validate
from kinograph.host import RunOptions, Session
from kinograph.testing import PluginHarness

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class Photo(Node):
    """A test-only source: a smooth random colour image."""

    type_id = "learned_test.photo"
    outputs = [Output("image", IMAGE)]

    class Params(NodeParams):
        seed: int = 0
        width: int = 64
        height: int = 64

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"image": photo(self.params.seed, self.params.height, self.params.width)}


class Keep(Node):
    """A test-only output node keeping what it receives."""

    type_id = "learned_test.keep"
    output_node = True
    inputs = [Input("value", "Any")]
    received: list[Any] = []

    def run(self, ctx: RunContext, value: Any) -> dict[str, Any]:
        Keep.received.append(value)
        return {}


class _TestNodes:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [Photo, Keep]


def photo(seed: int, height: int = 64, width: int = 64) -> np.ndarray:
    """Smooth colour blobs (closer to a photo than white noise)."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((4, 4, 3)).astype(np.float32)
    ys = np.linspace(0, 3, height)[:, None]
    xs = np.linspace(0, 3, width)[None, :]
    y0, x0 = np.floor(ys).astype(int).clip(0, 2), np.floor(xs).astype(int).clip(0, 2)
    fy, fx = (ys - y0)[..., None], (xs - x0)[..., None]
    top = coarse[y0, x0] * (1 - fx) + coarse[y0, x0 + 1] * fx
    bottom = coarse[y0 + 1, x0] * (1 - fx) + coarse[y0 + 1, x0 + 1] * fx
    image = (top * (1 - fy) + bottom * fy) * 255 + rng.normal(0, 6, (height, width, 3))
    return np.ascontiguousarray(image.clip(0, 255).astype(np.uint8))


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ImageNet weights anywhere: an empty TORCH_HOME and downloads off. Returns TORCH_HOME."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setenv("KINOGRAPH_OFFLINE", "1")
    return home


@pytest.fixture
def harness(offline: Path) -> PluginHarness:
    h = PluginHarness()
    h.register(_TestNodes(), "learned-tests")
    Keep.received.clear()
    reset_registry(h.registry)
    yield h
    reset_registry(None)


def direct_model(seed: int, arch: str = "resnet18") -> torch.nn.Module:
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(weights=None)
    model.fc = torch.nn.Identity()
    return model.eval()


def normalised(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return (x - MEAN) / STD


def features(harness: PluginHarness, params: dict[str, Any], **inputs: Any) -> torch.Tensor:
    return harness.run_node("kinograph.features.resnet", params, **inputs)["features"]


def test_pooled_and_spatial_features_equal_a_direct_torchvision_call(harness: PluginHarness) -> None:
    image = photo(1)
    params = {"arch": "resnet18", "weights": "none", "seed": 3, "input_size": 64}
    pooled = features(harness, params, image=image)
    spatial = features(harness, {**params, "output": "spatial"}, image=image)

    model = direct_model(3)
    with torch.no_grad():
        expected = model(normalised(image[None]))
        extractor = create_feature_extractor(model, {"layer4": "map"})
        expected_map = extractor(normalised(image[None]))["map"]
    assert pooled.dtype == torch.float32 and pooled.device.type == "cpu"
    assert pooled.shape == (1, 512)
    torch.testing.assert_close(pooled, expected, rtol=1e-4, atol=1e-5)
    assert spatial.shape == (1, 512, 2, 2)
    torch.testing.assert_close(spatial, expected_map, rtol=1e-4, atol=1e-5)


def test_resize_keeps_the_aspect_ratio(harness: PluginHarness) -> None:
    image = photo(2, height=96, width=160)
    out = features(harness, {"weights": "none", "input_size": 64, "output": "spatial"}, image=image)
    # shorter side 96 -> 64, longer 160 -> 107; ResNet downsamples by 32
    assert out.shape == (1, 512, 2, 4)


def test_a_batch_equals_single_calls(harness: PluginHarness) -> None:
    images = np.stack([photo(s) for s in range(3)])
    params = {"weights": "none", "seed": 1, "input_size": 64, "batch_size": 2}
    batch = features(harness, params, images=images)
    singles = torch.cat([features(harness, params, image=images[i]) for i in range(3)])
    assert batch.shape == (3, 512)
    torch.testing.assert_close(batch, singles, rtol=1e-4, atol=1e-4)
    both = features(harness, params, image=images[2], images=images[:2])
    torch.testing.assert_close(both, singles[[2, 0, 1]], rtol=1e-4, atol=1e-4)
    assert not torch.allclose(singles[0], singles[1])


def test_seed_decides_the_random_weights(harness: PluginHarness) -> None:
    image = photo(4)
    a = features(harness, {"weights": "none", "seed": 1, "input_size": 64}, image=image)
    b = features(harness, {"weights": "none", "seed": 1, "input_size": 64}, image=image)
    c = features(harness, {"weights": "none", "seed": 2, "input_size": 64}, image=image)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_a_local_weights_file_loads_and_changes_the_output(
    harness: PluginHarness, tmp_path: Path, suffix: str
) -> None:
    torch.manual_seed(11)
    net = torchvision.models.resnet18(weights=None)
    # Perturb batch-norm statistics too, so they are checked to load (not only conv weights).
    net.bn1.running_mean.uniform_(-0.5, 0.5)
    path = tmp_path / f"mine{suffix}"
    if suffix == ".pth":
        torch.save({"state_dict": {f"module.{k}": v for k, v in net.state_dict().items()}}, path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    image = photo(5)
    loaded = features(harness, {"weights": str(path), "input_size": 64}, image=image)
    random = features(harness, {"weights": "none", "input_size": 64}, image=image)
    net.fc = torch.nn.Identity()
    with torch.no_grad():
        expected = net.eval()(normalised(image[None]))
    torch.testing.assert_close(loaded, expected, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(loaded, random)


def test_bad_weights_files_fail_clearly(harness: PluginHarness, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a checkpoint" * 10)
    with pytest.raises(NodeFailure, match=r"cannot read weights file .*garbage\.pth") as caught:
        features(harness, {"weights": str(garbage)}, image=photo(0))
    # A short reason; never PyTorch's advice to retry with weights_only=False (it runs the file's code).
    assert "not a PyTorch tensor file" in str(caught.value) and "weights_only" not in str(caught.value)
    with pytest.raises(NodeFailure, match=r"is a folder, not a weights file"):
        features(harness, {"weights": str(tmp_path)}, image=photo(0))

    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(NodeFailure, match=r"broken\.safetensors"):
        features(harness, {"weights": str(broken)}, image=photo(0))

    other_arch = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), other_arch)
    with pytest.raises(NodeFailure, match=r"do not fit resnet34.*arch"):
        features(harness, {"arch": "resnet34", "weights": str(other_arch)}, image=photo(0))

    with pytest.raises(NodeFailure, match=r"does not exist: .*missing\.pth"):
        features(harness, {"weights": str(tmp_path / "missing.pth")}, image=photo(0))


class _Exploit:
    """Unpickling this would create a file: loading weights must refuse it."""

    marker = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path(self.marker),))


def test_loading_weights_never_unpickles_objects(harness: PluginHarness, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    exploit = _Exploit()
    exploit.marker = str(marker)
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        torch.save({"state_dict": exploit}, f, pickle_module=pickle)
    with pytest.raises(NodeFailure, match="pickled objects are refused") as caught:
        features(harness, {"weights": str(path)}, image=photo(0))
    assert not marker.exists()
    assert "weights_only" not in str(caught.value)


def graph_with_features(harness: PluginHarness, **params: Any) -> Any:
    graph = harness.graph()
    graph.add_node("learned_test.photo", "photo")
    graph.add_node("kinograph.features.resnet", "features", {"input_size": 64, **params})
    graph.add_node("learned_test.keep", "keep")
    graph.connect("photo.image", "features.image")
    graph.connect("features.features", "keep.value")
    return graph


def test_auto_without_imagenet_weights_warns_in_the_run_result(harness: PluginHarness) -> None:
    result = harness.run(graph_with_features(harness, weights="auto", seed=4))
    assert result.ok, result.failures
    warnings = [m for n, m in result.warnings if n == "features"]
    assert len(warnings) == 1
    assert warnings[0].startswith("ResNet weights unavailable, random init")
    assert "torch" in warnings[0] and "weights param" in warnings[0]
    direct = direct_model(4)
    with torch.no_grad():
        expected = direct(normalised(photo(0)[None]))
    torch.testing.assert_close(Keep.received[0], expected, rtol=1e-4, atol=1e-5)


def test_the_cli_prints_the_auto_warning(harness: PluginHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "features.json"
    graph_with_features(harness, weights="auto").save(path)
    code = kinograph_main(["run", str(path), "--no-cache"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "ResNet weights unavailable, random init" in err


def test_imagenet_without_weights_says_how_to_supply_them(harness: PluginHarness, offline: Path) -> None:
    result = harness.run(graph_with_features(harness, weights="imagenet"))
    assert result.status == "failed"
    message = result.failures[0].message
    assert str(offline / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in message
    assert "download.pytorch.org" in message and "weights param" in message


def test_imagenet_weights_come_from_the_torch_hub_cache(harness: PluginHarness, offline: Path) -> None:
    net = direct_model(21)
    cached = offline / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    torch.save({k: v for k, v in net.state_dict().items()}, cached)
    with torch.no_grad():
        expected = net(normalised(photo(0)[None]))
    for weights in ("imagenet", "auto"):
        Keep.received.clear()
        result = harness.run(graph_with_features(harness, weights=weights))
        assert result.ok and not result.warnings, (result.failures, result.warnings)
        torch.testing.assert_close(Keep.received[0], expected, rtol=1e-4, atol=1e-5)


def test_the_model_loads_once_across_runs(harness: PluginHarness) -> None:
    store = ModelStore()
    session = Session(harness.registry, models=store)
    graph = graph_with_features(harness, weights="none", seed=8)
    for _ in range(2):
        assert session.run(graph, RunOptions(use_cache=False, device="cpu")).ok
    assert store.loads == 1
    assert len(Keep.received) == 2
    torch.testing.assert_close(Keep.received[0], Keep.received[1])


def test_output_info_and_missing_image_are_known_before_running(harness: PluginHarness) -> None:
    from kinograph.plugins.learned.resnet_features import ResNetFeatures

    params = ResNetFeatures.Params(arch="resnet50", output="spatial")
    info = ResNetFeatures.output_info(params, "features")
    assert info == {"extractor": "resnet50", "feature_size": 2048, "layout": "spatial"}
    graph = harness.graph()
    graph.add_node("kinograph.features.resnet", "features")
    problems = [str(p) for p in validate(graph)]
    assert any("nodes.features" in p and "image" in p for p in problems), problems


def test_a_wrong_input_is_a_clear_failure(harness: PluginHarness) -> None:
    with pytest.raises(NodeFailure, match=r"input image must be uint8 RGB \[H, W, 3\]"):
        features(harness, {"weights": "none"}, image=np.zeros((8, 8), dtype=np.uint8))


def test_a_relative_weights_path_resolves_against_the_graph_folder(harness: PluginHarness, tmp_path: Path) -> None:
    net = direct_model(31)
    torch.save(net.state_dict(), tmp_path / "mine.pt")
    graph_with_features(harness, weights="mine.pt").save(tmp_path / "graph.json")
    result = harness.run(tmp_path / "graph.json")
    assert result.ok, result.failures
    with torch.no_grad():
        expected = net(normalised(photo(0)[None]))
    torch.testing.assert_close(Keep.received[0], expected, rtol=1e-4, atol=1e-5)
