"""Make the default LSTM action generator checkpoint shipped with kinograph (reproducible, < 60 s on a CPU).

    .venv/bin/python scripts/make_default_checkpoint.py [--out PATH]

It fits a small generator (hidden 32, 1 layer) to synthetic eased camera paths that depend on
resnet18-sized (512) features; see kinograph/plugins/learned/train.py.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from kinograph.plugins.learned.train import fit_action_generator, synthetic_dataset

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "kinograph/plugins/learned/checkpoints/action_lstm_resnet18.safetensors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(2)
    began = time.perf_counter()
    features, targets = synthetic_dataset(512, samples=2048, steps=32, seed=0)

    def log(epoch: int, loss: float) -> None:
        if epoch % 4 == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch:4d}  loss {loss:.5f}")

    result = fit_action_generator(
        features, targets, extractor="resnet18", hidden_size=32, layers=1, epochs=args.epochs, batch_size=128, seed=0, log=log
    )
    result.metadata["trained_on"] = "synthetic eased camera paths (scripts/make_default_checkpoint.py)"
    path = result.save(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1024:.1f} KiB) in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
