"""LSTM action generator: image features -> per-step camera motion learned from footage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinograph.api import (
    FEATURES,
    MOTION,
    Input,
    InputPath,
    Motion,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    Slider,
    file_fingerprint,
    resolve_path,
)

DEFAULT_CHECKPOINT = "package://kinograph/plugins/learned/checkpoints/action_lstm_resnet18.safetensors"
#: The untrained generator reads a 3x3 grid when given spatial maps, a vector otherwise.
UNTRAINED_GRID = 3
UNTRAINED_STEP_RATE = 12.0


class LSTMActionGenerator(Node["LSTMActionGenerator.Params"]):
    """Generates a smooth, bounded camera move from image features with a small LSTM."""

    type_id = "kinograph.motion.lstm"
    version = 2
    display_name = "LSTM action generator"
    category = "Learned"
    description = (
        "From image features, an LSTM generates the camera move a clip of this photo would have: "
        "pan, zoom and rotation per step, starting from the photo as it is. Trained on footage "
        "with `kinograph train`; `variation` gives other takes."
    )
    inputs = [Input("features", FEATURES, "Features of the photo (ResNet features; spatial for grid checkpoints).")]
    outputs = [Output("motion", MOTION, "Camera motion with `steps` keyframes (step 0: the photo as it is).")]

    class Params(NodeParams):
        steps: int = Slider(48, ge=2, le=10000, description="Keyframes to generate (at the checkpoint's step rate).")
        variation: int = Slider(
            0, ge=0, le=2**31 - 1, description="0: the most likely move; any other number: another take of it."
        )
        strength: float = Slider(1.0, ge=0.0, le=3.0, step=0.05, description="Scales the move (0 holds still).")
        checkpoint: str = InputPath(
            DEFAULT_CHECKPOINT,
            description="Trained weights (.safetensors or .pt, package:// names too); empty = untrained.",
            filters=["Checkpoints (*.safetensors *.pt *.pth)"],
            must_exist=False,
        )
        hidden_size: int = Slider(64, ge=4, le=1024, description="LSTM width (untrained init only).")
        layers: int = Slider(1, ge=1, le=4, description="LSTM layers (untrained init only).")
        seed: int = Slider(0, ge=0, le=2**31 - 1, description="Seed of the untrained init.")

    @classmethod
    def migrate_params(cls, from_version: int, params: dict[str, Any]) -> dict[str, Any]:
        # Version 1 generated random local flow on a grid; no trained checkpoint ever learned it.
        params = dict(params)
        params.pop("flow_grid", None)
        return params

    @classmethod
    def fingerprint(cls, params: NodeParams) -> str | None:
        checkpoint = params.checkpoint  # type: ignore[attr-defined]
        return f"checkpoint={file_fingerprint(checkpoint)}" if checkpoint else None

    @classmethod
    def check_inputs(cls, params: NodeParams, inputs: dict[str, dict[str, Any]]) -> list[str]:
        features = inputs.get("features")
        checkpoint = params.checkpoint  # type: ignore[attr-defined]
        if not features or not checkpoint:
            return []
        from kinograph.plugins.learned.checkpoints import CheckpointError, read_metadata

        try:
            path = Path(resolve_path(checkpoint, None))
        except Exception as exc:
            return [f"checkpoint {checkpoint!r}: {exc}"]
        if not path.is_absolute():
            return []  # relative to the graph's folder, which is not known here: run() checks it
        try:
            meta = read_metadata(path)
        except CheckpointError as exc:
            return [str(exc)]
        return mismatch(meta, features, path.name)

    def run(self, ctx: RunContext, features: Any) -> dict[str, Any]:
        import torch

        from kinograph.plugins.learned import motion_model as mm

        p = self.params
        tensor = checked_features(features)
        model, meta = self.load(ctx, tensor)
        identity = getattr(features, "kinograph_features", None)
        if p.checkpoint and isinstance(identity, dict):
            for line in identity_mismatch(meta, identity, Path(p.checkpoint).name):
                ctx.warn(line)
        ctx.check_cancelled()
        step_rate = float(meta.get("step_rate", UNTRAINED_STEP_RATE))
        # The generator is tiny: it runs on the CPU, which also keeps its output the same on
        # every device. A batch of photos drives one camera move: the mean of their cells.
        with torch.inference_mode():
            cells = tensor.mean(dim=0, keepdim=True)
            actions = model(cells, p.steps, step_rate, mm.variation_noise(p.variation))
            camera = mm.integrate(actions, step_rate, p.strength)[0].double().numpy()
        ctx.progress(p.steps, p.steps)
        return {
            "motion": Motion(
                pan_x=tuple(camera[:, 0].tolist()),
                pan_y=tuple(camera[:, 1].tolist()),
                zoom=tuple(camera[:, 2].tolist()),
                rotation=tuple(camera[:, 3].tolist()),
                source=f"lstm:{meta.get('extractor') or 'untrained'}",
                meta={
                    "fps": step_rate,
                    "seed": p.seed,
                    "variation": p.variation,
                    "checkpoint": p.checkpoint,
                    "strength": p.strength,
                    "trained": bool(p.checkpoint),
                },
            )
        }

    def load(self, ctx: RunContext, features: Any) -> tuple[Any, dict[str, Any]]:
        """The generator (from the checkpoint, or seeded untrained) and its metadata, loaded once."""
        p = self.params
        size = int(features.shape[1])
        if not p.checkpoint:
            ctx.warn(
                f"LSTM action generator has no checkpoint: untrained weights (seed {p.seed}) give "
                "smooth, bounded motion that is not learned from footage"
            )
            grid = UNTRAINED_GRID if features.ndim == 4 else 0
            key: tuple[Any, ...] = ("kinograph.motion.lstm", "untrained", size, grid, p.hidden_size, p.layers, p.seed)
            return ctx.models.get(key, lambda: (_untrained(size, grid, p.hidden_size, p.layers, p.seed), {}))
        path = Path(p.checkpoint)
        if path.is_dir():
            raise NodeFailure(f"{path} is a folder, not a checkpoint file (fix the checkpoint param)")
        if not path.is_file():
            raise NodeFailure(f"checkpoint file does not exist: {path} (fix the checkpoint param, or '' for untrained)")
        key = ("kinograph.motion.lstm", str(path), file_fingerprint(str(path)))
        model, meta = ctx.models.get(key, lambda: from_checkpoint(path))
        if meta["feature_size"] != size:
            raise NodeFailure(
                f"checkpoint {path.name} expects {meta['feature_size']}-channel features "
                f"(from {meta['extractor']}), but the features input has {size} channels: "
                f"use {meta['extractor']} features or a checkpoint trained on these"
            )
        if meta["grid"] and features.ndim != 4:
            raise NodeFailure(
                f"checkpoint {path.name} reads a {meta['grid']}x{meta['grid']} grid of spatial features, but "
                "the features input is pooled vectors: set the features node's output to spatial"
            )
        if (p.hidden_size, p.layers) != (meta["hidden_size"], meta["layers"]) and (p.hidden_size, p.layers) != (64, 1):
            ctx.warn(
                f"checkpoint {path.name} has hidden_size {meta['hidden_size']} and layers {meta['layers']}; "
                f"those are used (the params say {p.hidden_size} and {p.layers})"
            )
        return model, meta


def mismatch(meta: dict[str, Any], features: dict[str, Any], name: str) -> list[str]:
    """Sentences saying how the upstream's declared features differ from what a checkpoint expects."""
    node = features.get("node", "?")
    size = features.get("feature_size")
    extractor = features.get("extractor")
    wanted_size, wanted = meta["feature_size"], meta["extractor"]
    if size is not None and size != wanted_size:
        return [
            f"checkpoint {name} expects {wanted_size}-channel features from {wanted}, but node "
            f"{node!r} gives {size}-channel features ({extractor}): set {node}.arch to {wanted} "
            "or choose a checkpoint trained on its features"
        ]
    if extractor and wanted not in ("", "any") and extractor != wanted:
        return [
            f"checkpoint {name} was trained on {wanted} features, but node {node!r} uses {extractor}: "
            f"set {node}.arch to {wanted} or choose a checkpoint trained on {extractor}"
        ]
    if meta.get("grid") and features.get("layout") == "pooled":
        return [
            f"checkpoint {name} reads a {meta['grid']}x{meta['grid']} grid of spatial features, but node "
            f"{node!r} gives pooled vectors: set {node}.output to spatial"
        ]
    return []


