"""Batch runs: planning, the local and Ray engines, crashes, time-outs, resume and Ctrl+C.

Real worker processes (spawn), a real Ray (2 CPUs, never local_mode), real PyAV encodes and
decodes of tiny 64x48 clips made from generated photos.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from kinograph.batch import Batch, BatchEvent, run_batch
from kinograph.cli.main import main
from kinograph.host import GraphError, KinographError

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 64, 48


# -- helpers ------------------------------------------------------------------------------------


def make_photos(folder: Path, count: int, corrupt: str | None = None) -> list[Path]:
    """``count`` small photos with different content (p1.png...), and a corrupt one if named."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        pixels = (np.random.default_rng(i).random((HEIGHT, WIDTH, 3)) * 255).astype("uint8")
        path = folder / f"p{i + 1}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    if corrupt:
        (folder / corrupt).write_bytes(b"\x89PNG\r\n\x1a\n but the rest is not an image")
    return paths


def camera_graph(path: Path, frames: int = 6, fps: float = 12.0) -> Path:
    """The camera-move example at 64x48 with ``frames`` frames: no model at all."""
    data = json.loads((ROOT / "graphs" / "camera_move.json").read_text())
    data["nodes"]["path"]["params"]["steps"] = frames
    data["nodes"]["animate"]["params"].update(width=WIDTH, height=HEIGHT, fps=fps)
    data["nodes"]["write"]["params"].update(preset="ultrafast")
    path.write_text(json.dumps(data, indent=1))
    return path


def learned_graph(path: Path) -> Path:
    """The image-to-video example (ResNet features -> LSTM -> animate -> interpolate) at tiny size."""
    data = json.loads((ROOT / "graphs" / "image_to_video.json").read_text())
    nodes = data["nodes"]
    nodes["features"]["params"]["input_size"] = 64
    nodes["motion"]["params"].update(steps=4, checkpoint="")  # untrained LSTM: no checkpoint file needed
    nodes["animate"]["params"].update(width=WIDTH, height=HEIGHT)
    nodes["interpolate"]["params"]["factor"] = 2
    nodes["write"]["params"]["preset"] = "ultrafast"
    path.write_text(json.dumps(data, indent=1))
    return path


def decode(path: Path) -> tuple[int, int, int]:
    """(frames, width, height) of a video, decoded with PyAV."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames, stream.codec_context.width, stream.codec_context.height


def leftovers(folder: Path) -> list[str]:
    """Temporary files of an output node (``.name.partial-PID...``) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name) if folder.exists() else []


class Events:
    """Collects batch events (a subscriber)."""

    def __init__(self) -> None:
        self.items: list[BatchEvent] = []

    def __call__(self, event: BatchEvent) -> None:
        self.items.append(event)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e.data for e in self.items if e.kind == kind]


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# -- planning: no worker starts -----------------------------------------------------------------


def test_a_folder_gives_its_files_in_natural_order_with_template_fields(tmp_path: Path) -> None:
    photos = tmp_path / "shots" / "day1"
    make_photos(photos, 3)
    (photos / "p10.png").write_bytes((photos / "p1.png").read_bytes())
    graph = camera_graph(tmp_path / "g.json")
    batch = Batch(graph, over={"load.path": str(photos)}, out={"write.path": str(tmp_path / "out/{parent}/{index:05d}_{stem}.mp4")})
    assert [Path(j.inputs["load.path"]).name for j in batch.jobs] == ["p1.png", "p2.png", "p3.png", "p10.png"]
    assert [Path(j.targets["write.path"]).relative_to(tmp_path).as_posix() for j in batch.jobs] == [
        "out/day1/00000_p1.mp4", "out/day1/00001_p2.mp4", "out/day1/00002_p3.mp4", "out/day1/00003_p10.mp4",
    ]
    assert batch.manifest.path == tmp_path / "out" / "day1" / ".kinograph-batch.jsonl"


def test_lists_and_csv_columns_zip_and_resolve_against_their_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    make_photos(data / "img", 2)
    (data / "list.txt").write_text("# photos\nimg/p1.png\n\nimg/p2.png\n")
    (data / "table.csv").write_text("file,crf\nimg/p1.png,20\nimg/p2.png,30\n")
    graph = camera_graph(tmp_path / "g.json")
    monkeypatch.chdir(tmp_path)
    batch = Batch(graph, over={"load.path": "@data/list.txt", "write.crf": "@data/table.csv:crf"},
                  out={"write.path": "out/{stem}.mp4"})
    assert [j.inputs for j in batch.jobs] == [
        {"load.path": str(data / "img" / "p1.png"), "write.crf": 20},
        {"load.path": str(data / "img" / "p2.png"), "write.crf": 30},
    ]
    assert batch.jobs[1].targets == {"write.path": str(tmp_path / "out" / "p2.mp4")}
    with pytest.raises(GraphError, match="no column 'seed'"):
        Batch(graph, over={"load.path": "@data/table.csv:seed"}, out={"write.path": "out/{stem}.mp4"})
    with pytest.raises(GraphError, match="same number of values"):
        Batch(graph, over={"load.path": "@data/list.txt", "write.crf": [18, 20, 22]}, out={"write.path": "out/{stem}.mp4"})
    with pytest.raises(GraphError, match=r"value 2.*write\.crf|write\.crf.*value 2"):
        Batch(graph, over={"load.path": "@data/list.txt", "write.crf": ["20", "lots"]}, out={"write.path": "out/{stem}.mp4"})


