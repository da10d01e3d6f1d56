"""ResNet features: a photo (or a batch) -> pooled feature vectors or spatial feature maps."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from kinograph.api import (
    FEATURES,
    IMAGE,
    IMAGES,
    Input,
    InputPath,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    Slider,
    file_fingerprint,
)
from kinograph.plugins.learned.weights import FEATURE_SIZES

WEIGHT_KEYWORDS = ("auto", "imagenet", "none")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def weights_keyword(value: str) -> str | None:
    """``auto``/``imagenet``/``none`` when the weights param names one, else None (a file path).

    Keywords arrive resolved like paths (``/graph/folder/auto``), so the last name decides.
    """
    name = Path(value).name if value else "auto"
    return name if name in WEIGHT_KEYWORDS and not Path(value).suffix else None


class ResNetFeatures(Node["ResNetFeatures.Params"]):
    """Runs a torchvision ResNet on images and returns its features as a CPU float32 tensor."""

    type_id = "kinograph.features.resnet"
    display_name = "ResNet features"
    category = "Learned"
    description = (
        "Image features from a ResNet (ImageNet, local or seeded random weights): one pooled "
        "vector per image [N, C], or spatial maps [N, C, h, w]."
    )
    inputs = [
        Input("image", IMAGE, "The photo to describe.", optional=True),
        Input("images", IMAGES, "A batch of photos (after `image` when both are linked).", optional=True),
    ]
    outputs = [Output("features", FEATURES, "float32 CPU tensor [N, C] (pooled) or [N, C, h, w] (spatial).")]

    class Params(NodeParams):
        arch: Literal["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"] = "resnet18"
        weights: str = InputPath(
            "auto",
            description=(
                "auto (ImageNet when available, else seeded random with a warning), imagenet, "
                "none (seeded random), or a local .pth/.pt/.safetensors state dict."
            ),
            filters=["Weights (*.pth *.pt *.safetensors)"],
            must_exist=False,
        )
        output: Literal["pooled", "spatial"] = "pooled"
        batch_size: int = Slider(16, ge=1, le=256, description="Images per forward pass.")
        seed: int = Slider(0, ge=0, le=2**31 - 1, description="Seed of the random init (weights none/auto).")
        input_size: int = Slider(
            224, ge=0, le=2048, step=16, description="Shorter side is resized to this (aspect kept); 0 keeps the size."
        )

    @classmethod
    def output_info(cls, params: NodeParams, port: str) -> dict[str, Any]:
        return {
            "extractor": params.arch,  # type: ignore[attr-defined]
            "feature_size": FEATURE_SIZES[params.arch],  # type: ignore[attr-defined]
            "layout": params.output,  # type: ignore[attr-defined]
        }

    @classmethod
    def check_inputs(cls, params: NodeParams, inputs: dict[str, dict[str, Any]]) -> list[str]:
        if "image" not in inputs and "images" not in inputs:
            return ["has nothing to describe: link its image or images input"]
        return []

    @classmethod
    def fingerprint(cls, params: NodeParams) -> str | None:
        weights = params.weights  # type: ignore[attr-defined]
        keyword = weights_keyword(weights)
        if keyword is None:
            return f"weights={file_fingerprint(weights)}"
        if keyword in ("auto", "imagenet"):
            # The features change when ImageNet weights appear in the hub cache.
            from kinograph.plugins.learned.weights import hub_cache_file

            return f"hub={file_fingerprint(str(hub_cache_file(params.arch)))}"  # type: ignore[attr-defined]
        return None

    def run(self, ctx: RunContext, image: Any = None, images: Any = None) -> dict[str, Any]:
        import torch

        groups = [_checked(image, "image", 3), _checked(images, "images", 4)]
        groups = [g for g in groups if g is not None]
        if not groups:
            raise NodeFailure("no image to describe: link the image or images input")
        p = self.params
        model, warning, identity = load_model(ctx, p.arch, p.weights, p.seed)
        if warning:
            ctx.warn(warning)
        total = sum(len(g) for g in groups)
        results = []
        done = 0
        for group in groups:
            for start in range(0, len(group), p.batch_size):
                ctx.check_cancelled()
                batch = group[start : start + p.batch_size]
                results.append(extract(model, batch, ctx.device, p.input_size, p.output == "pooled"))
                done += len(batch)
                ctx.progress(done, total)
        shapes = {tuple(r.shape[1:]) for r in results}
        if len(shapes) > 1:
            raise NodeFailure(
                f"spatial maps of different sizes {sorted(shapes)}: image and images differ in aspect; "
                "use output pooled or link one input"
            )
        features = torch.cat(results).contiguous()
        # What made these features travels with them, so a motion generator can warn when its
        # checkpoint was trained on features of another identity (ImageNet vs a random init).
        features.kinograph_features = {
            "extractor": p.arch,
            "weights": identity,
            "input_size": p.input_size,
            "layout": p.output,
        }
        return {"features": features}


def _checked(value: Any, name: str, ndim: int) -> Any:
    """The input as a uint8 array with ``ndim`` dims ([N, H, W, 3] after this), or None."""
    if value is None:
        return None
    import numpy as np

    array = np.asarray(value)
    if array.dtype != np.uint8 or array.ndim != ndim or array.shape[-1] != 3:
        expected = "[H, W, 3]" if ndim == 3 else "[N, H, W, 3]"
        raise NodeFailure(f"input {name} must be uint8 RGB {expected}, got {array.dtype} {list(array.shape)}")
    return array[None] if ndim == 3 else array


def resolve_weights(arch: str, weights: str) -> str | None:
    """The weights keyword this param means now (``auto`` -> ``imagenet`` when the hub file is
    cached, else ``auto``), or None for a file path."""
    from kinograph.plugins.learned import weights as w

    keyword = weights_keyword(weights)
    if keyword == "auto" and w.hub_cache_file(arch).is_file():
        return "imagenet"
    return keyword


def weights_identity(arch: str, keyword: str | None, weights: str, seed: int, fell_back: bool = False) -> str:
    """Which weights made a model, in words a checkpoint records and compares.

    ``imagenet <enum member>``, ``random-init seed N`` or ``file sha256:<first 16 hex digits>``
    (the file's content, so a renamed copy is the same identity).
    """
    from kinograph.plugins.learned.content import file_sha256
    from kinograph.plugins.learned.weights import IMAGENET_WEIGHTS

    if keyword is None:
        return f"file sha256:{file_sha256(weights)[:16]}"
    if keyword == "imagenet" or (keyword == "auto" and not fell_back):
        return f"imagenet {IMAGENET_WEIGHTS[arch][1]}"
    return f"random-init seed {seed}"


def load_model(ctx: RunContext, arch: str, weights: str, seed: int) -> tuple[Any, str | None, str]:
    """The ResNet body for these params, loaded once per process, a warning to repeat per run,
    and the weights identity (:func:`weights_identity`)."""
    from kinograph.plugins.learned import weights as w

    keyword = resolve_weights(arch, weights)
    cached = str(w.hub_cache_file(arch))
    if keyword is None:
        key: tuple[Any, ...] = ("file", weights, file_fingerprint(weights))
    elif keyword == "imagenet":
        key = ("imagenet", cached, file_fingerprint(cached))
    else:
        key = (keyword, seed)
    store_key = ("kinograph.features.resnet", arch, ctx.device, *key)
    return ctx.models.get(store_key, lambda: build_model(arch, weights, seed, ctx.device))


def build_model(arch: str, weights: str, seed: int, device: str) -> tuple[Any, str | None, str]:
    """A fresh ResNet body in eval mode on ``device``, a warning (or None) and its weights identity.

    The training command builds its extractor here too, so a checkpoint is trained on exactly
    the features the node computes.
    """
    keyword = resolve_weights(arch, weights)
    body, warning = _build(arch, keyword, weights, seed, device)
    return body, warning, weights_identity(arch, keyword, weights, seed, fell_back=warning is not None)


def _build(arch: str, keyword: str | None, weights: str, seed: int, device: str) -> tuple[Any, str | None]:
    import torch
    import torchvision.models as models

    from kinograph.plugins.learned import weights as w

    # Seeded init without disturbing the caller's random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = getattr(models, arch)(weights=None)
    warning = None
    if keyword is None:
        w.apply_state(model, w.load_state_file(weights), arch, f"file {weights}")
    elif keyword in ("imagenet", "auto"):
        try:
            w.apply_state(model, w.load_imagenet_state(arch), arch, "from the torch hub cache")
        except w.WeightsUnavailable as exc:
            if keyword == "imagenet":
                raise NodeFailure(str(exc)) from None
            warning = (
                f"ResNet weights unavailable, random init (seed {seed}): features carry no ImageNet "
                f"meaning. {exc}"
            )
    model = ResNetBody.wrap(model).eval().to(device)
    if device.startswith("cuda"):
        model = model.to(memory_format=torch.channels_last)
    return model, warning


class ResNetBody:
    """Builds the torch module that stops before the classifier (imports torch lazily)."""

    @staticmethod
    def wrap(model: Any) -> Any:
        import torch

        class Body(torch.nn.Module):
            def __init__(self, net: Any) -> None:
                super().__init__()
                self.net = net

            def forward(self, x: torch.Tensor, pooled: bool = True) -> torch.Tensor:
                x = self.net.layer4(self.until_layer3(x))
                return torch.flatten(self.net.avgpool(x), 1) if pooled else x

            def until_layer3(self, x: torch.Tensor) -> torch.Tensor:
                """The maps entering the last block (what ``last-block`` fine-tuning caches)."""
                n = self.net
                x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
                return n.layer3(n.layer2(n.layer1(x)))

        return Body(model)


def prepare(batch: Any, device: str, input_size: int) -> Any:
    """uint8 [N, H, W, 3] -> ImageNet-normalised float [N, 3, h, w] on ``device``."""
    import torch
    from torch.nn import functional

    if not batch.flags.writeable:
        batch = batch.copy()  # cached inputs are read-only; torch wants writable memory
    x = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float().div_(255.0)
    if input_size:
        height, width = x.shape[-2:]
        scale = input_size / min(height, width)
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        if size != (height, width):
            x = functional.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def extract(model: Any, batch: Any, device: str, input_size: int, pooled: bool) -> Any:
    """Features of one batch as float32 on the CPU (autocast and channels_last on CUDA)."""
    import contextlib

    import torch

    x = prepare(batch, device, input_size)
    autocast: Any = contextlib.nullcontext()
    if device.startswith("cuda"):
        x = x.contiguous(memory_format=torch.channels_last)
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        autocast = torch.autocast("cuda", dtype=dtype)
    with torch.inference_mode(), autocast:
        features = model(x, pooled=pooled)
    return features.float().cpu().contiguous()
