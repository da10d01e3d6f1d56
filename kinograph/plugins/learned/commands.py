"""``kinograph train`` and ``kinograph evaluate``: the learned pack's commands.

Contributed through the ``kinograph_commands`` hook; heavy imports (torch, cv2, av) happen in
``run`` only, so ``kinograph --help`` stays fast. Bad input raises :class:`KinographError`
(exit 2, one line, no traceback); Ctrl+C during training saves a resumable checkpoint first
and exits 130.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kinograph.api import Command, KinographError

EXIT_OK, EXIT_CANCELLED = 0, 130


def say(line: str) -> None:
    sys.stderr.write(line.rstrip("\n") + "\n")
    sys.stderr.flush()


# -- train -------------------------------------------------------------------------------------


def configure_train(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="VIDEO_OR_FOLDER",
                        help="videos, folders of videos, or folders of frames (an image sequence; give --fps)")
    parser.add_argument("--out", required=True, metavar="CHECKPOINT", help="checkpoint to write (.safetensors)")
    parser.add_argument("--epochs", type=int, default=60, help="most epochs (early stopping may end sooner; default 60)")
    parser.add_argument("--steps", type=int, help="motion steps per clip (default: clip-seconds x step-rate)")
    parser.add_argument("--step-rate", type=float, default=12.0, metavar="FPS", help="motion steps per second (default 12)")
    parser.add_argument("--clip-seconds", type=float, metavar="S", help="length of a training clip (default 4)")
    parser.add_argument("--stride", type=float, default=2.0, metavar="S", help="seconds between clip starts in a shot (default 2)")
    parser.add_argument("--fps", type=float, help="frame rate of image sequences")
    parser.add_argument("--arch", default="resnet18", help="features: resnet18|34|50|101|152 (default resnet18)")
    parser.add_argument("--weights", default="auto",
                        help="features: auto (ImageNet if cached, else random), imagenet, none (seeded random) or a file")
    parser.add_argument("--features-seed", type=int, default=0, help="seed of the random-init features (default 0)")
    parser.add_argument("--input-size", type=int, default=224, help="features: shorter side in pixels (default 224)")
    parser.add_argument("--spatial-grid", type=int, default=3, metavar="N",
                        help="read an N x N grid of spatial features (0: pooled vectors; default 3)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate, cosine-decayed (default 2e-3)")
    parser.add_argument("--weight-decay", type=float, default=0.05, help="AdamW weight decay (default 0.05)")
    parser.add_argument("--patience", type=int, default=25,
                        help="stop after this many epochs without a better validation loss (default 25)")
    parser.add_argument("--val-split", type=float, default=0.2, metavar="F",
                        help="share of clips held out for validation, by whole videos (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, init and batches (default 0)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps (default auto)")
    parser.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint (or .train-state file)")
    parser.add_argument("--augment", default="flip,crop,color,speed",
                        help="comma list of flip, crop, color, speed, or none (default all)")
    parser.add_argument("--finetune", default="none", choices=["none", "last-block"],
                        help="last-block: also train the ResNet's last block (writes CHECKPOINT.features.safetensors)")
    parser.add_argument("--hidden-size", type=int, default=64, help="LSTM width (default 64)")
    parser.add_argument("--no-cache", action="store_true", help="measure and describe every clip again")


def run_train(args: argparse.Namespace) -> int:
    from kinograph.plugins.learned.training import TrainConfig, TrainingInterrupted, train

    augment = [] if args.augment.strip().lower() == "none" else [a.strip() for a in args.augment.split(",") if a.strip()]
    steps = args.steps
    if steps is not None and args.clip_seconds is not None:
        raise KinographError("give --steps or --clip-seconds, not both (steps = clip-seconds x step-rate)")
    config = TrainConfig(
        inputs=args.inputs, out=args.out, epochs=args.epochs, steps=steps, step_rate=args.step_rate,
        clip_seconds=args.clip_seconds or 4.0, stride=args.stride, fps=args.fps, arch=args.arch, weights=args.weights,
        features_seed=args.features_seed, input_size=args.input_size, spatial_grid=args.spatial_grid,
        batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay, val_split=args.val_split,
        seed=args.seed, device=args.device, resume=args.resume, augment=augment, finetune=args.finetune,
        hidden_size=args.hidden_size, patience=args.patience, cache=not args.no_cache,
    )
    try:
        result = train(config, say=say, progress=sys.stderr.isatty())
    except TrainingInterrupted as stopped:
        say(f"cancelled: {stopped}")
        return EXIT_CANCELLED
    val = result.metrics.get("val") or result.metrics.get("train") or {}
    if val:
        from kinograph.plugins.learned.evaluation import format_table

        say(format_table(val))
    say(f"wrote {result.checkpoint} (best epoch {result.metrics['best_epoch']}), its .metrics.json and .loss.png")
    print(result.checkpoint)
    return EXIT_OK


# -- evaluate ----------------------------------------------------------------------------------


def configure_motion(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", nargs="+", metavar="VIDEO_OR_FOLDER", help="footage never used for training")
    parser.add_argument("--checkpoint", required=True, help="the motion checkpoint to evaluate")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON ('-' for stdout)")
    parser.add_argument("--stride", type=float, default=2.0, metavar="S", help="seconds between clip starts (default 2)")
    parser.add_argument("--fps", type=float, help="frame rate of image sequences")
    parser.add_argument("--features-weights", metavar="FILE",
                        help="features weights file when the checkpoint was fine-tuned (default: beside it)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps")
    parser.add_argument("--no-cache", action="store_true", help="measure and describe every clip again")


def run_motion(args: argparse.Namespace) -> int:
    return _evaluate_motion(args)


def _evaluate_motion(args: argparse.Namespace) -> int:
    import json

    from kinograph.api import atomic_output
    from kinograph.plugins.learned.evaluation import format_table
    from kinograph.plugins.learned.motion_eval import evaluate_motion

    result = evaluate_motion(
        args.videos, args.checkpoint, stride=args.stride, fps=args.fps, device=args.device,
        features_weights=args.features_weights, cache=not args.no_cache, say=say,
    )
    say(format_table(result))
    if args.json:
        text = json.dumps(result, indent=1)
        if args.json == "-":
            print(text)
        else:
            from pathlib import Path

            with atomic_output(Path(args.json)) as temp:
                Path(temp).write_text(text + "\n", encoding="utf-8")
            say(f"wrote {args.json}")
    return EXIT_OK


#: ``kinograph evaluate motion``: a kind of the evaluation pack's ``evaluate`` command.
EVALUATE_MOTION = Command(
    name="motion",
    help="motion generated from first frames vs the measured motion of footage, beside baselines",
    description=(
        "On clips of footage never used for training: the error between the motion a checkpoint "
        "generates from each clip's first frame and the clip's measured motion, beside an untrained "
        "generator, the training set's mean motion and no motion; and how much the motion spreads "
        "across photos and across variation seeds. --json FILE writes the same numbers."
    ),
    configure=configure_motion,
    run=run_motion,
)


def commands() -> list[Any]:
    """The commands the learned pack contributes (``evaluate motion`` joins the evaluation pack's
    ``evaluate``)."""
    return [
        Command(
            name="train",
            help="train the motion generator on footage (resumable)",
            description=(
                "Train the LSTM action generator on videos or image sequences: clips within shots, "
                "first-frame features from the ResNet features node, measured camera motion as targets. "
                "Exit 0 ok, 2 bad input, 130 on Ctrl+C (a resumable checkpoint is saved)."
            ),
            configure=configure_train,
            run=run_train,
        ),
    ]
