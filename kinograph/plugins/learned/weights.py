"""Where ResNet weights come from: ImageNet (torch hub cache or download), a local file, or a seed.

Nothing here unpickles arbitrary objects: ``.pth``/``.pt`` files load with
``torch.load(weights_only=True)`` and ``.safetensors`` with safetensors.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from kinograph.api import NodeFailure

ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
FEATURE_SIZES = {"resnet18": 512, "resnet34": 512, "resnet50": 2048, "resnet101": 2048, "resnet152": 2048}

#: The torchvision weights enum member used for ``imagenet`` (the best one torchvision offers).
IMAGENET_WEIGHTS = {
    "resnet18": ("ResNet18_Weights", "IMAGENET1K_V1"),
    "resnet34": ("ResNet34_Weights", "IMAGENET1K_V1"),
    "resnet50": ("ResNet50_Weights", "IMAGENET1K_V2"),
    "resnet101": ("ResNet101_Weights", "IMAGENET1K_V2"),
    "resnet152": ("ResNet152_Weights", "IMAGENET1K_V2"),
}

#: Set to 1 to never download (tests, air-gapped machines); the hub cache is still used.
OFFLINE_ENV = "KINOGRAPH_OFFLINE"
DOWNLOAD_TIMEOUT_S = 30
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")


class WeightsUnavailable(Exception):
    """ImageNet weights are neither in the cache nor downloadable; the message says how to fix it."""


def imagenet_weights(arch: str) -> Any:
    """The torchvision weights enum member for ``arch`` (e.g. ``ResNet50_Weights.IMAGENET1K_V2``)."""
    import torchvision.models as models

    enum_name, member = IMAGENET_WEIGHTS[arch]
    return getattr(getattr(models, enum_name), member)


def hub_cache_file(arch: str) -> Path:
    """Where torch hub keeps the ImageNet file for ``arch`` (honours ``TORCH_HOME``)."""
    import torch

    url = imagenet_weights(arch).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def load_imagenet_state(arch: str) -> dict[str, Any]:
    """ImageNet weights from the torch hub cache, downloading them there when online.

    Raises :class:`WeightsUnavailable` with instructions when neither works.
    """
    cached = hub_cache_file(arch)
    if not cached.is_file():
        _download(imagenet_weights(arch).url, cached, arch)
    return load_state_file(cached)


def _download(url: str, target: Path, arch: str) -> None:
    how = (
        f"download {url} and put it at {target} (the torch hub cache; set TORCH_HOME to move it), "
        f"or set the node's weights param to a local .pth or .safetensors file of {arch}"
    )
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        raise WeightsUnavailable(f"ImageNet weights for {arch} are not cached and {OFFLINE_ENV} is set: {how}")
    import urllib.request

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    digest = hashlib.sha256()
    try:
        # Our own download (not torch.hub's) so an unreachable server fails after a timeout
        # instead of hanging the run.
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            while block := response.read(1 << 20):
                digest.update(block)
                out.write(block)
        match = _HASH_IN_NAME.search(target.name)
        if match and not digest.hexdigest().startswith(match.group(1)):
            raise WeightsUnavailable(f"the download of {url} is corrupt (hash mismatch): {how}")
        os.replace(temp_name, target)
    except WeightsUnavailable:
        raise
    except Exception as exc:
        raise WeightsUnavailable(f"ImageNet weights for {arch} are not cached and could not be downloaded ({exc}): {how}") from exc
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


def load_state_file(path: str | Path) -> dict[str, Any]:
    """A state dict from ``.safetensors`` or ``.pth``/``.pt`` (``weights_only``), never unpickling code."""
    path = Path(path)
    if path.is_dir():
        raise NodeFailure(f"{path} is a folder, not a weights file (fix the weights param)")
    if not path.is_file():
        raise NodeFailure(f"weights file does not exist: {path} (fix the weights param)")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path), device="cpu")
        else:
            state = load_tensor_file(path)
    except Exception as exc:
        raise NodeFailure(
            f"cannot read weights file {path}: {load_failure_reason(exc)}. It must be a state dict saved with "
            "torch.save (plain tensors only; pickled objects are refused) or a .safetensors file"
        ) from exc
    return unwrap_state_dict(state, path)


class TorchScriptRefused(ValueError):
    """A TorchScript archive (a saved program) where tensors were expected."""


def load_tensor_file(path: str | Path) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, refusing TorchScript archives first.

    torch.load would hand such an archive to ``torch.jit.load`` with a raw UserWarning on the
    user's terminal (during ``validate`` too) before refusing it under ``weights_only``.
    """
    import zipfile

    import torch

    try:
        with zipfile.ZipFile(path) as archive:
            # torch's own test for a TorchScript archive: a constants.pkl record at its top.
            scripted = any(name.count("/") <= 1 and name.rsplit("/", 1)[-1] == "constants.pkl" for name in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        scripted = False  # the legacy (non-zip) format, or something torch.load will name
    if scripted:
        raise TorchScriptRefused("it is a TorchScript archive (a saved program), which is refused for safety")
    return torch.load(str(path), map_location="cpu", weights_only=True)


def load_failure_reason(exc: BaseException) -> str:
    """Why ``torch.load(weights_only=True)`` (or safetensors) refused a file, in a few words.

    PyTorch's own message is a paragraph that suggests ``weights_only=False``, i.e. running
    whatever code the file holds: never what a user of a node graph should be told to do.
    """
    import re

    if isinstance(exc, TorchScriptRefused):
        return str(exc)
    text = str(exc).strip()
    found = re.search(r"GLOBAL (\S+)", text)
    if found:
        return f"it holds pickled Python objects ({found.group(1)}), which are refused for safety"
    if type(exc).__module__.startswith("safetensors") or "safetensor" in type(exc).__name__.lower():
        return text.splitlines()[0] if text else type(exc).__name__  # its messages are short and clear
    # Whatever torch.load met ("pop from empty list", "invalid load key"...), for a user it is this:
    return "not a PyTorch tensor file (the data is not a saved state dict)"


def unwrap_state_dict(state: Any, path: Path) -> dict[str, Any]:
    """Accept ``{"state_dict": ...}``/``{"model": ...}`` wrappers and ``module.`` prefixes."""
    import torch

    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise NodeFailure(f"weights file {path} does not hold a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def apply_state(model: Any, state: dict[str, Any], arch: str, source: str) -> None:
    """Load a backbone state into ``model``; the classifier (``fc``) may differ or be missing."""
    backbone = {k: v for k, v in state.items() if not k.startswith("fc.")}
    expected = {k: v for k, v in model.state_dict().items() if not k.startswith("fc.")}
    missing = sorted(set(expected) - set(backbone))
    unexpected = sorted(set(backbone) - set(expected))
    wrong = sorted(k for k in set(expected) & set(backbone) if tuple(expected[k].shape) != tuple(backbone[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            parts.append(f"{len(wrong)} with other shapes (e.g. {wrong[0]})")
        raise NodeFailure(
            f"weights {source} do not fit {arch}: tensors {', '.join(parts)}. "
            f"Is it a {arch} checkpoint? Set the arch param to the file's architecture"
        )
    model.load_state_dict(backbone, strict=False)
