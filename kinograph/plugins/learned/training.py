"""Training the motion generator on footage: the engine behind ``kinograph train``.

    from kinograph.plugins.learned.training import TrainConfig, train

    result = train(TrainConfig(inputs=["footage/"], out="motion.safetensors", epochs=40))
    print(result.metrics["val"]["error_percent"], result.checkpoint)

Clips are cut from the footage within shots; each clip's first frame is described by the
ResNet features node's code and its camera move is measured (both cached, see
:mod:`kinograph.plugins.learned.clips`). The generator learns to produce the measured move from
the first frame's features:

- validation clips come from other videos than training clips (no leakage between clips of one
  video); with a single video, its last part is held out, with a warning;
- AdamW; the loss is the mean squared distance between the generated and measured views'
  frame corners (pan, zoom and rotation in one geometric unit: % of the frame width), plus a
  smoothness term, plus a winner-takes-all term that teaches ``variation`` seeds to spread
  over the moves the data allows;
- early stopping on validation loss; the best epoch is written atomically to the checkpoint,
  every epoch to ``<checkpoint>.train-state.safetensors`` (model, optimizer, epoch, history),
  which ``resume`` continues from; Ctrl+C leaves both, loadable;
- CUDA with bf16/fp16 autocast when present, else the CPU; a loss-curve PNG and a metrics JSON
  are written beside the checkpoint.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kinograph.api import KinographError, atomic_output, cache_dir
from kinograph.plugins.learned.clips import AUGMENTATIONS

ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
FEATURE_SIZES = {"resnet18": 512, "resnet34": 512, "resnet50": 2048, "resnet101": 2048, "resnet152": 2048}
STATE_SUFFIX = ".train-state.safetensors"
FEATURES_SUFFIX = ".features.safetensors"
#: Loss weights: smoothness (second difference of the corner paths) and the variation term.
SMOOTHNESS = 5.0
VARIATION_WEIGHT = 1.0
MOTION_FORMAT = (
    "camera relative to the first frame: pan_x, pan_y (fractions of the frame), zoom, rotation "
    "(degrees, counter-clockwise) per step at step_rate; step 0 is the identity"
)


@dataclass
class TrainConfig:
    """Everything ``kinograph train`` takes (its flags, one to one)."""

    inputs: Sequence[str | Path]
    out: str | Path
    epochs: int = 60
    steps: int | None = None
    step_rate: float = 12.0
    clip_seconds: float = 4.0
    stride: float = 2.0
    fps: float | None = None
    arch: str = "resnet18"
    weights: str = "auto"
    features_seed: int = 0
    input_size: int = 224
    spatial_grid: int = 3
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.05
    val_split: float = 0.2
    seed: int = 0
    device: str = "auto"
    resume: str | Path | None = None
    augment: Sequence[str] = ("flip", "crop", "color", "speed")
    finetune: str = "none"
    hidden_size: int = 64
    layers: int = 1
    patience: int = 25
    variation_samples: int = 4
    cache: bool = True

    def motion_steps(self) -> int:
        """Steps per clip: ``steps``, or ``clip_seconds * step_rate`` (at least 2)."""
        return int(self.steps) if self.steps else max(2, round(self.clip_seconds * self.step_rate))

    def problems(self) -> list[str]:
        """What is wrong with these settings, in a user's words."""
        found = []
        positive = {"epochs": self.epochs, "step_rate": self.step_rate, "clip_seconds": self.clip_seconds,
                    "stride": self.stride, "batch_size": self.batch_size, "lr": self.lr, "input_size": self.input_size}
        for name, value in positive.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                found.append(f"--{name.replace('_', '-')} must be a positive number, not {value}")
        if self.steps is not None and self.steps < 2:
            found.append(f"--steps must be at least 2, not {self.steps}")
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            found.append(f"--fps must be a positive number, not {self.fps}")
        if self.arch not in ARCHS:
            found.append(f"--arch must be one of {', '.join(ARCHS)}, not {self.arch!r}")
        if not 0 <= self.spatial_grid <= 8:
            found.append(f"--spatial-grid must be 0 (pooled) to 8, not {self.spatial_grid}")
        if not 0 <= self.val_split < 1:
            found.append(f"--val-split must be at least 0 and below 1, not {self.val_split}")
        unknown = [a for a in self.augment if a not in AUGMENTATIONS]
        if unknown:
            found.append(f"--augment knows {', '.join(AUGMENTATIONS)} (or none), not {', '.join(unknown)}")
        if self.finetune not in ("none", "last-block"):
            found.append(f"--finetune must be none or last-block, not {self.finetune!r}")
        if self.finetune == "last-block" and self.spatial_grid == 0:
            found.append("--finetune last-block needs spatial features: give --spatial-grid 1 or more")
        if Path(self.out).suffix not in (".safetensors", ".pt", ".pth"):
            found.append(f"--out must end in .safetensors (or .pt), not {Path(self.out).name!r}")
        if self.weight_decay < 0 or self.patience < 1 or self.variation_samples < 0:
            found.append("--weight-decay and variation samples cannot be negative, patience is at least 1")
        return found


