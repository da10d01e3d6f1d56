"""Batch runs: one graph over many inputs, on this machine or on a Ray cluster.

A layer beside the CLI and the editor: it uses the host API (:mod:`kinograph.host`) only::

    from kinograph.batch import Batch

    batch = Batch(
        "graphs/image_to_video.json",
        over={"load.path": "photos/*.jpg"},
        out={"write.path": "out/{stem}.mp4"},
        params={"animate.width": 640},
    )
    result = batch.run(workers=2, retries=1)
    for job in result.failed:
        print(job.job.label, job.error)

``run_batch(graph, over, out, params, **run_options)`` does both in one call.
"""

from __future__ import annotations

from kinograph.batch.batch import Batch, BatchResult, JobResult, run_batch
from kinograph.batch.events import BatchEvent
from kinograph.batch.jobs import Job, Out, Over

__all__ = ["Batch", "BatchEvent", "BatchResult", "Job", "JobResult", "Out", "Over", "run_batch"]
