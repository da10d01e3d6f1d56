"""``kinograph evaluate motion``: a checkpoint's generated motion against footage it never saw.

Clips are cut and measured exactly as for training (same cache); each clip's first frame goes
through the features the checkpoint was trained on (its metadata says which), the generator
makes a move, and :func:`kinograph.plugins.learned.evaluation.compare` sets it beside the
baselines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kinograph.api import KinographError, NodeFailure, cache_dir


def features_setting(meta: dict[str, Any], checkpoint: Path, given: str | None) -> tuple[str, int]:
    """The features node's ``weights`` and ``seed`` that reproduce the checkpoint's features."""
    identity = str(meta.get("weights", ""))
    seeded = re.fullmatch(r"random-init seed (\d+)", identity)
    if seeded:
        return "none", int(seeded.group(1))
    if identity.startswith("imagenet"):
        return "imagenet", 0
    if identity.startswith("file sha256:"):
        from kinograph.plugins.learned.content import file_sha256

        path = Path(given) if given else checkpoint.with_name(str(meta.get("features_weights", "")))
        if not path.is_file():
            raise KinographError(
                f"{checkpoint.name} was trained on features of a weights file ({identity}); give it with "
                "--features-weights FILE"
            )
        if f"file sha256:{file_sha256(path)[:16]}" != identity:
            raise KinographError(f"{path} is not the features weights {checkpoint.name} was trained with ({identity})")
        return str(path), 0
    raise KinographError(f"{checkpoint.name} does not say which features it was trained on (weights {identity!r})")


def evaluate_motion(
    inputs: Sequence[str | Path],
    checkpoint: str | Path,
    *,
    stride: float = 2.0,
    fps: float | None = None,
    device: str = "auto",
    features_weights: str | None = None,
    cache: bool = True,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Errors and spreads of ``checkpoint``'s motion on the clips of ``inputs`` (see ``compare``)."""
    import torch
    from torch.nn import functional

    from kinograph.plugins.learned import clips as clip_data
    from kinograph.plugins.learned.action_generator import from_checkpoint
    from kinograph.plugins.learned.evaluation import compare
    from kinograph.plugins.learned.footage import find_sources
    from kinograph.plugins.learned.motion_model import integrate, seeded_generator, variation_noise
    from kinograph.plugins.learned.tensor_cache import TensorCache
    from kinograph.plugins.learned.training import resolve_device

    tell = say or (lambda line: None)
    path = Path(checkpoint).expanduser()
    try:
        model, meta = from_checkpoint(path)
    except NodeFailure as exc:
        raise KinographError(str(exc)) from None
    device = resolve_device(device)
    weights, seed = features_setting(meta, path, features_weights)
    extractor = clip_data.Extractor.build(meta["extractor"], weights, seed, int(meta.get("input_size", 224)), device)
    if extractor.identity != meta["weights"]:
        raise KinographError(
            f"the features here come from {extractor.identity}, but {path.name} was trained on {meta['weights']}: "
            "put those weights where the features node finds them"
        )
    sources = find_sources(list(inputs), fps)
    store = TensorCache(cache_dir() / "training" if cache else None, warn=lambda m: tell(f"warning: {m}"))
    steps, rate = int(meta["steps"]), float(meta["step_rate"])
    data = clip_data.prepare_clips(
        sources, extractor, steps=steps, step_rate=rate, stride=stride, augment=(), cache=store,
        warn=lambda m: tell(f"warning: {m}"),
    )
    trained_on = set((meta.get("data") or {}).get("train_sources", []))
    reused = [s["name"] for s in data.sources if s["sha256"] in trained_on]
    if reused:
        tell(
            f"warning: {len(reused)} of these videos were used to train {path.name} ({', '.join(reused[:3])}"
            f"{', ...' if len(reused) > 3 else ''}): their errors flatter it"
        )
    grid = int(meta["grid"])
    inputs_ = []
    for maps in data.maps:
        x = torch.from_numpy(maps[:1]).float()
        inputs_.append(functional.adaptive_avg_pool2d(x, grid)[0] if grid else x.mean(dim=(2, 3))[0])
    features = torch.stack(inputs_)

    def generate(generator: Any, variation: int) -> torch.Tensor:
        generator.eval()
        with torch.no_grad():
            noise = variation_noise(variation)
            noise = None if noise is None else noise.expand(features.shape[0], -1)
            return integrate(generator(features, steps, rate, noise), rate)

    untrained = seeded_generator(int(meta["feature_size"]), grid, 64, 1, 0)
    mean_motion = torch.tensor(meta.get("mean_motion") or [[0.0, 0.0, 1.0, 0.0]] * steps, dtype=torch.float32)
    result = compare(
        lambda variation: generate(model, variation),
        generate(untrained, 0),
        mean_motion,
        torch.from_numpy(data.targets),
        torch.from_numpy(data.aspect),
    )
    result["checkpoint"] = str(path)
    result["sources"] = [{k: s[k] for k in ("name", "sha256", "clips")} for s in data.sources]
    result["used_in_training"] = reused
    result["steps"], result["step_rate"] = steps, rate
    return result
