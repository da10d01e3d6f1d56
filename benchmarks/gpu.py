"""GPU throughput (only when CUDA is present): ResNet-50 features through the node versus a raw
torch loop with the same batch size and precision, and flow interpolation frames/s at 1080p.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH, IMAGES = 32, 256


def run() -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device on this machine"}
    import numpy as np
    import torchvision

    from kinograph.api import RunContext
    from kinograph.host import get_registry

    registry = get_registry()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(IMAGES, 224, 224, 3), dtype=np.uint8)
    results: dict[str, Any] = {"gpu": torch.cuda.get_device_name(0)}

    cls = registry.node("kinograph.features.resnet")
    node = cls(cls.Params.model_validate({"arch": "resnet50", "weights": "none", "batch_size": BATCH}))
    ctx = RunContext("features", device="cuda")
    node.run(ctx, images=images[:BATCH])  # warm up and load into the model store
    torch.cuda.synchronize()
    started = time.perf_counter()
    node.run(ctx, images=images)
    torch.cuda.synchronize()
    results["resnet50_node_images_per_s"] = round(IMAGES / (time.perf_counter() - started), 1)

    model = torchvision.models.resnet50().cuda().eval().to(memory_format=torch.channels_last)
    mean = torch.tensor([0.485, 0.456, 0.406], device="cuda").view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device="cuda").view(1, 3, 1, 1)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
        torch.cuda.synchronize()
        started = time.perf_counter()
        for i in range(0, IMAGES, BATCH):
            x = torch.from_numpy(images[i : i + BATCH]).cuda().permute(0, 3, 1, 2).float().div(255)
            x = ((x - mean) / std).contiguous(memory_format=torch.channels_last)
            model(x)
        torch.cuda.synchronize()
    results["resnet50_raw_images_per_s"] = round(IMAGES / (time.perf_counter() - started), 1)
    results["node_vs_raw_ratio"] = round(results["resnet50_node_images_per_s"] / results["resnet50_raw_images_per_s"], 3)

    from kinograph.host import Graph, RunOptions, Session

    graph = Graph(registry)
    graph.add_node("kinograph.frames.test_pattern", "src", {"width": 1920, "height": 1080, "frames": 60})
    graph.add_node("kinograph.frames.interpolate", "interpolate", {"factor": 2, "method": "flow", "backend": "torch"})
    graph.connect("src.frames", "interpolate.frames")
    started = time.perf_counter()
    result = Session(registry).run(graph, RunOptions(device="cuda", use_cache=False, targets=["interpolate"]))
    assert result.ok, result.failures
    results["flow_1080p_output_frames_per_s"] = round(120 / (time.perf_counter() - started), 1)
    return results


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<34} {value}")
