"""Framework overhead: the image-to-video example through kinograph versus the same node
implementations called by hand in the same order (no graph, scheduler, validation, stream
wrapping, events or caching). Target: time ratio at most 1.05.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GRAPH = Path(__file__).resolve().parent.parent / "graphs" / "image_to_video.json"
SIZE = {"width": 640, "height": 360}


def plain(graph: Any, out: str) -> float:
    """Run each node's implementation directly, feeding outputs to inputs by hand."""
    from kinograph.api import RunContext
    from kinograph.host import get_registry, resolve_param_paths

    registry = get_registry()

    def make(node_id: str) -> Any:
        node = graph.nodes[node_id]
        cls = registry.node(node.type)
        params = cls.Params.model_validate(node.params)
        resolve_param_paths(params, graph.base_dir)
        if node_id == "write":
            params.path = out
        return cls(params), RunContext(node_id, device="cpu")

    started = time.perf_counter()
    node, ctx = make("load")
    image = node.run(ctx)["image"]
    node, ctx = make("features")
    features = node.run(ctx, image=image)["features"]
    node, ctx = make("motion")
    motion = node.run(ctx, features=features)["motion"]
    node, ctx = make("animate")
    frames = node.run(ctx, image=image, motion=motion)["frames"]
    node, ctx = make("interpolate")
    frames = node.run(ctx, frames=frames)["frames"]
    node, ctx = make("write")
    node.run(ctx, frames=frames)
    return time.perf_counter() - started


def through_kinograph(graph: Any, out: str) -> float:
    from kinograph.host import RunOptions, Session

    graph.set_param("write", "path", out)
    started = time.perf_counter()
    result = Session(graph.registry).run(graph, RunOptions(device="cpu", use_cache=False))
    elapsed = time.perf_counter() - started
    assert result.ok, result.failures
    return elapsed


def run(repeats: int = 3) -> dict[str, Any]:
    from kinograph.host import Graph

    with tempfile.TemporaryDirectory() as folder:
        os.environ["KINOGRAPH_HOME"] = folder
        graph = Graph.load(GRAPH)
        for name, value in SIZE.items():
            graph.set_param("animate", name, value)
        out = str(Path(folder) / "out.mp4")
        plain(graph, out)  # warm up: imports, model load into the store
        plain_times, graph_times = [], []
        for _ in range(repeats):  # interleaved, so drift on a noisy machine hits both
            plain_times.append(plain(graph, out))
            graph_times.append(through_kinograph(graph, out))
    p, k = statistics.median(plain_times), statistics.median(graph_times)
    return {"plain_s": round(p, 3), "kinograph_s": round(k, 3), "ratio": round(k / p, 3), "target_ratio": 1.05}


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<14} {value}")