def test_two_jobs_writing_one_path_are_refused_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_photos(tmp_path / "a", 2)
    make_photos(tmp_path / "b", 2)
    graph = camera_graph(tmp_path / "g.json")
    code = main(["batch", str(graph), "--over", f"load.path={tmp_path}/*/p*.png",
                 "--out", f"write.path={tmp_path}/out/{{stem}}.mp4"])
    err = capsys.readouterr().err
    assert code == 2
    assert "would both write" in err and "p1.mp4" in err and "{parent}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing ran, no manifest either
    # without --out every job would write the graph's own fixed path
    code = main(["batch", str(graph), "--over", f"load.path={tmp_path}/a"])
    assert code == 2 and "would both write" in capsys.readouterr().err
    code = main(["batch", str(graph), "--over", f"load.path={tmp_path}/a", "--out", "write.path=out/{size}.mp4"])
    assert code == 2 and "unknown field {size}" in capsys.readouterr().err


def test_dry_run_lists_jobs_and_targets_and_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_photos(tmp_path / "photos", 2)
    graph = camera_graph(tmp_path / "g.json")
    code = main(["batch", str(graph), "--over", f"load.path={tmp_path}/photos", "--out",
                 f"write.path={tmp_path}/out/{{stem}}.mp4", "--dry-run", "--events", "json"])
    out = capsys.readouterr().out
    assert code == 0
    planned = json_lines(out)
    assert [(p["action"], p["targets"]["write.path"]) for p in planned] == [
        ("run", str(tmp_path / "out" / "p1.mp4")), ("run", str(tmp_path / "out" / "p2.mp4")),
    ]
    assert not (tmp_path / "out").exists()


def test_a_node_inside_a_group_can_take_the_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kinograph.host import load_graph

    make_photos(tmp_path / "photos", 2)
    graph = load_graph(camera_graph(tmp_path / "g.json"))
    graph.group_nodes(["load"], "source")
    grouped = tmp_path / "grouped.json"
    graph.save(grouped)
    code = main(["batch", str(grouped), "--over", f"source/load.path={tmp_path}/photos", "--out",
                 f"write.path={tmp_path}/out/{{stem}}.mp4", "--dry-run", "--events", "json"])
    out = capsys.readouterr().out
    assert code == 0
    assert [p["targets"]["write.path"] for p in json_lines(out)] == [
        str(tmp_path / "out" / "p1.mp4"), str(tmp_path / "out" / "p2.mp4"),
    ]


# -- the local engine ---------------------------------------------------------------------------


