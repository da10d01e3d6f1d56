"""What a graph may touch: outputs never destroy a user's folder or the graph's own inputs,
concurrent runs each publish their own file (or fail clearly), leftovers of killed runs are swept,
and Write video's settings are checked before anything runs.

Every test reproduces a defect found by adversarial testing (issue 10), on real files through the
``kinograph`` command's entry function or real processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kinograph.api import KinographError, atomic_output, output_target
from kinograph.cli import main
from kinograph.core import context
from kinograph.core.paths import SEQUENCE_MARKER, sweep_stale_leftovers
from kinograph.host import Graph, RunOptions

UNCHECKED = RunOptions(device="cpu", use_cache=False, validate=False)


def write_graph(folder: Path, nodes: dict, links: list[tuple[str, str]], name: str = "graph.json") -> Path:
    """A graph file as a user would share it: relative paths resolve against its folder."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {
            node_id: {"type": type_id, "version": 1, "params": params} for node_id, (type_id, params) in nodes.items()
        },
        "links": [{"from": a, "to": b} for a, b in links],
    }
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def sequence_graph(folder: Path, path: str, frames: int = 3, **params: object) -> Path:
    return write_graph(
        folder,
        {
            "pattern": ("kinograph.frames.test_pattern", {"width": 32, "height": 32, "frames": frames}),
            "write": ("kinograph.video.write", {"path": path, "image_sequence": True, **params}),
        },
        [("pattern.frames", "write.frames")],
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to prove nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def user_folder(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    (folder / "taxes.pdf").write_bytes(b"%PDF important")
    (folder / "sub" / "notes.txt").write_text("keep me")
    return folder


def cli(*args: str) -> int:
    return main([*args, "--device", "cpu"] if args[0] == "run" else list(args))


# -- 1. image sequences never destroy folders -------------------------------------------------------


def test_sequence_next_to_a_users_folder_is_refused_and_the_folder_survives(tmp_path: Path, capsys) -> None:
    documents = user_folder(tmp_path / "x" / "Documents")
    before = snapshot(documents)
    graph = sequence_graph(tmp_path, "x/Documents.mp4")
    assert cli("validate", str(graph)) == 2
    err = capsys.readouterr().err
    assert "nodes.write.params.path" in err and "holds files kinograph did not write" in err
    assert cli("run", str(graph)) == 2
    assert snapshot(documents) == before
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["Documents"]


def test_sequence_into_the_graphs_own_folder_is_refused(tmp_path: Path, capsys) -> None:
    project = tmp_path / "project"
    graph = sequence_graph(project, ".")
    (project / "assets").mkdir()
    (project / "assets" / "photo.png").write_bytes(b"\x89PNG not really")
    (project / "notes.md").write_text("my notes")
    before = snapshot(project)
    assert cli("validate", str(graph)) == 2
    assert "holds files kinograph did not write" in capsys.readouterr().err
    assert cli("run", str(graph)) == 2
    assert snapshot(project) == before


def test_unvalidated_run_refuses_before_any_frame_is_made(session, tmp_path: Path) -> None:
    documents = user_folder(tmp_path / "Documents")
    before = snapshot(documents)
    graph = Graph(session.registry)
    graph.add_node("kinograph.frames.test_pattern", "pattern", params={"width": 32, "height": 32, "frames": 16})
    graph.add_node("test.invert", "stage", params={"fail_at": 1})  # fails if a frame is ever pulled
    graph.add_node("kinograph.video.write", "write", params={"path": str(tmp_path / "Documents.mp4"), "image_sequence": True})
    graph.connect("pattern.frames", "stage.frames")
    graph.connect("stage.frames", "write.frames")
    result = session.run(graph, UNCHECKED)
    assert [f.node_id for f in result.failures] == ["write"]
    assert "holds files kinograph did not write" in result.failures[0].message
    assert result.states["stage"] != "failed"  # no frame was pulled
    assert snapshot(documents) == before


def test_symlinked_sequence_target_is_never_followed(tmp_path: Path, capsys) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()  # empty: writable if it were not behind a link
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "seq").symlink_to(elsewhere, target_is_directory=True)
    graph = sequence_graph(tmp_path, "out/seq.mp4")
    assert cli("validate", str(graph)) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert cli("run", str(graph)) == 2
    assert list(elsewhere.iterdir()) == []
    assert (tmp_path / "out" / "seq").is_symlink()


def test_sequence_replaces_only_its_own_or_an_empty_folder(tmp_path: Path, capsys) -> None:
    seq = tmp_path / "seq"
    seq.mkdir()  # empty: may be written
    assert cli("run", str(sequence_graph(tmp_path, "seq.mp4", frames=5))) == 0
    marker = json.loads((seq / SEQUENCE_MARKER).read_text())
    assert marker["files"] == [f"frame_{i:06d}.png" for i in range(5)]
    # Its own earlier sequence is replaced whole: no stale frames from the longer run.
    assert cli("run", str(sequence_graph(tmp_path, "seq.mp4", frames=2))) == 0
    assert sorted(p.name for p in seq.iterdir()) == [SEQUENCE_MARKER, "frame_000000.png", "frame_000001.png"]
    # Once the user keeps something of theirs in it, it is theirs: refused, kept.
    (seq / "notes.txt").write_text("my notes on these frames")
    before = snapshot(seq)
    assert cli("run", str(sequence_graph(tmp_path, "seq.mp4", frames=2))) == 2
    assert "holds files kinograph did not write" in capsys.readouterr().err
    assert snapshot(seq) == before
    # increment leaves it alone and writes a new folder beside it.
    assert cli("run", str(sequence_graph(tmp_path, "seq.mp4", frames=2, if_exists="increment"))) == 0
    assert snapshot(seq) == before
    assert (tmp_path / "seq_0001" / "frame_000001.png").is_file()


def test_file_outputs_never_replace_a_folder(tmp_path: Path, capsys) -> None:
    (tmp_path / "in.png").write_bytes(b"")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "in.png")
    user_folder(tmp_path / "shots.png")
    before = snapshot(tmp_path / "shots.png")
    graph = write_graph(
        tmp_path,
        {"load": ("kinograph.image.load", {"path": "in.png"}), "save": ("kinograph.image.save", {"path": "shots.png"})},
        [("load.image", "save.image")],
    )
    assert cli("validate", str(graph)) == 2
    assert "nodes.save.params.path" in capsys.readouterr().err
    assert cli("run", str(graph)) == 2
    assert snapshot(tmp_path / "shots.png") == before


