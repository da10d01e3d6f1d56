"""Batch throughput: jobs per minute with 1 and 2 local workers, and Ray's per-job overhead.

    .venv/bin/python -m benchmarks.batch            # or: python -m benchmarks.run_all batch

1. The image-to-video graph (ResNet features -> LSTM -> animate -> interpolate x2 -> H.264) at
   small size over generated photos, with 1 and then 2 local workers. Reported end to end (worker
   start-up and the first job's imports included) and steady (after each worker's first job).
2. Per-job overhead of the Ray engine against the local one: a near-empty job (a 2-frame 64x48
   clip) run many times by one worker of each engine; the difference of the steady time per job
   is what dispatching through Ray costs. Ray's own start-up is reported apart.

Each figure is measured in one run, on this machine, so ratios hold on a noisy machine.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = 24
SIZE = (480, 270)
TINY_JOBS = 60


def _photos(folder: Path, count: int, size: tuple[int, int]) -> Path:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    for i in range(count):
        rng = np.random.default_rng(i)
        base = np.stack([(x * (i + 1)) % 256, (y * 3 + 17 * i) % 256, (x + y + 40 * i) % 256], axis=-1)
        noise = rng.integers(0, 40, (height, width, 3))
        Image.fromarray(np.clip(base + noise, 0, 255).astype("uint8")).save(folder / f"photo_{i:03d}.png")
    return folder


def _learned_graph(folder: Path, photo: Path) -> tuple[Path, str]:
    data = json.loads((ROOT / "graphs" / "image_to_video.json").read_text())
    nodes = data["nodes"]
    nodes["load"]["params"]["path"] = str(photo)
    nodes["features"]["params"]["input_size"] = 128
    nodes["motion"]["params"]["steps"] = 24
    nodes["animate"]["params"].update(width=SIZE[0], height=SIZE[1])
    nodes["interpolate"]["params"]["factor"] = 2
    nodes["write"]["params"]["preset"] = "veryfast"
    path = folder / "image_to_video_small.json"
    path.write_text(json.dumps(data))
    note = "default LSTM checkpoint"
    from kinograph.host import GraphError, load_graph, validate_graph

    try:
        problems = validate_graph(load_graph(path))
    except GraphError as exc:
        problems = exc.problems
    problems = [p for p in problems if p.where.startswith("nodes.motion")]
    if problems:  # the shipped checkpoint may not fit this build: time the same work untrained
        nodes["motion"]["params"]["checkpoint"] = ""
        path.write_text(json.dumps(data))
        note = f"untrained LSTM ({problems[0]})"
    return path, note


def _tiny_graph(folder: Path) -> Path:
    data = json.loads((ROOT / "graphs" / "camera_move.json").read_text())
    data["nodes"]["path"]["params"]["steps"] = 2
    data["nodes"]["animate"]["params"].update(width=64, height=48)
    data["nodes"]["write"]["params"]["preset"] = "ultrafast"
    path = folder / "tiny.json"
    path.write_text(json.dumps(data))
    return path


def _timed_batch(graph: Path, photos: Path, out: Path, **options: Any) -> dict[str, Any]:
    from kinograph.batch import BatchEvent, run_batch

    finished: list[float] = []

    def on_event(event: BatchEvent) -> None:
        if event.kind == "job_finished":
            finished.append(time.perf_counter())

    started = time.perf_counter()
    result = run_batch(graph, {"load.path": str(photos)}, {"write.path": str(out / "{stem}.mp4")},
                       resume=False, retries=0, subscribers=[on_event], **options)
    total = time.perf_counter() - started
    if result.failed:
        raise RuntimeError(f"{result.failed[0].job.label}: {result.failed[0].error}")
    workers = result.workers
    # steady: after every worker finished its first job (start-up and first imports are behind)
    steady_jobs = len(finished) - workers
    steady = finished[-1] - finished[workers - 1] if steady_jobs > 0 else float("nan")
    gaps = [b - a for a, b in zip(finished[workers - 1 :], finished[workers:], strict=False)]
    return {
        "jobs": len(finished),
        "workers": workers,
        "seconds": round(total, 2),
        "jobs_per_minute": round(60 * len(finished) / total, 1),
        "steady_jobs_per_minute": round(60 * steady_jobs / steady, 1) if steady_jobs > 0 else None,
        "steady_seconds_per_job": round(steady / steady_jobs, 4) if steady_jobs > 0 else None,
        "median_job_seconds": round(statistics.median(r.seconds for r in result.jobs), 3),
        # one worker: the median time between two finished jobs is the per-job turnaround
        "median_gap_seconds": round(statistics.median(gaps), 4) if gaps else None,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        os.environ["KINOGRAPH_HOME"] = str(root / "home")
        photos = _photos(root / "photos", PHOTOS, SIZE)
        graph, note = _learned_graph(root, photos / "photo_000.png")
        # interleaved and the better of two rounds each: other processes on a small machine
        # slow one round or another; the better round is the closer to what the engine can do
        rounds = [(_timed_batch(graph, photos, root / f"out1_{i}", workers=1, device="cpu"),
                   _timed_batch(graph, photos, root / f"out2_{i}", workers=2, device="cpu")) for i in range(2)]
        one = max((r[0] for r in rounds), key=lambda r: r["jobs_per_minute"])
        two = max((r[1] for r in rounds), key=lambda r: r["jobs_per_minute"])

        tiny = _tiny_graph(root)
        tiny_photos = _photos(root / "tiny_photos", TINY_JOBS, (64, 48))
        local = _timed_batch(tiny, tiny_photos, root / "tiny_local", workers=1, device="cpu")
        import ray

        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        try:
            on_ray = _timed_batch(tiny, tiny_photos, root / "tiny_ray", workers=1, device="cpu", engine="ray")
        finally:
            ray.shutdown()
    # What an engine adds to a job: the turnaround between two jobs minus the job's own run time
    # in the worker (graph load, scheduler, encode, output hash). Compute differences between the
    # two kinds of worker process (thread settings) are left out this way.
    local_extra = local["median_gap_seconds"] - local["median_job_seconds"]
    ray_extra = on_ray["median_gap_seconds"] - on_ray["median_job_seconds"]
    return {
        "graph": f"image_to_video at {SIZE[0]}x{SIZE[1]}, 24 keyframes, x2 flow interpolation (48 frames); {note}",
        "load average at start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "photos": PHOTOS,
        "local 1 worker: jobs/min end to end (steady)": f"{one['jobs_per_minute']} ({one['steady_jobs_per_minute']})",
        "local 2 workers: jobs/min end to end (steady)": f"{two['jobs_per_minute']} ({two['steady_jobs_per_minute']})",
        "2 workers / 1 worker, end to end (steady)": (
            f"{two['jobs_per_minute'] / one['jobs_per_minute']:.2f} "
            f"({(two['steady_jobs_per_minute'] or 0) / (one['steady_jobs_per_minute'] or 1):.2f})"
        ),
        "median job seconds, 1 / 2 workers": f"{one['median_job_seconds']} / {two['median_job_seconds']}",
        "near-empty job, local 1 worker: s/job turnaround / in worker": f"{local['median_gap_seconds']} / {local['median_job_seconds']}",
        "near-empty job, ray 1 actor: s/job turnaround / in worker": f"{on_ray['median_gap_seconds']} / {on_ray['median_job_seconds']}",
        "engine overhead per job, local / ray (ms)": f"{1000 * local_extra:.1f} / {1000 * ray_extra:.1f}",
        "ray per-job overhead vs local (ms)": round(1000 * (ray_extra - local_extra), 1),
        "ray start (ray.init, 2 CPUs) s": round(ray_start, 2),
        f"ray batch end to end s ({TINY_JOBS} jobs, actor start included)": on_ray["seconds"],
        f"local batch end to end s ({TINY_JOBS} jobs, worker start included)": local["seconds"],
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<58} {value}")