def identity_mismatch(meta: dict[str, Any], identity: dict[str, Any], name: str) -> list[str]:
    """Warnings when features come from other weights or another input size than the checkpoint's."""
    found = []
    weights, wanted = identity.get("weights"), meta.get("weights")
    if weights and wanted and weights != wanted:
        found.append(
            f"checkpoint {name} was trained on features of {meta.get('extractor')} with {wanted} weights, but "
            f"these come from {weights} weights: the motion will not follow the photo as trained "
            "(set the features node's weights and seed to the checkpoint's, or train on these features)"
        )
    size, wanted_size = identity.get("input_size"), meta.get("input_size")
    if size is not None and wanted_size is not None and int(size) != int(wanted_size):
        found.append(
            f"checkpoint {name} was trained on features at input_size {wanted_size}, but these were "
            f"computed at {size}: set the features node's input_size to {wanted_size}"
        )
    return found


def checked_features(features: Any) -> Any:
    """Features [N, C] or [N, C, h, w] (torch or numpy) as a float32 CPU tensor, checked."""
    import torch

    try:
        tensor = torch.as_tensor(features).detach().float().cpu()
    except Exception as exc:
        raise NodeFailure(f"features input is not a tensor ({type(features).__name__}): {exc}") from None
    if tensor.ndim == 1:
        tensor = tensor[None]
    if tensor.ndim not in (2, 4) or tensor.shape[0] == 0 or tensor.shape[1] < 2:
        raise NodeFailure(f"features must be [N, C] or [N, C, h, w], got {list(tensor.shape)}")
    if not torch.isfinite(tensor).all():
        raise NodeFailure("features contain NaN or infinite values")
    return tensor


def _untrained(feature_size: int, grid: int, hidden_size: int, layers: int, seed: int) -> Any:
    from kinograph.plugins.learned.motion_model import seeded_generator

    return seeded_generator(feature_size, grid, hidden_size, layers, seed).eval()


def from_checkpoint(path: Path) -> tuple[Any, dict[str, Any]]:
    """The generator a checkpoint holds (eval mode, CPU) and its metadata; NodeFailure if unfit."""
    from kinograph.plugins.learned.checkpoints import load_checkpoint
    from kinograph.plugins.learned.motion_model import MotionGenerator

    state, meta = load_checkpoint(path)
    model = MotionGenerator(meta["feature_size"], meta["grid"], meta["hidden_size"], meta["layers"])
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise NodeFailure(f"checkpoint {path} does not fit its metadata: {first}") from None
    return model.eval(), meta