@dataclass
class TrainResult:
    """Where the checkpoint went, and what training measured."""

    checkpoint: Path
    metrics: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def state(self) -> Path:
        return state_path(self.checkpoint)


class TrainingInterrupted(KinographError):
    """Ctrl+C during training; the checkpoint and the training state were saved first."""

    def __init__(self, result: TrainResult) -> None:
        super().__init__(
            f"training interrupted after epoch {result.metrics.get('epochs_run', 0)}; the best so far is "
            f"{result.checkpoint}; continue with --resume {result.checkpoint}"
        )
        self.result = result


def state_path(checkpoint: str | Path) -> Path:
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + STATE_SUFFIX)


def features_path(checkpoint: str | Path) -> Path:
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + FEATURES_SUFFIX)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when there is one, else ``cpu``; other names are checked."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise KinographError(f"--device {device}: no CUDA device here (use --device cpu or auto)")
    if device == "mps" and not torch.backends.mps.is_available():
        raise KinographError("--device mps: no Apple GPU here (use --device cpu or auto)")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise KinographError(f"--device must be auto, cpu, cuda, cuda:N or mps, not {device!r}")
    return device


# -- the training run --------------------------------------------------------------------------


def train(
    config: TrainConfig,
    *,
    say: Callable[[str], None] | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train a generator as ``config`` says; returns where it went and its metrics.

    ``say`` receives one human line per event (data, each epoch, the end); ``progress`` shows a
    rich progress bar per epoch. Raises :class:`KinographError` for bad input and
    :class:`TrainingInterrupted` on Ctrl+C (after saving).
    """

    from kinograph.plugins.learned import clips as clip_data
    from kinograph.plugins.learned.footage import find_sources
    from kinograph.plugins.learned.tensor_cache import TensorCache

    tell = say or (lambda line: None)
    problems = config.problems()
    if problems:
        raise KinographError("; ".join(problems))
    if config.resume is not None:
        _check_resume_file(config.resume)
    out = Path(config.out).expanduser()
    steps = config.motion_steps()
    device = resolve_device(config.device)
    sources = find_sources(list(config.inputs), config.fps)
    stage = "layer3" if config.finetune == "last-block" else "layer4"
    extractor = clip_data.Extractor.build(config.arch, config.weights, config.features_seed, config.input_size, device, stage)
    if extractor.warning:
        tell(f"warning: {extractor.warning}")
    cache = TensorCache(cache_dir() / "training" if config.cache else None, warn=lambda m: tell(f"warning: {m}"))
    tell(f"data: {len(sources)} source(s); measuring motion and describing first frames ({extractor.identity})")
    data = clip_data.prepare_clips(
        sources,
        extractor,
        steps=steps,
        step_rate=config.step_rate,
        stride=config.stride,
        augment=config.augment,
        cache=cache,
        warn=lambda m: tell(f"warning: {m}"),
        progress=_data_progress(tell) if progress else None,
    )
    train_index, val_index = split_by_video(data.video, data.starts, data.ends, config.val_split, config.seed, tell)
    tell(
        f"data: {len(data)} clips ({len(train_index)} train, {len(val_index)} validation) from "
        f"{len(sources)} source(s) in {data.seconds:.1f} s (cache: {cache.hits} read, {cache.misses} made)"
    )
    run = _Run(config, data, extractor, train_index, val_index, steps, device, out, tell)
    return run.fit(progress)


def _check_resume_file(resume: str | Path) -> None:
    path = Path(resume)
    state = path if path.name.endswith(STATE_SUFFIX) else state_path(path)
    if not state.is_file():
        raise KinographError(f"--resume {resume}: no training state at {state} (it is written beside the checkpoint)")


def split_by_video(
    video: Any, starts: list[int], ends: list[int], val_split: float, seed: int, tell: Callable[[str], None]
) -> tuple[Any, Any]:
    """Train and validation clip indices, whole videos on each side (seeded).

    With one video only, its last ``val_split`` of clips is held out (clips overlapping it are
    dropped from training), and a warning says that the two sides share a video.
    """
    import numpy as np

    video = np.asarray(video)
    if val_split <= 0:
        return np.arange(len(video)), np.arange(0)
    videos = np.unique(video)
    if len(videos) < 2:
        tell("warning: one video only: validation holds out its last part, so both sides share a video")
        order = np.argsort(starts)
        cut = max(1, round(len(order) * val_split))
        if cut >= len(order):
            raise KinographError("one clip only: give more footage to train on, or --val-split 0")
        val = order[-cut:]
        first_val = min(starts[i] for i in val)
        train = np.array([i for i in order[:-cut] if ends[i] < first_val] or order[:1])
        return train, val
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(videos)
    counts = {v: int((video == v).sum()) for v in videos}
    wanted = val_split * len(video)
    chosen: list[int] = []
    for v in shuffled:
        if sum(counts[c] for c in chosen) >= wanted or len(chosen) == len(videos) - 1:
            break
        chosen.append(int(v))
    val_mask = np.isin(video, chosen)
    return np.flatnonzero(~val_mask), np.flatnonzero(val_mask)


def _data_progress(tell: Callable[[str], None]) -> Callable[[int, int, str], None]:
    def report(done: int, total: int, name: str) -> None:
        if name:
            tell(f"data: [{done + 1}/{total}] {name}")

    return report


class _Run:
    """One training run: tensors, model, optimizer, and the loop with its saving and resuming."""

    def __init__(
        self,
        config: TrainConfig,
        data: Any,
        extractor: Any,
        train_index: Any,
        val_index: Any,
        steps: int,
        device: str,
        out: Path,
        tell: Callable[[str], None],
    ) -> None:
        import numpy as np
        import torch

        from kinograph.plugins.learned.motion_model import seeded_generator

        self.config, self.data, self.extractor = config, data, extractor
        self.train_index, self.val_index = np.asarray(train_index), np.asarray(val_index)
        self.steps, self.device, self.out, self.tell = steps, device, out, tell
        self.finetune = config.finetune == "last-block"
        self.grid = config.spatial_grid
        self.inputs = self._inputs()
        self.views = torch.from_numpy(data.views)
        self.targets = torch.from_numpy(data.targets)
        self.aspect = torch.from_numpy(data.aspect)
        feature_size = FEATURE_SIZES[config.arch]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = seeded_generator(feature_size, self.grid, config.hidden_size, config.layers, config.seed)
            self.model.horizon.fill_((steps - 1) / config.step_rate)
            self.block = self._last_block() if self.finetune else None
        self._set_feature_stats()
        self.model.to(device)
        groups = [{"params": self.model.parameters(), "lr": config.lr}]
        if self.block is not None:
            self.block.to(device)
            groups.append({"params": self.block.parameters(), "lr": config.lr * 0.1})
        self.optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
        self.base_lrs = [g["lr"] for g in groups]
        self.amp = _autocast_dtype(device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp is torch.float16)
        self.mean_motion = self._mean_motion()
        self.generator = torch.Generator().manual_seed(config.seed)
        self.epoch = 0
        self.best = math.inf
        self.best_epoch = 0
        self.bad_epochs = 0
        self.history: list[dict[str, float]] = []
        self.saved_checkpoint = False
        if config.resume is not None:
            self._resume(Path(config.resume))

    # -- data --

    def _inputs(self) -> list[Any]:
        """Per clip ``[V, C, g, g]`` float32 (pooled to the grid once), or layer3 maps to fine-tune."""
        import torch
        from torch.nn import functional

        out = []
        for maps in self.data.maps:
            x = torch.from_numpy(maps).float()
            if self.finetune:
                out.append(x)
            elif self.grid:
                out.append(functional.adaptive_avg_pool2d(x, self.grid))
            else:
                out.append(x.mean(dim=(2, 3)))
        return out

    def _last_block(self) -> Any:
        import copy

        block = copy.deepcopy(self.extractor.model.net.layer4).float().cpu()
        return block

    def _set_feature_stats(self) -> None:
        """Per-channel mean and std of the (log-compressed) training features, view 0."""
        import torch

        with torch.no_grad():
            index = self.train_index[:512]
            cells = self.model.cells(self._batch(index, [0] * len(index), train=False).cpu())
            cells = torch.sign(cells) * torch.log1p(cells.abs())
            flat = cells.reshape(-1, cells.shape[-1])
            self.model.feature_mean.copy_(flat.mean(dim=0))
            self.model.feature_std.copy_(flat.std(dim=0).clamp_min(1e-3))

    def _batch(self, clips: Sequence[int] | Any, views: Sequence[int], train: bool) -> Any:
        """Generator input for these clips' views on the device: ``[n, C, g, g]`` (or ``[n, C]``)."""
        import torch

        x = torch.stack([self.inputs[int(c)][int(v)] for c, v in zip(clips, views, strict=True)]).to(self.device)
        if self.block is None:
            return x
        if train:
            return self.block(x)
        with torch.no_grad():
            return self.block(x)

    def _mean_motion(self) -> Any:
        """The training clips' mean move (log-zoom averaged), as seen unaugmented."""
        from kinograph.plugins.learned.motion_model import as_log, from_log

        return from_log(as_log(self.targets[self.train_index]).mean(dim=0))

    # -- loop --

    def fit(self, progress: bool) -> TrainResult:
        import torch

        with torch.random.fork_rng(devices=[]):  # the caller's random state is left alone
            return self._fit(progress)

    def _fit(self, progress: bool) -> TrainResult:
        import signal

        import torch

        config = self.config
        previous = signal.getsignal(signal.SIGTERM)
        try:
            # SIGTERM (kill, a closed session) stops like Ctrl+C: save, then exit.
            signal.signal(signal.SIGTERM, _raise_interrupt)
        except ValueError:
            previous = None  # not the main thread
        try:
            if self.epoch == 0:
                start = self._validate()
                if start:  # where the untrained generator stands: the curve's first point
                    self.history.append({"epoch": 0, "train_loss": math.nan, "val_loss": start["loss"],
                                         "val_error_percent": start["error_percent"], "seconds": 0.0})
                self._save_state()  # resumable from the very start
            while self.epoch < config.epochs and self.bad_epochs < config.patience:
                began = time.perf_counter()
                # Dropout draws from torch's global generator: seeded per epoch, so a resumed run
                # repeats exactly what an uninterrupted one would have done.
                torch.manual_seed(config.seed * 1_000_003 + self.epoch)
                self._set_learning_rate()
                train_loss = self._train_epoch(progress)
                val = self._validate()
                self.epoch += 1
                seconds = time.perf_counter() - began
                val_loss = val["loss"] if val else train_loss
                improved = val_loss < self.best - 1e-9
                row = {"epoch": self.epoch, "train_loss": train_loss, "val_loss": val.get("loss", math.nan),
                       "val_error_percent": val.get("error_percent", math.nan), "seconds": seconds}
                self.history.append(row)
                if improved:
                    self.best, self.best_epoch, self.bad_epochs = val_loss, self.epoch, 0
                    self._save_checkpoint(final=False)
                else:
                    self.bad_epochs += 1
                self._save_state()
                error = f"  val error {val['error_percent']:.2f}%" if val else ""
                self.tell(
                    f"epoch {self.epoch}/{config.epochs}  train loss {train_loss:.4f}  val loss "
                    f"{val.get('loss', math.nan):.4f}{error}  {seconds:.1f} s{'  (best, saved)' if improved else ''}"
                )
            if self.bad_epochs >= config.patience:
                self.tell(f"early stop: validation loss has not improved for {config.patience} epochs")
        except KeyboardInterrupt:
            if not self.saved_checkpoint:
                self._save_checkpoint(final=False)
            raise TrainingInterrupted(TrainResult(self.out, self._summary(), self.history, interrupted=True)) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        return self._finish()

    def _set_learning_rate(self) -> None:
        """Cosine decay over ``epochs`` down to 5%: a function of the epoch, so resuming needs no
        scheduler state."""
        config = self.config
        scale = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * self.epoch / max(1, config.epochs)))
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * scale

    def _batches(self) -> list[Any]:
        import torch

        order = self.train_index[torch.randperm(len(self.train_index), generator=self.generator).numpy()]
        if self.finetune:  # maps of one shape per batch (videos may differ in aspect)
            by_shape: dict[tuple[int, ...], list[int]] = {}
            for i in order:
                by_shape.setdefault(tuple(self.inputs[int(i)].shape[1:]), []).append(int(i))
            groups = list(by_shape.values())
        else:
            groups = [list(order)]
        size = self.config.batch_size
        return [g[i : i + size] for g in groups for i in range(0, len(g), size)]

    def _train_epoch(self, progress: bool) -> float:
        import torch

        self.model.train()
        if self.block is not None:
            self.block.eval()  # batch statistics stay frozen; the weights learn
        batches = self._batches()
        total, count = 0.0, 0
        with _EpochBar(progress, len(batches), f"epoch {self.epoch + 1}") as bar:
            for batch in batches:
                index = torch.tensor(batch)
                view_count = self.views.shape[1]
                view = torch.randint(view_count, (len(batch),), generator=self.generator)
                x = self._batch(batch, view.tolist(), train=True)
                views = self.views[index, view]
                target = _view_targets(self.targets[index], views)
                if "speed" in self.config.augment:
                    target = _speed(target, torch.empty(len(batch)).uniform_(0.8, 1.25, generator=self.generator))
                loss = self._loss(x, target.to(self.device), self.aspect[index].to(self.device))
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self._parameters(), 1.0)
                self.scaler.step(self.optimizer)
                self.scaler.update()
                total += float(loss.detach()) * len(batch)
                count += len(batch)
                bar.advance(float(loss.detach()))
        return total / max(1, count)

    def _parameters(self) -> list[Any]:
        params = list(self.model.parameters())
        if self.block is not None:
            params += list(self.block.parameters())
        return params

    def _loss(self, x: Any, target: Any, aspect: Any) -> Any:
        import torch

        from kinograph.plugins.learned.motion_model import corners, integrate

        rate = self.config.step_rate
        with _autocast(self.device, self.amp):
            actions = self.model(x, self.steps, rate)
        camera = integrate(actions.float(), rate)
        aspect = aspect[:, None]
        goal = corners(target, aspect) * 100.0
        path = corners(camera, aspect) * 100.0
        fit = ((path - goal) ** 2).sum(-1).mean(dim=(1, 2))
        bend = path[:, 2:] - 2 * path[:, 1:-1] + path[:, :-2]
        loss = fit.mean() + SMOOTHNESS * (bend**2).sum(-1).mean()
        samples = self.config.variation_samples
        if samples:
            noise = torch.randn(samples, x.shape[0], self.model.noise_size, generator=self.generator).to(x.device)
            takes = []
            for k in range(samples):
                with _autocast(self.device, self.amp):
                    take = integrate(self.model(x, self.steps, rate, noise[k]).float(), rate)
                takes.append(((corners(take, aspect) * 100.0 - goal) ** 2).sum(-1).mean(dim=(1, 2)))
            errors = torch.stack(takes)  # [samples, B]
            # Relaxed winner-takes-all: each clip pulls mostly its closest take.
            loss = loss + VARIATION_WEIGHT * (0.97 * errors.min(dim=0).values + 0.03 * errors.mean(dim=0)).mean()
        return loss

    def _validate(self) -> dict[str, float]:
        if len(self.val_index) == 0:
            return {}
        from kinograph.plugins.learned.evaluation import path_errors

        generated = self.generate(self.val_index)
        targets = self.targets[self.val_index]
        aspect = self.aspect[self.val_index]
        errors = path_errors(generated, targets, aspect)
        return {"loss": float(errors["squared"].mean()), "error_percent": float(errors["corner"].mean() * 100)}

    def generate(self, index: Any, variation: int = 0, model: Any = None) -> Any:
        """Generated moves ``[n, steps, 4]`` for clips ``index`` (view 0), in eval mode.

        ``variation`` is the node's param (0: the deterministic move); ``model`` another
        generator (the untrained baseline) instead of the one being trained.
        """
        import torch

        from kinograph.plugins.learned.motion_model import integrate, variation_noise

        model = self.model if model is None else model.to(self.device)
        model.eval()
        noise = variation_noise(variation)
        out = []
        with torch.no_grad():
            for start in range(0, len(index), 256):
                chunk = index[start : start + 256]
                x = self._batch(chunk, [0] * len(chunk), train=False)
                batch_noise = None if noise is None else noise.expand(len(chunk), -1).to(self.device)
                with _autocast(self.device, self.amp):
                    actions = model(x, self.steps, self.config.step_rate, batch_noise)
                out.append(integrate(actions.float(), self.config.step_rate).cpu())
        return torch.cat(out)

    # -- saving, resuming, reporting --

    def _metadata(self, final: bool) -> dict[str, Any]:
        from kinograph.plugins.learned.motion_model import LIMITS

        config = self.config
        weights = self.extractor.identity
        meta: dict[str, Any] = {
            "feature_size": FEATURE_SIZES[config.arch],
            "extractor": config.arch,
            "weights": weights,
            "input_size": config.input_size,
            "layout": "grid" if self.grid else "pooled",
            "grid": self.grid,
            "steps": self.steps,
            "step_rate": config.step_rate,
            "hidden_size": config.hidden_size,
            "layers": config.layers,
            "epoch": self.best_epoch,
            "motion_format": MOTION_FORMAT,
            "limits": asdict(LIMITS),
            "mean_motion": [[round(float(v), 6) for v in row] for row in self.mean_motion.tolist()],
            "data": self._data_summary(),
            "metrics": self.final_metrics if final else {"best_val_loss": self.best, "best_epoch": self.best_epoch},
            "training": _config_summary(config),
            "trained_by": "kinograph train",
        }
        if self.block is not None:
            meta["features_weights"] = features_path(self.out).name
        return meta

    def _data_summary(self) -> dict[str, Any]:
        data = self.data
        val_videos = sorted({int(v) for v in data.video[self.val_index]})
        train_videos = sorted({int(v) for v in data.video[self.train_index]})
        seconds = len(data) * (self.steps - 1) / self.config.step_rate
        return {
            "sources": len(data.sources),
            "clips": len(data),
            "train_clips": len(self.train_index),
            "val_clips": len(self.val_index),
            "clip_seconds": round((self.steps - 1) / self.config.step_rate, 4),
            "hours_of_clips": round(seconds / 3600, 4),
            "train_sources": [data.sources[v]["sha256"] for v in train_videos],
            "val_sources": [data.sources[v]["sha256"] for v in val_videos],
            "names": [s["name"] for s in data.sources][:50],
        }

    def _save_checkpoint(self, final: bool) -> None:
        from kinograph.plugins.learned.checkpoints import save_checkpoint

        if self.block is not None:
            self._save_features_weights()
        state = {k: v.detach().float().cpu().clone() for k, v in self.model.state_dict().items()}
        save_checkpoint(self.out, state, self._metadata(final))
        self.best_state = state
        self.saved_checkpoint = True

    def _save_features_weights(self) -> None:
        """The ResNet with the fine-tuned last block, loadable by the ResNet features node."""
        import copy

        from safetensors.torch import save_file

        from kinograph.plugins.learned.content import file_sha256

        net = copy.deepcopy(self.extractor.model.net).float().cpu()
        block = self.block
        assert block is not None  # only called when fine-tuning made one
        net.layer4.load_state_dict({k: v.detach().float().cpu() for k, v in block.state_dict().items()})
        state = {k: v.contiguous() for k, v in net.state_dict().items() if not k.startswith("fc.")}
        target = features_path(self.out)
        with atomic_output(target) as temp:
            save_file(state, str(temp), metadata={"arch": self.config.arch, "made_by": "kinograph train --finetune last-block"})
        object.__setattr__(self.extractor, "identity", f"file sha256:{file_sha256(target)[:16]}")

    def _save_state(self) -> None:
        """Everything resume needs, atomically: model, optimizer, epoch, history, random state."""
        import torch
        from safetensors.torch import save_file

        tensors = {f"model.{k}": v.detach().float().cpu().contiguous() for k, v in self.model.state_dict().items()}
        if self.block is not None:
            tensors.update({f"block.{k}": v.detach().float().cpu().contiguous() for k, v in self.block.state_dict().items()})
        optimizer = self.optimizer.state_dict()
        for index, values in optimizer["state"].items():
            for name, value in values.items():
                tensors[f"optim.{index}.{name}"] = torch.as_tensor(value).detach().float().cpu().contiguous().clone()
        tensors["rng.generator"] = self.generator.get_state().clone()
        info = {
            "epoch": self.epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "history": self.history,
            "param_groups": [{k: v for k, v in g.items() if k != "params"} | {"params": g["params"]} for g in optimizer["param_groups"]],
            "shape": {"feature_size": FEATURE_SIZES[self.config.arch], "grid": self.grid, "steps": self.steps,
                      "step_rate": self.config.step_rate, "hidden_size": self.config.hidden_size,
                      "layers": self.config.layers, "finetune": self.finetune},
            "checkpoint_saved": self.saved_checkpoint,
        }
        target = state_path(self.out)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(target) as temp:
            save_file(tensors, str(temp), metadata={"format": "kinograph.train-state", "info": json.dumps(info)})

    def _resume(self, given: Path) -> None:
        import torch
        from safetensors import safe_open

        path = given if given.name.endswith(STATE_SUFFIX) else state_path(given)
        try:
            with safe_open(str(path), framework="pt") as f:
                header = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}
            info = json.loads(header["info"])
        except Exception as exc:
            raise KinographError(f"--resume: {path} is not a readable training state ({exc})") from None
        shape = {"feature_size": FEATURE_SIZES[self.config.arch], "grid": self.grid, "steps": self.steps,
                 "step_rate": self.config.step_rate, "hidden_size": self.config.hidden_size,
                 "layers": self.config.layers, "finetune": self.finetune}
        if info.get("shape") != shape:
            raise KinographError(
                f"--resume: {path} was trained with {info.get('shape')}, but these settings give {shape}: "
                "resume with the same --arch, --spatial-grid, --steps/--clip-seconds, --step-rate and --finetune"
            )
        model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        self.model.load_state_dict(model_state)
        if self.block is not None:
            self.block.load_state_dict({k[len("block."):]: v for k, v in tensors.items() if k.startswith("block.")})
        optim_state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, index, name = key.split(".", 2)
                optim_state.setdefault(int(index), {})[name] = value.to(self.device) if name != "step" else value
        self.optimizer.load_state_dict({"state": optim_state, "param_groups": info["param_groups"]})
        self.generator.set_state(tensors["rng.generator"].to(torch.uint8))
        self.epoch = int(info["epoch"])
        self.best = float(info["best"])
        self.best_epoch = int(info["best_epoch"])
        self.bad_epochs = int(info["bad_epochs"])
        self.history = list(info["history"])
        self.saved_checkpoint = bool(info.get("checkpoint_saved")) and self.out.is_file()
        self.tell(f"resumed from {path} after epoch {self.epoch} (best validation loss {self.best:.4f} at epoch {self.best_epoch})")

    def _summary(self) -> dict[str, Any]:
        seconds = [row["seconds"] for row in self.history]
        return {
            "epochs_run": self.epoch,
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best,
            "seconds_per_epoch": round(sum(seconds) / len(seconds), 3) if seconds else None,
            "data_seconds": round(self.data.seconds, 2),
            "device": self.device,
        }

    def _finish(self) -> TrainResult:
        """Reload the best epoch, measure it against the baselines, write metrics and the plot."""
        from kinograph.plugins.learned import plots
        from kinograph.plugins.learned.evaluation import compare
        from kinograph.plugins.learned.motion_model import seeded_generator

        if self.saved_checkpoint and getattr(self, "best_state", None) is not None:
            self.model.load_state_dict(self.best_state)
        elif not self.saved_checkpoint:
            self._save_checkpoint(final=False)
        metrics = self._summary()
        index = self.val_index if len(self.val_index) else self.train_index
        untrained = seeded_generator(FEATURE_SIZES[self.config.arch], self.grid, 64, 1, 0)
        metrics["val" if len(self.val_index) else "train"] = compare(
            lambda variation: self.generate(index, variation),
            self.generate(index, model=untrained),
            self.mean_motion,
            self.targets[index],
            self.aspect[index],
        )
        self.final_metrics = metrics
        self._save_checkpoint(final=True)
        stem = self.out.with_suffix("")
        metrics_file = stem.with_name(stem.name + ".metrics.json")
        with atomic_output(metrics_file) as temp:
            Path(temp).write_text(json.dumps({"metrics": metrics, "history": self.history, "data": self._data_summary(),
                                              "config": _config_summary(self.config)}, indent=1), encoding="utf-8")
        plots.loss_curve(self.history, stem.with_name(stem.name + ".loss.png"), best_epoch=self.best_epoch)
        return TrainResult(self.out, metrics, self.history)