# -- 2. outputs never replace the graph's own inputs; inputs are files ----------------------------


def test_output_equal_to_an_input_is_refused(tmp_path: Path, capsys) -> None:
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(tmp_path / "photo.png")
    original = (tmp_path / "photo.png").read_bytes()
    graph = write_graph(
        tmp_path,
        {
            "load": ("kinograph.image.load", {"path": "photo.png"}),
            "save": ("kinograph.image.save", {"path": str(tmp_path / "sub" / ".." / "photo.png")}),
        },
        [("load.image", "save.image")],
    )
    assert cli("validate", str(graph)) == 2
    err = capsys.readouterr().err
    assert "nodes.save.params.path" in err and "would replace its own input" in err and "'load'" in err
    assert cli("run", str(graph)) == 2
    assert (tmp_path / "photo.png").read_bytes() == original


def test_sequence_folder_holding_an_input_is_refused(tmp_path: Path, capsys) -> None:
    assert cli("run", str(sequence_graph(tmp_path, "seq.mp4", frames=2))) == 0
    graph = write_graph(
        tmp_path,
        {
            "load": ("kinograph.image.load", {"path": "seq/frame_000000.png"}),
            "animate": ("kinograph.frames.animate", {"width": 32, "height": 32}),
            "path": ("kinograph.motion.camera_path", {}),
            "write": ("kinograph.video.write", {"path": "seq.mp4", "image_sequence": True}),
        },
        [("load.image", "animate.image"), ("path.motion", "animate.motion"), ("animate.frames", "write.frames")],
        name="again.json",
    )
    capsys.readouterr()
    assert cli("validate", str(graph)) == 2
    assert "would replace its own input" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_device_inputs_are_refused(tmp_path: Path, capsys) -> None:
    os.mkfifo(tmp_path / "photo.png")
    for path in (str(tmp_path / "photo.png"), "/dev/zero"):
        graph = write_graph(
            tmp_path,
            {"load": ("kinograph.image.load", {"path": path}), "save": ("kinograph.image.save", {"path": "out.png"})},
            [("load.image", "save.image")],
        )
        started = time.monotonic()
        assert cli("validate", str(graph)) == 2
        assert cli("run", str(graph)) == 2
        assert time.monotonic() - started < 30  # never hangs on the pipe
        err = capsys.readouterr().err
        assert "nodes.load.params.path" in err and ("FIFO" in err or "device" in err)
        assert not (tmp_path / "out.png").exists()


# -- 4. publishing under concurrency ------------------------------------------------------------


