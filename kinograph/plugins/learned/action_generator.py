"""LSTM action generator: image features -> per-step camera motion (and optional local flow)."""

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


class LSTMActionGenerator(Node):
    """Generates a bounded, smooth camera path from image features with a small LSTM."""

    type_id = "kinograph.motion.lstm"
    display_name = "LSTM action generator"
    category = "Learned"
    description = (
        "From image features, an LSTM generates per-step camera motion: pan, zoom and rotation "
        "bounded so a crop-zoomed frame stays filled, plus an optional coarse flow grid."
    )
    inputs = [Input("features", FEATURES, "Features of the photo (e.g. from ResNet features).")]
    outputs = [Output("motion", MOTION, "Camera motion with `steps` keyframes.")]

    class Params(NodeParams):
        steps: int = Slider(48, ge=2, le=10000, description="Keyframes to generate.")
        hidden_size: int = Slider(32, ge=4, le=1024, description="LSTM width (untrained init only).")
        layers: int = Slider(1, ge=1, le=4, description="LSTM layers (untrained init only).")
        seed: int = Slider(0, ge=0, le=2**31 - 1, description="Seed of the untrained init.")
        checkpoint: str = InputPath(
            DEFAULT_CHECKPOINT,
            description="Trained weights (.safetensors or .pt, package:// names too); empty = untrained.",
            filters=["Checkpoints (*.safetensors *.pt *.pth)"],
            must_exist=False,
        )
        strength: float = Slider(1.0, ge=0.0, le=3.0, step=0.05, description="Scales zoom, rotation and flow ranges.")
        flow_grid: int = Slider(0, ge=0, le=64, description="Size of the local flow grid; 0 = no flow.")

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

        from kinograph.plugins.learned import action_model as am

        p = self.params
        vector = pooled_vector(features)
        model, meta = self.load(ctx, vector.shape[0])
        ctx.check_cancelled()
        # The generator is tiny: it runs on the CPU, which also keeps its output the same on
        # every device.
        with torch.inference_mode():
            start, actions = model(vector[None], p.steps)
            camera, flow = am.integrate(start, actions, p.strength)
            grid = am.resize_flow(flow, p.flow_grid)[0].numpy().astype("float32") if p.flow_grid else None
        columns = camera[0].double().numpy()
        ctx.progress(p.steps, p.steps)
        return {
            "motion": Motion(
                pan_x=tuple(columns[:, 0].tolist()),
                pan_y=tuple(columns[:, 1].tolist()),
                zoom=tuple(columns[:, 2].tolist()),
                rotation=tuple(columns[:, 3].tolist()),
                flow=grid,
                source=f"lstm:{meta.get('extractor') or 'untrained'}",
                meta={"seed": p.seed, "checkpoint": p.checkpoint, "strength": p.strength, "trained": bool(p.checkpoint)},
            )
        }

    def load(self, ctx: RunContext, feature_size: int) -> tuple[Any, dict[str, Any]]:
        """The generator (from the checkpoint, or seeded untrained) and its metadata, loaded once."""
        p = self.params
        if not p.checkpoint:
            ctx.warn(
                f"LSTM action generator has no checkpoint: untrained weights (seed {p.seed}) give "
                "smooth, bounded motion that is not learned from photos"
            )
            key = ("kinograph.motion.lstm", "untrained", feature_size, p.hidden_size, p.layers, p.seed)
            return ctx.models.get(key, lambda: (_untrained(feature_size, p.hidden_size, p.layers, p.seed), {}))
        path = Path(p.checkpoint)
        if path.is_dir():
            raise NodeFailure(f"{path} is a folder, not a checkpoint file (fix the checkpoint param)")
        if not path.is_file():
            raise NodeFailure(f"checkpoint file does not exist: {path} (fix the checkpoint param, or '' for untrained)")
        key = ("kinograph.motion.lstm", str(path), file_fingerprint(str(path)))
        model, meta = ctx.models.get(key, lambda: _from_checkpoint(path))
        if meta["feature_size"] != feature_size:
            raise NodeFailure(
                f"checkpoint {path.name} expects {meta['feature_size']}-channel features "
                f"(from {meta['extractor']}), but the features input has {feature_size} channels: "
                f"use {meta['extractor']} features or a checkpoint trained on these"
            )
        if (p.hidden_size, p.layers) != (meta["hidden_size"], meta["layers"]):
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
    return []


def pooled_vector(features: Any) -> Any:
    """Features [N, C] or [N, C, h, w] (torch or numpy) -> one float32 CPU vector [C]."""
    import torch

    try:
        tensor = torch.as_tensor(features).detach().float().cpu()
    except Exception as exc:
        raise NodeFailure(f"features input is not a tensor ({type(features).__name__}): {exc}") from None
    if tensor.ndim == 4:
        tensor = tensor.mean(dim=(2, 3))
    if tensor.ndim == 1:
        tensor = tensor[None]
    if tensor.ndim != 2 or tensor.shape[0] == 0 or tensor.shape[1] < 2:
        raise NodeFailure(f"features must be [N, C] or [N, C, h, w], got {list(tensor.shape)}")
    if not torch.isfinite(tensor).all():
        raise NodeFailure("features contain NaN or infinite values")
    # Several images (a batch) drive one camera path: their mean.
    return tensor.mean(dim=0)


def _untrained(feature_size: int, hidden_size: int, layers: int, seed: int) -> Any:
    from kinograph.plugins.learned.action_model import seeded_generator

    return seeded_generator(feature_size, hidden_size, layers, seed).eval()


def _from_checkpoint(path: Path) -> tuple[Any, dict[str, Any]]:
    from kinograph.plugins.learned.action_model import ActionGenerator
    from kinograph.plugins.learned.checkpoints import load_checkpoint

    state, meta = load_checkpoint(path)
    model = ActionGenerator(meta["feature_size"], meta["hidden_size"], meta["layers"])
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise NodeFailure(f"checkpoint {path} does not fit its metadata: {first}") from None
    return model.eval(), meta
