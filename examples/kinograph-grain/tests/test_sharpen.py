"""Sharpen: the torch model matches a NumPy unsharp mask, loads once, and runs on CUDA when there."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from kinograph.api import NodeFailure
from kinograph.testing import collect_frames, frames_from_array, random_frames


def numpy_unsharp(frames: np.ndarray, amount: float, sigma: float = 1.0) -> np.ndarray:
    """Reference: 5x5 Gaussian with mirrored edges, out = x + amount * (x - blur(x))."""
    axis = np.arange(5) - 2.0
    line = np.exp(-(axis**2) / (2 * sigma**2))
    line /= line.sum()
    x = frames.astype(np.float64) / 255.0
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    h, w = frames.shape[1:3]
    rows = sum(line[i] * padded[:, i : i + h] for i in range(5))
    blur = sum(line[j] * rows[:, :, j : j + w] for j in range(5))
    y = np.clip(x + amount * (x - blur), 0, 1)
    return np.round(y * 255).astype(np.uint8)


def sharpen(run_node, frames, **params):
    return collect_frames(run_node("grain.sharpen", params, frames=frames_from_array(frames, chunk_size=3))["frames"])


def test_matches_numpy_unsharp_mask(run_node):
    frames = random_frames(5, 24, 40, seed=3)
    out = sharpen(run_node, frames, amount=1.5)
    expected = numpy_unsharp(frames, 1.5)
    assert np.abs(out.astype(int) - expected).max() <= 1
    assert not np.array_equal(out, frames)
    assert np.array_equal(sharpen(run_node, frames, amount=0.0), frames)


def test_model_loads_once_per_process(run_node, kinograph_registry):
    frames = random_frames(2, 16, 16)
    sharpen(run_node, frames, amount=1.0)
    sharpen(run_node, frames, amount=2.0)
    assert kinograph_registry.models.loads == 1


def test_weights_file_replaces_the_gaussian(run_node, tmp_path):
    identity = torch.zeros(3, 1, 5, 5)
    identity[:, 0, 2, 2] = 1.0  # the "blur" changes nothing, so nothing is sharpened
    save_file({"blur.weight": identity}, str(tmp_path / "identity.safetensors"))
    frames = random_frames(2, 16, 24)
    out = sharpen(run_node, frames, amount=3.0, weights=str(tmp_path / "identity.safetensors"))
    assert np.array_equal(out, frames)


def test_bad_weights_file_names_the_param(run_node, tmp_path):
    (tmp_path / "broken.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(NodeFailure, match="weights"):
        sharpen(run_node, random_frames(1, 8, 8), weights=str(tmp_path / "broken.safetensors"))
    with pytest.raises(NodeFailure, match="does not exist"):
        sharpen(run_node, random_frames(1, 8, 8), weights=str(tmp_path / "missing.safetensors"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(kinograph_registry):
    frames = random_frames(4, 32, 32)
    cpu = collect_frames(
        kinograph_registry.run_node("grain.sharpen", {"amount": 1.0}, frames=frames_from_array(frames))["frames"]
    )
    gpu = collect_frames(
        kinograph_registry.run_node(
            "grain.sharpen", {"amount": 1.0}, device="cuda", frames=frames_from_array(frames)
        )["frames"]
    )
    assert np.abs(cpu.astype(int) - gpu.astype(int)).max() <= 1
    assert ("kinograph_grain.sharpen", "", "", "cuda") in kinograph_registry.models