def _publish(target: str, if_exists: str, payload: str, barrier, results) -> None:
    """One writer: plan the name, write, wait for the others, then publish at the same moment."""
    try:
        planned = output_target(target, if_exists)  # type: ignore[arg-type]
        output = atomic_output(planned, if_exists)  # type: ignore[arg-type]
        with output as temp:
            temp.write_text(payload)
            barrier.wait(timeout=60)
        results.put((payload, "ok", str(output.target)))
    except KinographError as exc:
        results.put((payload, "error", str(exc)))


def _race(target: Path, if_exists: str, writers: int) -> list[tuple[str, str, str]]:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(writers)
    results = ctx.Queue()
    procs = [ctx.Process(target=_publish, args=(str(target), if_exists, f"run {i}", barrier, results)) for i in range(writers)]
    for proc in procs:
        proc.start()
    outcome = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    return sorted(outcome)


@pytest.mark.skipif(sys.platform == "win32", reason="uses fork")
def test_parallel_increment_runs_each_get_their_own_file(tmp_path: Path) -> None:
    target = tmp_path / "inc.mp4"
    target.write_text("earlier")
    outcome = _race(target, "increment", 3)
    assert [status for _, status, _ in outcome] == ["ok"] * 3
    names = {Path(path).name for _, _, path in outcome}
    assert names == {"inc_0001.mp4", "inc_0002.mp4", "inc_0003.mp4"}
    for payload, _, path in outcome:
        assert Path(path).read_text() == payload  # nobody's video was lost
    assert target.read_text() == "earlier"
    assert not list(tmp_path.glob(".*partial*"))


@pytest.mark.skipif(sys.platform == "win32", reason="uses fork")
def test_parallel_error_runs_one_wins_the_other_fails_clearly(tmp_path: Path) -> None:
    target = tmp_path / "once.mp4"
    outcome = _race(target, "error", 2)
    statuses = sorted(status for _, status, _ in outcome)
    assert statuses == ["error", "ok"]
    winner = next(payload for payload, status, _ in outcome if status == "ok")
    loser_message = next(message for _, status, message in outcome if status == "error")
    assert "already exists" in loser_message and "if_exists" in loser_message
    assert target.read_text() == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["once.mp4"]


@pytest.mark.skipif(sys.platform == "win32", reason="uses fork")
def test_parallel_sequence_runs_with_increment_each_get_their_own_folder(tmp_path: Path) -> None:
    def publish_folder(payload: str, barrier, results) -> None:
        try:
            planned = output_target(tmp_path / "seq", "increment", folder=True)
            output = atomic_output(planned, "increment", folder=True)
            with output as temp:
                (temp / "frame_000000.png").write_text(payload)
                barrier.wait(timeout=60)
            results.put((payload, str(output.target)))
        except KinographError as exc:
            results.put((payload, f"error: {exc}"))

    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=publish_folder, args=(f"run {i}", barrier, results)) for i in range(3)]
    for proc in procs:
        proc.start()
    outcome = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert not [path for _, path in outcome if path.startswith("error")]
    assert len({path for _, path in outcome}) == 3
    for payload, path in outcome:
        assert (Path(path) / "frame_000000.png").read_text() == payload


def test_a_failed_publish_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "taken.mp4"
    planned = output_target(target, "error")
    target.write_text("another run's video")  # arrives while this run encodes
    with pytest.raises(KinographError, match="already exists"), atomic_output(planned, "error") as temp:
        temp.write_text("mine")
    assert target.read_text() == "another run's video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.mp4"]


