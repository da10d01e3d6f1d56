"""Motion generator checkpoints: tensors plus metadata saying what the generator expects.

Format: a ``.safetensors`` file whose ``__metadata__`` holds the keys in :data:`REQUIRED`
(strings, as safetensors wants; the keys in :data:`JSON_KEYS` hold JSON), or a ``.pt``/``.pth``
file holding ``{"state_dict": {...}, "metadata": {...}}`` saved with ``torch.save``. Loading
never unpickles code: safetensors, or ``torch.load(weights_only=True)``. Reading the metadata of
a safetensors file parses its JSON header only, so graph validation can compare it with the
upstream features cheaply.

Format version 2 (``kinograph train``) records what the features were (extractor, weights
identity, input size, layout), the motion's clock (steps, step rate), and the data and metrics
of its training. Version 1 files (the synthetic fitting of kinograph 0.1) are refused with a
message saying how to replace them.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from kinograph.api import NodeFailure

FORMAT = "kinograph.motion.lstm"
FORMAT_VERSION = 2
REQUIRED = (
    "format",
    "format_version",
    "feature_size",
    "extractor",
    "weights",
    "layout",
    "grid",
    "steps",
    "step_rate",
    "hidden_size",
    "layers",
)
_INT_KEYS = ("format_version", "feature_size", "grid", "steps", "hidden_size", "layers", "input_size", "epoch")
_FLOAT_KEYS = ("step_rate",)
#: Metadata whose value is JSON (safetensors metadata values are strings).
JSON_KEYS = ("data", "metrics", "mean_motion", "training", "limits")
MAX_HEADER = 16 * 1024 * 1024


class CheckpointError(ValueError):
    """A file that is not a readable action generator checkpoint (the message names it)."""


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The checkpoint's metadata with numbers as ints; cheap for safetensors (header only)."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint file does not exist: {path}")
    if path.suffix == ".safetensors":
        raw = _safetensors_header(path).get("__metadata__") or {}
    else:
        raw = _load_torch_file(path)[1]
    return _checked_metadata(raw, path)


def _safetensors_header(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            prefix = f.read(8)
            if len(prefix) != 8:
                raise CheckpointError(f"{path} is too short to be a .safetensors file")
            (size,) = struct.unpack("<Q", prefix)
            if size > MAX_HEADER:
                raise CheckpointError(f"{path} is not a .safetensors file (header size {size})")
            header = json.loads(f.read(size))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"{path} is not a readable .safetensors file ({exc})") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a .safetensors file (header is not an object)")
    return header


def _load_torch_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from kinograph.plugins.learned.weights import load_failure_reason, load_tensor_file

    try:
        data = load_tensor_file(path)
    except Exception as exc:
        raise CheckpointError(
            f"cannot read checkpoint {path}: {load_failure_reason(exc)} (only tensors and plain values load; "
            "pickled objects are refused)"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("state_dict"), dict):
        raise CheckpointError(f"{path} is not an action generator checkpoint (no state_dict)")
    return data["state_dict"], data.get("metadata") or {}


def _checked_metadata(raw: Any, path: Path) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not an action generator checkpoint (metadata format should be {FORMAT!r})"
        )
    try:
        version = int(raw.get("format_version", 0))
    except (TypeError, ValueError):
        raise CheckpointError(f"checkpoint {path} has bad metadata: format_version {raw.get('format_version')!r}") from None
    if version < FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} is format version {version}, fitted to synthetic camera paths by an "
            "earlier kinograph; this one generates motion learned from footage and cannot run it: "
            "train a new one with `kinograph train` (docs/nodes-learned.md) or use the default "
            "checkpoint"
        )
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version}, newer than this kinograph reads "
            f"({FORMAT_VERSION}): upgrade kinograph"
        )
    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks metadata {', '.join(missing)}")
    meta = dict(raw)
    try:
        for key in _INT_KEYS:
            if key in meta:
                meta[key] = int(meta[key])
        for key in _FLOAT_KEYS:
            meta[key] = float(meta[key])
        for key in JSON_KEYS:
            if isinstance(meta.get(key), str):
                meta[key] = json.loads(meta[key])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} has bad metadata: {exc}") from exc
    return meta


def load_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state dict of CPU tensors, metadata); :class:`NodeFailure` when the file is not one."""
    path = Path(path)
    try:
        meta = read_metadata(path)
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            try:
                state = load_file(str(path), device="cpu")
            except Exception as exc:
                raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
        else:
            state = _load_torch_file(path)[0]
    except CheckpointError as exc:
        raise NodeFailure(f"{exc} (set the checkpoint param to a file made by `kinograph train`, or '' for untrained)") from None
    return state, meta


def save_checkpoint(path: str | Path, state: dict[str, Any], metadata: dict[str, Any]) -> Path:
    """Write tensors and metadata atomically (``.safetensors``, or ``.pt`` via ``torch.save``).

    A reader never sees a half-written file: the data goes to a temporary file beside ``path``
    that replaces it only when complete. Returns the path.
    """
    from kinograph.api import atomic_output

    path = Path(path)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **metadata}
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ValueError(f"checkpoint metadata lacks {', '.join(missing)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    with atomic_output(path) as temp:
        if path.suffix == ".safetensors":
            from safetensors.torch import save_file

            text = {k: json.dumps(v) if k in JSON_KEYS else str(v) for k, v in meta.items()}
            save_file(tensors, str(temp), metadata=text)
        else:
            import torch

            torch.save({"state_dict": tensors, "metadata": meta}, str(temp))
    return path