def _view_targets(targets: Any, views: Any) -> Any:
    from kinograph.plugins.learned.clips import view_targets

    return view_targets(targets, views)


def _speed(targets: Any, factor: Any) -> Any:
    """A faster or slower take of the same move: the path scaled (zoom in log units)."""
    from kinograph.plugins.learned.motion_model import as_log, from_log

    return from_log(as_log(targets) * factor[:, None, None])


def _config_summary(config: TrainConfig) -> dict[str, Any]:
    summary = asdict(config)
    summary["inputs"] = [str(p) for p in config.inputs][:50]
    summary["out"] = str(config.out)
    summary["resume"] = str(config.resume) if config.resume else None
    summary["augment"] = list(config.augment)
    return summary


def _autocast_dtype(device: str) -> Any:
    import torch

    if not device.startswith("cuda"):
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _autocast(device: str, dtype: Any) -> Any:
    import contextlib

    import torch

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=dtype)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class _EpochBar:
    """A rich progress bar over one epoch's batches (nothing when ``show`` is False)."""

    def __init__(self, show: bool, total: int, title: str) -> None:
        self.show, self.total, self.title = show, total, title
        self.progress: Any = None

    def __enter__(self) -> _EpochBar:
        if self.show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(self.title, total=self.total, loss="-")
        return self

    def advance(self, loss: float) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, loss=f"{loss:.4f}")

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
