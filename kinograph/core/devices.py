"""Choosing the compute device: ``auto`` picks CUDA, then MPS, then the CPU.

``auto`` first looks for a GPU without importing torch (the NVIDIA driver's files; Apple
silicon), because importing torch costs about 0.9 GB of memory and a second of start-up, and
most graphs (a camera move, interpolating a video with OpenCV) never need it. Only when a GPU
may be there is torch asked, and when torch then finds none usable the run falls back to the
CPU with a warning.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import sys
from dataclasses import dataclass

from kinograph.core.errors import KinographError

DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
#: Files the NVIDIA kernel driver provides on Linux (also inside GPU containers).
NVIDIA_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl")


def check_device_spec(spec: str) -> None:
    if not DEVICE_RE.match(spec):
        raise KinographError(f"unknown device {spec!r}: use auto, cpu, cuda, cuda:N or mps")


def gpu_may_exist() -> bool:
    """Whether this machine may have a GPU torch can use, found without importing torch."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return _apple_silicon()
    if sys.platform.startswith("linux"):
        return any(os.path.exists(path) for path in NVIDIA_DRIVER_FILES) or _apple_silicon()
    if sys.platform == "win32":
        import ctypes.util

        return ctypes.util.find_library("nvcuda") is not None
    return _apple_silicon()


def _apple_silicon() -> bool:
    return sys.platform == "darwin" and platform.machine() == "arm64"


@functools.cache
def _torch_devices() -> tuple[int, bool]:
    try:
        import torch
    except ImportError:
        return 0, False
    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return cuda, mps


@dataclass(frozen=True)
class DeviceChoice:
    """The device a spec resolved to, and why it is not the one asked for (or "")."""

    device: str
    note: str = ""


def choose_device(spec: str) -> DeviceChoice:
    """Resolve a device spec; ``auto`` falls back to the CPU with a note, others raise."""
    check_device_spec(spec)
    if spec == "cpu" or (spec == "auto" and not gpu_may_exist()):
        return DeviceChoice("cpu")
    cuda, mps = _torch_devices()
    if spec == "auto":
        if cuda or mps:
            return DeviceChoice("cuda" if cuda else "mps")
        return DeviceChoice(
            "cpu",
            "a GPU driver is present but torch cannot use it (a CPU-only torch build, or a driver "
            "too old for it): running on the CPU",
        )
    if spec == "mps":
        if not mps:
            raise KinographError("device mps is not available here: use --device cpu or auto")
        return DeviceChoice("mps")
    index = int(spec.split(":")[1]) if ":" in spec else 0
    if index >= cuda:
        raise KinographError(
            f"device {spec} is not available (found {cuda} CUDA device(s)): use --device cpu or auto"
        )
    return DeviceChoice(spec)


def resolve_device(spec: str) -> str:
    """Turn a device spec into a concrete device, or raise with what is available."""
    return choose_device(spec).device


def available_devices() -> list[str]:
    """Devices a user can pick (the editor's selector)."""
    cuda, mps = _torch_devices() if gpu_may_exist() else (0, False)
    return ["auto", "cpu"] + [f"cuda:{i}" for i in range(cuda)] + (["mps"] if mps else [])
