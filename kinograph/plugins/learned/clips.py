"""Training clips: each clip's target (its measured move) and the features of its first frame,
computed once and cached on disk, for training and evaluation alike.

Features come from the ResNet features node's own code (:func:`resnet_features.build_model`,
:func:`resnet_features.extract`), so a checkpoint is trained on exactly what the node computes.
Each first frame is described in a few *views*: as it is, mirrored, and re-framed (cropped) with
colour jitter. A view records what it did, so the target follows: a mirror flips pan_x and
rotation, a crop by factor ``c`` scales pans by ``c``; colour leaves motion alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinograph.api import KinographError
from kinograph.plugins.learned import footage
from kinograph.plugins.learned.content import text_sha256

if TYPE_CHECKING:
    import numpy as np

    from kinograph.plugins.learned.tensor_cache import TensorCache

AUGMENTATIONS = ("flip", "crop", "color", "speed")
#: Views per first frame when augmenting: as is, mirrored, and two random re-framings.
AUGMENTED_VIEWS = 4
#: Bump when views or the stored features change meaning.
FEATURES_CACHE_VERSION = 1
CROP_RANGE = (1.0, 1.25)


@dataclass(frozen=True)
class Extractor:
    """The ResNet that describes first frames, as the features node would run it."""

    arch: str
    weights: str
    seed: int
    input_size: int
    device: str
    #: ``layer4`` (the features node's spatial output) or ``layer3`` (what last-block
    #: fine-tuning starts from).
    stage: str = "layer4"
    model: Any = field(default=None, compare=False, repr=False)
    identity: str = ""
    warning: str | None = None

    @classmethod
    def build(cls, arch: str, weights: str, seed: int, input_size: int, device: str, stage: str = "layer4") -> Extractor:
        from kinograph.api import NodeFailure
        from kinograph.plugins.learned.resnet_features import build_model

        try:
            model, warning, identity = build_model(arch, weights, seed, device)
        except NodeFailure as exc:
            raise KinographError(f"features: {exc}") from None
        return cls(arch, weights, seed, input_size, device, stage, model, identity, warning)

    @property
    def key(self) -> str:
        return f"{self.arch}|{self.identity}|{self.input_size}|{self.stage}"

    def maps(self, frames: np.ndarray) -> np.ndarray:
        """Spatial maps ``[n, C, h, w]`` (float16) of ``frames`` ``[n, H, W, 3]``."""
        import contextlib

        import torch

        from kinograph.plugins.learned.resnet_features import extract, prepare

        if self.stage == "layer4":
            return extract(self.model, frames, self.device, self.input_size, pooled=False).half().numpy()
        x = prepare(frames, self.device, self.input_size)
        autocast: Any = contextlib.nullcontext()
        if self.device.startswith("cuda"):
            autocast = torch.autocast("cuda", dtype=torch.bfloat16)
        with torch.inference_mode(), autocast:
            return self.model.until_layer3(x).float().cpu().half().numpy()


@dataclass
class ClipSet:
    """Clips ready for training: per clip its views' maps, what each view did, and its target."""

    maps: list[np.ndarray]  # per clip [V, C, h, w] float16
    views: np.ndarray  # [N, V, 2]: mirrored (0/1), crop factor
    targets: np.ndarray  # [N, steps, 4]
    video: np.ndarray  # [N] index into sources
    aspect: np.ndarray  # [N] width / height of the clip's frames
    starts: list[int]
    ends: list[int]  # last source frame of each clip
    sources: list[dict[str, Any]]
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.maps)