def test_local_batch_renders_reports_the_corrupt_input_resumes_and_rerenders_an_edited_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "photos", 3, corrupt="p4.png")
    graph = camera_graph(tmp_path / "g.json", frames=6)
    out = tmp_path / "out"
    args = ["batch", str(graph), "--over", f"load.path={tmp_path}/photos", "--out", f"write.path={out}/{{stem}}.mp4",
            "--workers", "2", "--report", str(tmp_path / "report.json")]

    assert main(args) == 1  # one input failed
    err = capsys.readouterr().err
    assert "job 3 (p4.png) failed" in err and "cannot read image" in err and "Traceback" not in err
    for name in ("p1", "p2", "p3"):
        assert decode(out / f"{name}.mp4") == (6, WIDTH, HEIGHT)
    assert not (out / "p4.mp4").exists() and leftovers(out) == []
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["done"] == 3 and report["summary"]["failed"] == 1
    failed = [j for j in report["jobs"] if j["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["inputs"]["load.path"].endswith("p4.png")
    assert failed[0]["attempts"] == 2 and "cannot read image" in failed[0]["error"]  # retried once (default)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")}

    # a second invocation skips the finished inputs; the corrupt one is tried again
    assert main([*args, "--events", "json"]) == 1
    events = json_lines(capsys.readouterr().out)
    assert sorted(e["label"] for e in events if e["event"] == "job_skipped") == ["p1.png", "p2.png", "p3.png"]
    assert {e["label"] for e in events if e["event"] == "job_started"} == {"p4.png"}
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")} == stamps

    # an output that is no longer complete is rendered again (only that one)
    with open(out / "p2.mp4", "r+b") as handle:
        handle.truncate(100)
    assert main([*args, "--events", "json", "--retries", "0"]) == 1
    events = json_lines(capsys.readouterr().out)
    assert {e["label"] for e in events if e["event"] == "job_finished"} == {"p2.png"}
    assert decode(out / "p2.mp4") == (6, WIDTH, HEIGHT)

    # editing the graph file (not --set) renders every input again
    data = json.loads(graph.read_text())
    data["nodes"]["path"]["params"]["steps"] = 8
    graph.write_text(json.dumps(data))
    assert main([*args, "--events", "json", "--retries", "0"]) == 1
    events = json_lines(capsys.readouterr().out)
    assert sorted(e["label"] for e in events if e["event"] == "job_finished") == ["p1.png", "p2.png", "p3.png"]
    assert not [e for e in events if e["event"] == "job_skipped"]
    for name in ("p1", "p2", "p3"):
        assert decode(out / f"{name}.mp4") == (8, WIDTH, HEIGHT)


def test_a_worker_killed_mid_batch_has_its_job_retried_elsewhere(tmp_path: Path) -> None:
    make_photos(tmp_path / "photos", 4)
    graph = camera_graph(tmp_path / "g.json", frames=48)
    out = tmp_path / "out"
    events = Events()
    killed: list[tuple[int, int]] = []

    def kill_the_first_worker(event: BatchEvent) -> None:
        if event.kind == "job_started" and not killed:
            killed.append((event.data["job"], event.data["pid"]))
            os.kill(event.data["pid"], signal.SIGKILL)

    result = run_batch(graph, {"load.path": str(tmp_path / "photos")}, {"write.path": str(out / "{stem}.mp4")},
                       workers=2, retries=1, subscribers=[kill_the_first_worker, events])
    assert result.ok, [(r.job.label, r.error) for r in result.failed]
    job, pid = killed[0]
    again = result.jobs[job]
    assert again.status == "done" and again.attempts == 2
    assert again.tried_on[0] == pid and again.pid != pid
    lost = events.of("worker_lost")
    assert len(lost) == 1 and lost[0]["pid"] == pid and "SIGKILL" in lost[0]["reason"] and lost[0]["job"] == job
    for photo in range(1, 5):
        assert decode(out / f"p{photo}.mp4") == (48, WIDTH, HEIGHT)
    assert leftovers(out) == []


def test_a_hung_job_is_stopped_by_the_job_timeout_and_leaves_nothing_behind(tmp_path: Path) -> None:
    make_photos(tmp_path / "photos", 1)
    graph = camera_graph(tmp_path / "g.json", frames=100_000)  # minutes of work: stands for a hung job
    out = tmp_path / "out"
    started = time.monotonic()
    result = run_batch(graph, {"load.path": str(tmp_path / "photos")}, {"write.path": str(out / "{stem}.mp4")},
                       workers=1, retries=0, job_timeout=6)
    assert time.monotonic() - started < 60
    [job] = result.failed
    assert "timed out after 6 s" in job.error and job.attempts == 1
    assert not (out / "p1.mp4").exists()
    assert leftovers(out) == []  # the killed worker's temporary file was swept


def test_models_load_once_per_worker_not_once_per_job(tmp_path: Path) -> None:
    make_photos(tmp_path / "photos", 3)
    graph = learned_graph(tmp_path / "i2v.json")
    out = tmp_path / "out"
    result = run_batch(graph, {"load.path": str(tmp_path / "photos")}, {"write.path": str(out / "{stem}.mp4")},
                       workers=1, retries=0)
    assert result.ok, [(r.job.label, r.error) for r in result.failed]
    assert len({r.pid for r in result.jobs}) == 1  # one worker ran the three jobs
    loads = [r.model_loads for r in sorted(result.jobs, key=lambda r: r.job.index)]
    assert loads[0] >= 2  # ResNet and the LSTM, loaded by the first job...
    assert loads == [loads[0]] * 3  # ...and by no later one
    for photo in range(1, 4):
        frames, width, height = decode(out / f"p{photo}.mp4")
        assert (width, height) == (WIDTH, HEIGHT) and frames > 4


def _start_long_batch(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int], Path]:
    """A CLI batch of two endless jobs, returned once both workers have started their jobs."""
    make_photos(tmp_path / "photos", 3)
    graph = camera_graph(tmp_path / "g.json", frames=100_000)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kinograph", "batch", str(graph), "--over", f"load.path={tmp_path}/photos",
               "--out", f"write.path={out}/{{stem}}.mp4", "--workers", "2", "--events", "json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers: list[int] = []
    assert process.stdout is not None
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == "worker_started":
            workers.append(event["pid"])
        if event["event"] == "job_started" and len(workers) == 2:
            break
    time.sleep(2.0)  # let the jobs get into writing their files
    return process, workers, out


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _kill_all(process: subprocess.Popen[str], workers: list[int]) -> None:
    """Clean-up after a failed assertion: no render may outlive the test."""
    for pid in [process.pid, *workers]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.communicate()


def test_ctrl_c_stops_the_workers_exits_130_and_leaves_no_partial_output(tmp_path: Path) -> None:
    process, workers, out = _start_long_batch(tmp_path)
    try:
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        assert "cancelling" in err and "Traceback" not in err
        assert any(json.loads(line)["event"] == "batch_cancelled" for line in rest.splitlines())
        assert not list(out.glob("*.mp4")) and leftovers(out) == []
        assert all(_gone(pid, 5) for pid in workers)
    finally:
        _kill_all(process, workers)


def test_workers_of_a_killed_coordinator_stop_and_clean_up(tmp_path: Path) -> None:
    process, workers, out = _start_long_batch(tmp_path)
    try:
        process.kill()  # SIGKILL: the coordinator cannot tell its workers anything
        process.communicate(timeout=10)
        assert all(_gone(pid, 15) for pid in workers)
        assert not list(out.glob("*.mp4")) and leftovers(out) == []
    finally:
        _kill_all(process, workers)


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    make_photos(tmp_path / "photos", 1)
    graph = camera_graph(tmp_path / "g.json")
    batch = Batch(graph, {"load.path": str(tmp_path / "photos")}, {"write.path": str(tmp_path / "out/{stem}.mp4")})
    with pytest.raises(KinographError, match="--retries"):
        batch.run(retries=-1)
    with pytest.raises(KinographError, match="unknown engine"):
        batch.run(engine="dask")
    with pytest.raises(GraphError, match="not an output path"):
        Batch(graph, {"load.path": str(tmp_path / "photos")}, {"write.crf": "{index}"})


# -- the Ray engine -----------------------------------------------------------------------------


@pytest.fixture
def local_ray() -> Any:
    import ray  # the test extra installs it: never skipped

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_batch_runs_in_two_actor_processes_resumes_and_rerenders(tmp_path: Path, local_ray: Any) -> None:
    make_photos(tmp_path / "photos", 4, corrupt="p5.png")
    graph = camera_graph(tmp_path / "g.json", frames=24)
    out = tmp_path / "out"
    over, target = {"load.path": str(tmp_path / "photos")}, {"write.path": str(out / "{stem}.mp4")}

    result = run_batch(graph, over, target, engine="ray", workers=2, retries=0)
    assert result.engine == "ray" and result.workers == 2
    assert [r.job.label for r in result.failed] == ["p5.png"]
    assert "cannot read image" in result.failed[0].error
    for photo in range(1, 5):
        assert decode(out / f"p{photo}.mp4") == (24, WIDTH, HEIGHT)
    actor_pids = {r.pid for r in result.jobs if r.pid}
    assert len(actor_pids) >= 2 and os.getpid() not in actor_pids

    events = Events()
    again = run_batch(graph, over, target, engine="ray", workers=2, retries=0, subscribers=[events])
    assert sorted(r.job.label for r in again.skipped) == ["p1.png", "p2.png", "p3.png", "p4.png"]
    assert [e["label"] for e in events.of("job_started")] == ["p5.png"]

    data = json.loads(graph.read_text())
    data["nodes"]["animate"]["params"]["fps"] = 8.0
    graph.write_text(json.dumps(data))
    edited = run_batch(graph, over, target, engine="ray", workers=2, retries=0)
    assert sorted(r.job.label for r in edited.done) == ["p1.png", "p2.png", "p3.png", "p4.png"]
    assert not edited.skipped

    # an actor killed mid-batch (as when its node dies): its job is retried on another actor
    killed: list[tuple[int, int]] = []

    def kill_the_first_actor(event: BatchEvent) -> None:
        if event.kind == "job_started" and not killed:
            killed.append((event.data["job"], event.data["pid"]))
            os.kill(event.data["pid"], signal.SIGKILL)

    events = Events()
    survived = run_batch(graph, over, target, engine="ray", workers=2, retries=1, resume=False,
                         subscribers=[kill_the_first_actor, events])
    job, pid = killed[0]
    assert survived.jobs[job].status == "done" and survived.jobs[job].attempts == 2
    assert survived.jobs[job].pid != pid
    assert [e["pid"] for e in events.of("worker_lost")] == [pid]
    assert sorted(r.job.label for r in survived.done) == ["p1.png", "p2.png", "p3.png", "p4.png"]
    assert leftovers(out) == []
