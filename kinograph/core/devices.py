"""Choosing the compute device: ``auto`` picks CUDA, then MPS, then the CPU."""

from __future__ import annotations

import functools
import re

from kinograph.core.errors import KinographError

DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device_spec(spec: str) -> None:
    if not DEVICE_RE.match(spec):
        raise KinographError(f"unknown device {spec!r}: use auto, cpu, cuda, cuda:N or mps")


@functools.cache
def _torch_devices() -> tuple[int, bool]:
    try:
        import torch
    except ImportError:
        return 0, False
    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return cuda, mps


def resolve_device(spec: str) -> str:
    """Turn a device spec into a concrete device, or raise with what is available."""
    check_device_spec(spec)
    if spec == "cpu":
        return "cpu"
    cuda, mps = _torch_devices()
    if spec == "auto":
        return "cuda" if cuda else ("mps" if mps else "cpu")
    if spec == "mps":
        if not mps:
            raise KinographError("device mps is not available here: use --device cpu or auto")
        return "mps"
    index = int(spec.split(":")[1]) if ":" in spec else 0
    if index >= cuda:
        raise KinographError(
            f"device {spec} is not available (found {cuda} CUDA device(s)): use --device cpu or auto"
        )
    return spec


def available_devices() -> list[str]:
    """Devices a user can pick (the editor's selector)."""
    cuda, mps = _torch_devices()
    return ["auto", "cpu"] + [f"cuda:{i}" for i in range(cuda)] + (["mps"] if mps else [])