def make_views(frame: np.ndarray, count: int, augment: Sequence[str], seed: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``count`` views of one frame ``[count, H', W', 3]`` and what each did ``[count, 2]``.

    View 0 is the frame as it is, view 1 its mirror (with ``flip``); the rest are random
    re-framings (``crop``: zoomed in by 1..1.25 about a jittered centre, same aspect), colour
    jitter (``color``) and mirrors (``flip``), drawn from ``seed``.
    """
    import cv2
    import numpy as np

    rng = np.random.default_rng(list(seed))
    height, width = frame.shape[:2]
    frames, done = [], []
    for v in range(count):
        flip = ("flip" in augment) and (v == 1 or (v >= 2 and rng.random() < 0.5))
        crop = 1.0
        image = frame
        if v >= 2 and "crop" in augment:
            crop = float(rng.uniform(*CROP_RANGE))
            w, h = round(width / crop), round(height / crop)
            x0 = int(np.clip((width - w) / 2 + rng.uniform(-0.04, 0.04) * width, 0, width - w))
            y0 = int(np.clip((height - h) / 2 + rng.uniform(-0.04, 0.04) * height, 0, height - h))
            image = cv2.resize(image[y0 : y0 + h, x0 : x0 + w], (width, height), interpolation=cv2.INTER_LINEAR)
        if v >= 2 and "color" in augment:
            image = _jitter(image, rng)
        if flip:
            image = image[:, ::-1]
        frames.append(np.ascontiguousarray(image))
        done.append((1.0 if flip else 0.0, crop))
    return np.stack(frames), np.array(done, dtype=np.float32)


def _jitter(image: np.ndarray, rng: Any) -> np.ndarray:
    """Brightness, contrast and saturation changes of up to 20-30%."""
    import numpy as np

    x = image.astype(np.float32)
    grey = x.mean(axis=2, keepdims=True)
    x = grey + (x - grey) * rng.uniform(0.7, 1.3)  # saturation
    x = x.mean() + (x - x.mean()) * rng.uniform(0.8, 1.2)  # contrast
    x = x * rng.uniform(0.8, 1.2)  # brightness
    return np.clip(x, 0, 255).astype(np.uint8)


def view_targets(targets: Any, views: Any) -> Any:
    """Targets ``[..., steps, 4]`` as seen in views ``[..., 2]`` (mirrored, crop): torch tensors."""
    import torch

    flip = views[..., 0:1, None] > 0.5
    crop = views[..., 1:2, None]
    out = targets.clone()
    out[..., 0:2] = out[..., 0:2] * crop
    sign = torch.where(flip, -1.0, 1.0)
    out[..., 0:1] = out[..., 0:1] * sign
    out[..., 3:4] = out[..., 3:4] * sign
    return out


def prepare_clips(
    sources: list[footage.Source],
    extractor: Extractor,
    *,
    steps: int,
    step_rate: float,
    stride: float,
    augment: Sequence[str],
    cache: TensorCache,
    warn: Callable[[str], None],
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], None] | None = None,
) -> ClipSet:
    """Measure, cut and describe every source (from the cache where it can)."""
    import numpy as np

    augmenting = any(a in augment for a in ("flip", "crop", "color"))
    count = AUGMENTED_VIEWS if augmenting else 1
    view_set = ",".join(a for a in AUGMENTATIONS if a in augment and a != "speed")
    maps, views, targets, video, aspect, starts, ends, summaries = [], [], [], [], [], [], [], []
    began = time.perf_counter()
    for index, source in enumerate(sources):
        if progress is not None:
            progress(index, len(sources), source.name)
        digest = footage.content_hash(source)
        measured = footage.measured_motion(source, digest, cache, warn=warn, cancel=cancel)
        clip_starts = footage.clip_starts(measured, steps, step_rate, stride)
        summaries.append(
            {
                "name": source.name,
                "sha256": digest[:16],
                "frames": measured.frames,
                "fps": round(measured.fps, 4),
                "shots": len(measured.segments),
                "clips": len(clip_starts),
            }
        )
        if not clip_starts:
            seconds = (steps - 1) / step_rate
            warn(f"{source.name}: no shot lasts {seconds:.2f} s, so it gives no clip (shorten --clip-seconds)")
            continue
        keys = {s: text_sha256(f"features|v{FEATURES_CACHE_VERSION}|{digest}|{s}|{extractor.key}|{count}|{view_set}")[:40] for s in clip_starts}
        found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for s in clip_starts:
            hit = cache.get("features", keys[s])
            if hit is not None and hit[0]["maps"].shape[0] == count:
                found[s] = (hit[0]["maps"], hit[0]["views"])
        missing = [s for s in clip_starts if s not in found]
        if missing:
            frames = footage.frames_at(source, set(missing))
            for s in missing:
                if cancel is not None:
                    cancel()
                pixels, done = make_views(frames[s], count, augment, [int(digest[:8], 16), s])
                clip_maps = extractor.maps(pixels)
                cache.put("features", keys[s], {"maps": clip_maps, "views": done}, {"source": source.name, "start": s})
                found[s] = (clip_maps, done)
        for s in clip_starts:
            maps.append(found[s][0])
            views.append(found[s][1])
            targets.append(footage.clip_target(measured, s, steps, step_rate))
            video.append(index)
            aspect.append(measured.size[0] / measured.size[1])
            starts.append(s)
            ends.append(s + footage.clip_frames(steps, step_rate, measured.fps) - 1)
    if progress is not None:
        progress(len(sources), len(sources), "")
    if not maps:
        raise KinographError(
            f"the footage gives no clip of {(steps - 1) / step_rate:.2f} s inside one shot: give longer "
            "footage or shorten --clip-seconds"
        )
    return ClipSet(
        maps=maps,
        views=np.stack(views).astype(np.float32),
        targets=np.stack(targets).astype(np.float32),
        video=np.array(video, dtype=np.int64),
        aspect=np.array(aspect, dtype=np.float32),
        starts=starts,
        ends=ends,
        sources=summaries,
        seconds=time.perf_counter() - began,
    )
