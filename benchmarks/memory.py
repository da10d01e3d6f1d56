"""Memory on long videos: interpolate x2 and encode a synthetic 720p stream of 300, 1,000 and
3,000 frames, each in a fresh process with the CLI defaults (``--device auto``); peak RSS of
each (target: 3,000 within 10% of 300, and under 1 GB), beside what the frames would take as one float32 tensor (ComfyUI's layout).

Interpolation uses ``blend`` here: ``flow`` at 720p on this 2-core CPU would take over 10
minutes for the 3,000-frame run. Set KINOGRAPH_BENCH_METHOD=flow to measure flow instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1280, 720
CHILD = r"""
import json, sys, time
from kinograph.host import Graph, RunOptions, Session
frames, method, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
g = Graph()
g.add_node("kinograph.frames.test_pattern", "src", {"width": WIDTH, "height": HEIGHT, "frames": frames, "fps": 24, "chunk": 8})
g.add_node("kinograph.frames.interpolate", "interpolate", {"factor": 2, "method": method, "preset": "ultrafast"})
g.add_node("kinograph.video.write", "write", {"path": out, "preset": "ultrafast", "crf": 28})
g.connect("src.frames", "interpolate.frames")
g.connect("interpolate.frames", "write.frames")
started = time.perf_counter()
result = Session().run(g, RunOptions(device="auto", use_cache=False))  # what a CLI user gets
assert result.ok, result.failures
# VmHWM is this process's own peak; ru_maxrss would include the parent's RSS at fork time.
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": time.perf_counter() - started, "peak_rss_mb": hwm_kb / 1024}))
""".replace("WIDTH", str(WIDTH)).replace("HEIGHT", str(HEIGHT))


def measure(frames: int, method: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "out.mp4")
        proc = subprocess.run([sys.executable, "-c", CHILD, str(frames), method, out],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "KINOGRAPH_HOME": folder})
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        return json.loads(proc.stdout.strip().splitlines()[-1])


def run(sizes: tuple[int, ...] = (300, 1000, 3000)) -> dict[str, Any]:
    method = os.environ.get("KINOGRAPH_BENCH_METHOD", "blend")
    results: dict[str, Any] = {"method": method, "size": f"{WIDTH}x{HEIGHT}"}
    for frames in sizes:
        measured = measure(frames, method)
        results[f"frames_{frames}_peak_rss_mb"] = round(measured["peak_rss_mb"], 1)
        results[f"frames_{frames}_seconds"] = round(measured["seconds"], 1)
        # ComfyUI-style: every output frame as float32 [N, H, W, 3] in one tensor
        results[f"frames_{frames}_float32_tensor_mb"] = round(2 * frames * WIDTH * HEIGHT * 3 * 4 / 2**20, 1)
    first, last = sizes[0], sizes[-1]
    results["peak_ratio_longest_vs_shortest"] = round(
        results[f"frames_{last}_peak_rss_mb"] / results[f"frames_{first}_peak_rss_mb"], 3
    )
    results["targets"] = "ratio <= 1.10 and peak < 1024 MB"
    return results


if __name__ == "__main__":
    sizes = tuple(int(s) for s in sys.argv[1:]) or (300, 1000, 3000)
    for key, value in run(sizes).items():
        print(f"{key:<36} {value}")
