"""Benchmark: Interpolate frames at 720p on the CPU, per method, backend and DIS preset.

Prints output frames per second of the node (factor 2, frames streamed through it), each row's
speed relative to `blend` (all measured in this run) and the PSNR of its in-between frames
against the true ones (the camera rendered half-way), so speed and quality read together.
Usage:

    .venv/bin/python benchmarks/interpolation.py [--frames 5] [--size 1280x720] [--presets ...] [--device cuda]

`run()` (for benchmarks/run_all.py) measures the defaults and returns the numbers. Stays well
under two minutes on a 2-core machine with the defaults.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import cv2
import numpy as np

from kinograph.api import FrameStream
from kinograph.testing import PluginHarness

PRESETS = ["ultrafast", "fast", "medium"]


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


def view(canvas: np.ndarray, position: float, width: int, height: int) -> np.ndarray:
    """The camera at ``position`` (frames): pans 12 px and 4 px, zooms 1% and turns 0.3° per frame."""
    ch, cw = canvas.shape[:2]
    m = cv2.getRotationMatrix2D((cw / 2, ch / 2), 0.3 * position, 1.0 + 0.01 * position)
    m[0, 2] += 12 * position - (cw - width) / 2
    m[1, 2] += 4 * position - (ch - height) / 2
    return cv2.warpAffine(canvas, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def frames_of(canvas: np.ndarray, count: int, width: int, height: int) -> Any:
    """``count`` frames of the camera move, made frame by frame."""
    for k in range(count):
        yield view(canvas, k, width, height)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB on the central 90% (the camera's reflected borders are guesses for any method)."""
    h, w = a.shape[:2]
    mh, mw = round(h * 0.05), round(w * 0.05)
    diff = a[mh : h - mh, mw : w - mw].astype(np.float64) - b[mh : h - mh, mw : w - mw]
    return 10 * np.log10(255.0**2 / max(float((diff**2).mean()), 1e-10))


def measure(
    harness: PluginHarness,
    canvas: np.ndarray,
    count: int,
    width: int,
    height: int,
    device: str = "cpu",
    **params: Any,
) -> tuple[float, float]:
    """(output frames per second of one node run, mean PSNR of its in-between frames in dB)."""
    source = list(frames_of(canvas, count, width, height))  # made before timing starts
    stream = FrameStream.from_frames(iter(source), fps=24.0, width=width, height=height, frame_count=count)
    started = time.perf_counter()
    out = harness.run_node(
        "kinograph.frames.interpolate", {"factor": 2, **params}, device=device, frames=stream
    )["frames"]
    made = [chunk.pixels for chunk in out]
    seconds = time.perf_counter() - started
    frames = np.concatenate(made)
    between = range(1, 2 * (count - 1), 2)  # output 2k + 1 shows the camera at k + 0.5
    quality = float(np.mean([psnr(frames[j], view(canvas, j / 2, width, height)) for j in between]))
    return frames.shape[0] / seconds, quality


def flow_seconds(canvas: np.ndarray, width: int, height: int, preset: str) -> float:
    """Seconds for the forward + backward DIS flow of one pair (occlusions filled), best of 3."""
    from kinograph.plugins.interpolation.flow import FlowEstimator

    estimator = FlowEstimator(preset, height, width)
    first, second = (estimator.gray(f) for f in frames_of(canvas, 2, width, height))
    estimator.pair(first, second)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        estimator.pair(first, second)
        best = min(best, time.perf_counter() - started)
    return best


def measure_all(
    frames: int = 5,
    size: tuple[int, int] = (1280, 720),
    presets: list[str] | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Every row of the table: ``{"rows": [(name, frames/s, psnr)], "dis": {preset: s}, ...}``."""
    import torch

    width, height = size
    harness = PluginHarness()
    canvas = photo(width + 256, height + 256)
    measure(harness, canvas, 2, 64 * 4, 64 * 3)  # warm-up: imports
    measure(harness, canvas, 2, 64 * 4, 64 * 3, method="flow", backend="torch")
    rows: list[tuple[str, float, float]] = [
        ("blend", *measure(harness, canvas, frames, width, height, method="blend"))
    ]
    for preset in presets or PRESETS:
        for backend in ("opencv", "torch"):
            fps, quality = measure(
                harness, canvas, frames, width, height, device, method="flow", backend=backend, preset=preset
            )
            rows.append((f"flow {backend} {preset}", fps, quality))
    dis = {preset: flow_seconds(canvas, width, height, preset) for preset in PRESETS}
    return {
        "rows": rows,
        "dis": dis,
        "torch_threads": torch.get_num_threads(),
        "opencv_threads": cv2.getNumThreads(),
    }


def run() -> dict[str, Any]:
    """The defaults, as flat numbers for benchmarks/run_all.py."""
    measured = measure_all()
    results: dict[str, Any] = {}
    blend_fps = measured["rows"][0][1]
    for name, fps, quality in measured["rows"]:
        key = name.replace(" ", "_")
        results[f"{key}_720p_frames_per_s"] = round(fps, 2)
        results[f"{key}_720p_psnr_db"] = round(quality, 1)
        if name != "blend":
            results[f"{key}_vs_blend"] = round(fps / blend_fps, 3)
    for preset, seconds in measured["dis"].items():
        results[f"dis_{preset}_720p_pair_s"] = round(seconds, 3)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5, help="input frames per run (output: twice as many)")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--presets", nargs="+", default=PRESETS, choices=PRESETS)
    parser.add_argument("--device", default="cpu", help="device of the torch backend (e.g. cuda)")
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads for torch and OpenCV (0: their defaults)"
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.threads:
        import torch

        # on a shared machine one thread each gives steadier numbers than spinning thread pools
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    measured = measure_all(args.frames, (width, height), args.presets, args.device)
    rows = measured["rows"]
    blend_fps = rows[0][1]
    print(
        f"Interpolate frames, {width}x{height}, factor 2, {args.frames} input frames, torch on {args.device} "
        f"({measured['torch_threads']} torch threads, {measured['opencv_threads']} OpenCV threads)"
    )
    print(f"{'method':24s} {'out frames/s':>12s} {'vs blend':>9s} {'PSNR dB':>8s}")
    for name, fps, quality in rows:
        print(f"{name:24s} {fps:12.2f} {fps / blend_fps:9.3f} {quality:8.1f}")
    print()
    print(f"{'DIS preset':12s} {'fwd+bwd flow s':>15s}")
    for preset, seconds in measured["dis"].items():
        print(f"{preset:12s} {seconds:15.3f}")
    speeds = {name: fps for name, fps, _ in rows}
    for preset in args.presets:
        ratio = speeds[f"flow torch {preset}"] / speeds[f"flow opencv {preset}"]
        print(f"torch / opencv speed ({preset}): {ratio:.3f}")


if __name__ == "__main__":
    main()
