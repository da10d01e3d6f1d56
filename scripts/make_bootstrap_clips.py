"""Render the bootstrap clips the shipped motion checkpoint is trained on (reproducible).

    .venv/bin/python scripts/make_bootstrap_clips.py [--out FOLDER] [--videos N] [--shots N] [--seed N]

Each video holds ``--shots`` shots joined by hard cuts; each shot is a procedurally generated
photo filmed with the move a camera operator would choose for it (push in toward the subject,
pan along the horizon toward its detail, tilt up a tower, hold still on a flat image): see
kinograph/plugins/learned/bootstrap.py. Then train on them exactly as on footage:

    .venv/bin/kinograph train FOLDER --out kinograph/plugins/learned/checkpoints/action_lstm_resnet18.safetensors \\
        --weights none --features-seed 0 --epochs 80 --seed 0

The default (100 videos x 8 shots, 384x216 at 24 fps, ~4.25 s a shot) takes about 4 minutes on
two CPU cores and ~60 MB of disk.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kinograph.plugins.learned.bootstrap import make_bootstrap_clips

DEFAULT_OUT = Path("bootstrap-clips")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the videos (default {DEFAULT_OUT})")
    parser.add_argument("--videos", type=int, default=100, help="videos to render (default 100)")
    parser.add_argument("--shots", type=int, default=8, help="shots per video (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="photo set (another seed never shares a photo; default 0)")
    args = parser.parse_args()
    began = time.perf_counter()

    def report(done: int, total: int) -> None:
        print(f"\r{done}/{total} videos  {time.perf_counter() - began:.0f} s", end="", file=sys.stderr, flush=True)

    paths = make_bootstrap_clips(args.out, args.videos, args.shots, args.seed, progress=report)
    size = sum(p.stat().st_size for p in paths) / 1e6
    print(f"\nwrote {len(paths)} videos ({size:.1f} MB) to {args.out} in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
