"""Benchmark: Interpolate frames at 720p on the CPU, per method, backend and DIS preset.

Prints output frames per second of the node (factor 2, frames streamed through it) and each
row's speed relative to `blend`, all measured in this run. Usage:

    .venv/bin/python benchmarks/interpolation.py [--frames 5] [--size 1280x720] [--presets ...] [--device cuda]

Stays well under two minutes on a 2-core machine with the defaults.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import cv2
import numpy as np

from kinograph.api import FrameStream
from kinograph.testing import PluginHarness


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A photo-like RGB image: gradients, soft-edged shapes and grain."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        a, b, phase = rng.uniform(0.5, 3.0, 3)
        img[..., c] = 110 + 60 * np.sin(xs / width * a * 3 + phase) * np.cos(ys / height * b * 3 + c)
    for _ in range(80):
        color = rng.uniform(0, 255, 3).tolist()
        cx, cy, r = (
            int(rng.uniform(0, width)),
            int(rng.uniform(0, height)),
            int(rng.uniform(width / 40, width / 8)),
        )
        cv2.circle(img, (cx, cy), r, color, -1, cv2.LINE_AA)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.2)
    img += (grain / grain.std() * 20)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def frames_of(canvas: np.ndarray, count: int, width: int, height: int) -> Any:
    """A camera panning 12 px and zooming 1% per frame over ``canvas``, made frame by frame."""
    ch, cw = canvas.shape[:2]
    for k in range(count):
        m = cv2.getRotationMatrix2D((cw / 2, ch / 2), 0.3 * k, 1.0 + 0.01 * k)
        m[0, 2] += 12 * k - (cw - width) / 2
        m[1, 2] += 4 * k - (ch - height) / 2
        yield cv2.warpAffine(
            canvas, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )


def measure(
    harness: PluginHarness,
    canvas: np.ndarray,
    count: int,
    width: int,
    height: int,
    device: str = "cpu",
    **params: Any,
) -> float:
    """Output frames per second of one node run (frames pulled through to the end)."""
    source = list(frames_of(canvas, count, width, height))  # made before timing starts
    stream = FrameStream.from_frames(iter(source), fps=24.0, width=width, height=height, frame_count=count)
    started = time.perf_counter()
    out = harness.run_node(
        "kinograph.frames.interpolate", {"factor": 2, **params}, device=device, frames=stream
    )["frames"]
    made = sum(chunk.count for chunk in out)
    return made / (time.perf_counter() - started)


def flow_seconds(canvas: np.ndarray, width: int, height: int, preset: str) -> float:
    """Seconds for the forward + backward DIS flow of one 720p pair."""
    from kinograph.plugins.interpolation.flow import FlowEstimator

    first, second = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames_of(canvas, 2, width, height))
    estimator = FlowEstimator(preset)
    estimator.pair(first, second)
    started = time.perf_counter()
    estimator.pair(first, second)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5, help="input frames per run (output: twice as many)")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--presets", nargs="+", default=["ultrafast", "medium"])
    parser.add_argument("--device", default="cpu", help="device of the torch backend (e.g. cuda)")
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads for torch and OpenCV (0: their defaults)"
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    import torch

    if args.threads:
        # on a shared machine one thread each gives steadier numbers than spinning thread pools
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    harness = PluginHarness()
    canvas = photo(width + 256, height + 256)
    measure(harness, canvas, 2, 64 * 4, 64 * 3)  # warm-up: imports

    rows: list[tuple[str, float]] = [
        ("blend", measure(harness, canvas, args.frames, width, height, method="blend"))
    ]
    for preset in args.presets:
        for backend in ("opencv", "torch"):
            fps = measure(
                harness,
                canvas,
                args.frames,
                width,
                height,
                args.device,
                method="flow",
                backend=backend,
                preset=preset,
            )
            rows.append((f"flow {backend:6s} {preset}", fps))
    blend_fps = rows[0][1]
    print(
        f"Interpolate frames, {width}x{height}, factor 2, {args.frames} input frames, torch on {args.device} "
        f"({torch.get_num_threads()} torch threads, {cv2.getNumThreads()} OpenCV threads)"
    )
    print(f"{'method':28s} {'out frames/s':>12s} {'vs blend':>9s}")
    for name, fps in rows:
        print(f"{name:28s} {fps:12.2f} {fps / blend_fps:9.3f}")
    print()
    print(f"{'DIS preset':12s} {'fwd+bwd flow s':>15s}")
    for preset in ("ultrafast", "fast", "medium"):
        print(f"{preset:12s} {flow_seconds(canvas, width, height, preset):15.3f}")
    opencv_rows = {name.split()[-1]: fps for name, fps in rows if "opencv" in name}
    torch_rows = {name.split()[-1]: fps for name, fps in rows if "torch" in name}
    for preset in opencv_rows:
        print(f"torch / opencv speed ({preset}): {torch_rows[preset] / opencv_rows[preset]:.3f}")


if __name__ == "__main__":
    main()