# -- 5. leftovers of dead processes are swept, never a live one's --------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_partials_of_dead_writers_are_swept_live_ones_kept(tmp_path: Path, live_pid: int) -> None:
    dead = dead_pid()
    stale = tmp_path / f".video.partial-{dead}.mp4"  # the naming of earlier versions
    stale_new = tmp_path / f".video.partial-{dead}-a1b2c3.mp4"
    stale_folder = tmp_path / f".seq.partial-{dead}-a1b2c3"
    live = tmp_path / f".video.partial-{live_pid}-a1b2c3.mp4"
    for path in (stale, stale_new, live):
        path.write_bytes(b"half a video")
    stale_folder.mkdir()
    (stale_folder / "frame_000000.png").write_bytes(b"x")
    # A sequence moved aside by a writer killed before its replacement arrived: put back.
    aside = tmp_path / f".older.old-{dead}-a1b2c3"
    aside.mkdir()
    (aside / "frame_000000.png").write_bytes(b"last good frame")
    (aside / SEQUENCE_MARKER).write_text(json.dumps({"files": ["frame_000000.png"]}))
    # Names that only look like ours are the user's: never touched.
    users = [tmp_path / ".video.partial-notes.txt", tmp_path / f".notes.partial-{dead}.txt"]
    for path in users:
        path.write_text("mine")
    users.append(tmp_path / f".config.old-{dead}")
    users[-1].mkdir()
    (users[-1] / "settings.ini").write_text("mine")
    output_target(tmp_path / "video.mp4")
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == sorted([live.name, "older", *(p.name for p in users)])
    assert (tmp_path / "older" / "frame_000000.png").read_bytes() == b"last good frame"
    assert (users[-1] / "settings.ini").read_text() == "mine"


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_kill_9_leftovers_are_swept_by_the_next_run(tmp_path: Path) -> None:
    graph = write_graph(
        tmp_path,
        {
            "pattern": ("kinograph.frames.test_pattern", {"width": 64, "height": 64, "frames": 100000}),
            "write": ("kinograph.video.write", {"path": "out/video.mp4", "preset": "ultrafast"}),
        },
        [("pattern.frames", "write.frames")],
    )
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    env = {**os.environ, "TMPDIR": str(temp_root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kinograph", "run", str(graph), "--device", "cpu", "--no-cache"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "out").glob(".video.partial-*.mp4")) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert [p.name.startswith(f".video.partial-{proc.pid}") for p in (tmp_path / "out").iterdir()] == [True]
    # A run makes its temporary folder only when a node asks for one (these nodes do not):
    # leave the folder such a node would have left, named after the killed process.
    left = temp_root / f"kinograph-run-{proc.pid}-x1y2"
    (left / "node-abc").mkdir(parents=True)
    (left / "node-abc" / "frame.png").write_bytes(b"...")
    alive = temp_root / f"kinograph-run-{os.getpid()}-live"  # a live process's: never touched
    alive.mkdir()
    short = json.loads(graph.read_text())
    short["nodes"]["pattern"]["params"]["frames"] = 2
    graph.write_text(json.dumps(short))
    done = subprocess.run(
        [sys.executable, "-m", "kinograph", "run", str(graph), "--device", "cpu", "--no-cache"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["video.mp4"]
    assert list(temp_root.iterdir()) == [alive]


def test_run_folders_of_dead_processes_are_swept(tmp_path: Path, live_pid: int, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = dead_pid()
    stale = tmp_path / f"kinograph-run-{dead}-abc"
    (stale / "node-x").mkdir(parents=True)
    empty = tmp_path / f"kinograph-run-{dead}-def"
    empty.mkdir()
    live = tmp_path / f"kinograph-run-{live_pid}-ghi"
    live.mkdir()
    other = tmp_path / "kinograph-run-legacy"  # no pid: cannot tell whose, kept
    other.mkdir()
    mine = context.new_run_folder()
    assert mine.name.startswith(f"kinograph-run-{os.getpid()}-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, mine.name])


def test_sweeping_never_follows_links(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / f".seq.partial-{dead_pid()}-abcdef").symlink_to(victim, target_is_directory=True)
    sweep_stale_leftovers(tmp_path / "out")
    assert (victim / "keep.txt").read_text() == "keep"


# -- 6. Write video's settings are checked in validation --------------------------------------------


@pytest.mark.parametrize(
    ("params", "where", "words"),
    [
        ({"path": "out/clip.gif"}, "nodes.write.params.path", "use one of .mp4"),
        ({"path": "out/clip.mp4", "crf": 60}, "nodes.write.params.crf", "use 0..51"),
        ({"path": "out/clip.mov", "codec": "vp9"}, "nodes.write.params.codec", ".mov files cannot hold vp9"),
    ],
)
def test_write_video_settings_are_refused_by_validate(tmp_path: Path, capsys, params, where, words) -> None:
    graph = write_graph(
        tmp_path,
        {"pattern": ("kinograph.frames.test_pattern", {"frames": 2}), "write": ("kinograph.video.write", params)},
        [("pattern.frames", "write.frames")],
    )
    assert cli("validate", str(graph)) == 2
    err = capsys.readouterr().err
    assert where in err and words in err
    assert not (tmp_path / "out").exists()


def test_crf_limits_are_per_codec(tmp_path: Path, capsys) -> None:
    graph = write_graph(
        tmp_path,
        {
            "pattern": ("kinograph.frames.test_pattern", {"frames": 2}),
            "write": ("kinograph.video.write", {"path": "clip.webm", "codec": "vp9", "crf": 60}),
        },
        [("pattern.frames", "write.frames")],
    )
    assert cli("validate", str(graph)) == 0, capsys.readouterr().err
