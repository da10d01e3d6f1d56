"""The stream cache checks what it reads: damaged entries are recomputed, a full or unwritable
cache never fails a run, and partial entries of killed runs are swept.

Each damage case runs a small graph (test pattern -> MP4) with ``--cache-streams``, damages the
entry, runs again and compares the decoded frames with those of an uncached run.
"""

from __future__ import annotations

import json
import os
import pathlib
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from kinograph.cli import main
from kinograph.core.cache import StreamCache
from kinograph.core.cache_checks import MANIFEST, manifest_checksum
from kinograph.core.frames import FrameChunk, FrameStream
from kinograph.host import Graph, RunOptions, Session

WIDTH, HEIGHT, FRAMES, CHUNK = 32, 24, 20, 4  # five chunks of four frames


def write_graph(folder: Path, frames: int = FRAMES, width: int = WIDTH, height: int = HEIGHT, chunk: int = CHUNK) -> Path:
    # crf 0 is lossless: decoded frames are exact whatever timing the encoder's threads see.
    graph = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {
            "tp": {"type": "kinograph.frames.test_pattern",
                   "params": {"frames": frames, "width": width, "height": height, "chunk": chunk}},
            "write": {"type": "kinograph.video.write", "params": {"path": "out.mp4", "crf": 0}},
        },
        "links": [{"from": "tp.frames", "to": "write.frames"}],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "g.json"
    path.write_text(json.dumps(graph))
    return path


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(container.streams.video[0])]


def same_frames(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def run_cli(graph: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["run", str(graph), "--device", "cpu", *extra])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The frames of an uncached run: what every rerun must give."""
    folder = tmp_path_factory.mktemp("reference")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KINOGRAPH_HOME", str(folder / "home"))
        assert main(["run", str(write_graph(folder)), "--device", "cpu", "--no-cache"]) == 0
    frames = decoded(folder / "out.mp4")
    assert len(frames) == FRAMES
    return frames


def streams_root(home: Path) -> Path:
    return home / "cache" / "streams"


def the_entry(home: Path) -> Path:
    entries = [p for p in streams_root(home).iterdir() if ".partial-" not in p.name]
    assert len(entries) == 1, entries
    return entries[0]


def pattern_chunk(start: int, count: int) -> np.ndarray:
    """Frames a test pattern would make, for damage that looks plausible."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    out = np.empty((count, HEIGHT, WIDTH, 3), dtype=np.uint8)
    for i in range(count):
        t = start + i
        out[i, ..., 0] = (xs + 4 * t) % 256
        out[i, ..., 1] = (ys + 2 * t) % 256
        out[i, ..., 2] = ((xs + ys) // 2 + 3 * t) % 256
    return out


# -- damage, each as a user or a failing disk would do it --


def forge_manifest(entry: Path, edit: Callable[[dict], None]) -> None:
    """Edit the manifest and recompute its checksum, so that only the other checks can tell."""
    data = json.loads((entry / MANIFEST).read_text())
    data.pop("checksum")
    edit(data)
    data["checksum"] = manifest_checksum(data)
    (entry / MANIFEST).write_text(json.dumps(data))


def flip_one_byte(entry: Path, tmp: Path) -> None:
    path = entry / "000002.npy"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x80  # a change the video shows
    path.write_bytes(bytes(data))


def swap_two_chunks(entry: Path, tmp: Path) -> None:
    a, b = entry / "000001.npy", entry / "000002.npy"
    a.rename(entry / "swap")
    b.rename(a)
    (entry / "swap").rename(b)


def name_outside_the_cache(entry: Path, tmp: Path) -> None:
    # A valid chunk of other frames, with its true hash: only the name check can stop it.
    outside = tmp / "outside.npy"
    np.save(outside, np.zeros((CHUNK, HEIGHT, WIDTH, 3), np.uint8))
    import hashlib

    digest = hashlib.blake2b(outside.read_bytes(), digest_size=16).hexdigest()
    relative = os.path.relpath(outside, entry)

    def edit(data: dict) -> None:
        data["chunks"][1].update(name=relative, hash=digest)

    forge_manifest(entry, edit)


def ten_by_ten_frames(entry: Path, tmp: Path) -> None:
    np.save(entry / "000001.npy", np.zeros((CHUNK, 10, 10, 3), np.uint8))


def fewer_rows(entry: Path, tmp: Path) -> None:
    np.save(entry / "000001.npy", pattern_chunk(CHUNK, CHUNK - 2))


def shortened_manifest(entry: Path, tmp: Path) -> None:
    data = json.loads((entry / MANIFEST).read_text())
    data["chunks"] = data["chunks"][:-1]
    data["frame_count"] -= CHUNK
    (entry / MANIFEST).write_text(json.dumps(data))  # by hand: the checksum is left as it was


def manifest_cut_short(entry: Path, tmp: Path) -> None:
    text = (entry / MANIFEST).read_bytes()
    (entry / MANIFEST).write_bytes(text[: len(text) // 2])


def edited_width_and_height(entry: Path, tmp: Path) -> None:
    def edit(data: dict) -> None:
        data["width"], data["height"] = HEIGHT, WIDTH

    forge_manifest(entry, edit)


def truncated_chunk(entry: Path, tmp: Path) -> None:
    path = entry / "000003.npy"
    path.write_bytes(path.read_bytes()[:-100])


def zero_byte_chunk(entry: Path, tmp: Path) -> None:
    (entry / "000000.npy").write_bytes(b"")


def deleted_chunk(entry: Path, tmp: Path) -> None:
    (entry / "000004.npy").unlink()


def float64_chunk(entry: Path, tmp: Path) -> None:
    np.save(entry / "000001.npy", pattern_chunk(CHUNK, CHUNK).astype(np.float64))


def grayscale_chunk(entry: Path, tmp: Path) -> None:
    np.save(entry / "000001.npy", pattern_chunk(CHUNK, CHUNK)[..., 0].copy())


def pickled_chunk(entry: Path, tmp: Path) -> None:
    # Unpickling it would create the marker file: it must never happen.
    marker = tmp / "pickle-ran"
    payload = np.empty(1, dtype=object)
    payload[0] = Touch(marker)
    np.save(entry / "000001.npy", payload, allow_pickle=True)


class Touch:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (pathlib.Path.touch, (self.path,))


def manifest_empty_object(entry: Path, tmp: Path) -> None:
    (entry / MANIFEST).write_text("{}")


def manifest_a_list(entry: Path, tmp: Path) -> None:
    (entry / MANIFEST).write_text("[1,2]")


def chunk_is_a_link(entry: Path, tmp: Path) -> None:
    # The same bytes, but outside the cache: links are never followed.
    outside = tmp / "linked.npy"
    shutil.copy(entry / "000002.npy", outside)
    (entry / "000002.npy").unlink()
    (entry / "000002.npy").symlink_to(outside)


def entry_is_a_link(entry: Path, tmp: Path) -> None:
    # The entry's folder moved elsewhere and linked back: dropping it must not delete the target.
    elsewhere = tmp / "elsewhere"
    shutil.move(entry, elsewhere)
    entry.symlink_to(elsewhere, target_is_directory=True)


DAMAGE = [
    flip_one_byte, swap_two_chunks, name_outside_the_cache, ten_by_ten_frames, fewer_rows,
    shortened_manifest, manifest_cut_short, edited_width_and_height, truncated_chunk,
    zero_byte_chunk, deleted_chunk, float64_chunk, grayscale_chunk, pickled_chunk,
    manifest_empty_object, manifest_a_list, chunk_is_a_link, entry_is_a_link,
]


def test_an_intact_entry_is_used_without_warning(
    tmp_path: Path, kinograph_home: Path, reference: list[np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    graph = write_graph(tmp_path)
    assert run_cli(graph, capsys, "--cache-streams")[0] == 0
    code, err = run_cli(graph, capsys, "--cache-streams")
    assert code == 0, err
    assert "tp: cached" in err and "warning" not in err
    assert same_frames(decoded(tmp_path / "out.mp4"), reference)


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_a_damaged_entry_is_recomputed_with_a_warning(
    damage: Callable[[Path, Path], None],
    tmp_path: Path,
    kinograph_home: Path,
    reference: list[np.ndarray],
    capsys: pytest.CaptureFixture[str],
) -> None:
    graph = write_graph(tmp_path / "graph")
    code, err = run_cli(graph, capsys, "--cache-streams")
    assert code == 0, err
    entry = the_entry(kinograph_home)
    damage(entry, tmp_path)

    code, err = run_cli(graph, capsys, "--cache-streams")
    assert code == 0, err
    assert "tp: warning: cached frames not used" in err, err
    assert "Traceback" not in err
    assert same_frames(decoded(tmp_path / "graph" / "out.mp4"), reference)
    assert not (tmp_path / "pickle-ran").exists()

    # The bad entry was replaced by a good one, which the next run uses quietly.
    assert entry.is_dir() and not entry.is_symlink()
    warnings: list[str] = []
    replayed = StreamCache(streams_root(kinograph_home)).replay(entry.name, warn=warnings.append)
    assert replayed is not None and warnings == []
    assert np.array_equal(np.concatenate([c.pixels for c in replayed]), pattern_chunk(0, FRAMES))
    code, err = run_cli(graph, capsys, "--cache-streams")
    assert code == 0 and "tp: cached" in err and "warning" not in err, err
    if damage is entry_is_a_link:
        assert (tmp_path / "elsewhere" / "000001.npy").is_file()  # the link went, not its target


def test_streams_folder_that_is_a_file_only_skips_caching(
    tmp_path: Path, kinograph_home: Path, reference: list[np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    graph = write_graph(tmp_path)
    assert run_cli(graph, capsys, "--cache-streams")[0] == 0
    shutil.rmtree(streams_root(kinograph_home))
    streams_root(kinograph_home).write_text("not a folder")
    for _ in range(2):
        code, err = run_cli(graph, capsys, "--cache-streams")
        assert code == 0, err
        assert "tp: warning: frames not cached: cannot write to the stream cache" in err, err
        assert same_frames(decoded(tmp_path / "out.mp4"), reference)
    assert streams_root(kinograph_home).read_text() == "not a folder"  # not ours to delete


def test_python_api_with_an_unwritable_cache_folder_runs_and_warns(
    tmp_path: Path, kinograph_home: Path, reference: list[np.ndarray]
) -> None:
    # Works as root too, where chmod would not stop writes: the cache folder's parent is a file.
    (kinograph_home / "cache").write_text("a file where the cache folder should be")
    graph = Graph.load(write_graph(tmp_path))
    result = Session(graph.registry).run(graph, RunOptions(device="cpu"))  # stream caching is the default
    assert result.ok, result.failures
    assert [node for node, message in result.warnings if "frames not cached" in message] == ["tp"]
    assert same_frames(decoded(tmp_path / "out.mp4"), reference)


def test_a_nearly_full_disk_is_left_to_the_outputs(tmp_path: Path, kinograph_home: Path, reference: list[np.ndarray]) -> None:
    graph = Graph.load(write_graph(tmp_path))
    root = streams_root(kinograph_home)
    free = shutil.disk_usage(tmp_path).free
    streams = StreamCache(root, keep_free=free + 1)  # the disk as it is holds less than the reserve
    result = Session(graph.registry, streams=streams).run(graph, RunOptions(device="cpu"))
    assert result.ok, result.failures
    assert any("has only" in message and "MB free" in message for _, message in result.warnings), result.warnings
    assert same_frames(decoded(tmp_path / "out.mp4"), reference)
    assert not root.exists() or list(root.iterdir()) == []


FULL_DISK_LIMIT = 48 * 1024  # bytes any one file may reach: a chunk (74 KB) does not fit, the video does


def limited_file_size() -> None:
    # A full disk, as a process sees it: writes past the limit fail with EFBIG (SIGXFSZ ignored).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_DISK_LIMIT, FULL_DISK_LIMIT))


API_RUN = """
import sys
from kinograph.host import Graph, RunOptions, Session
graph = Graph.load(sys.argv[1])
result = Session(graph.registry).run(graph, RunOptions(device="cpu"))
for node, message in result.warnings:
    print(f"{node}: warning: {message}", file=sys.stderr)
sys.exit(0 if result.ok else 1)
"""


@pytest.mark.parametrize("how", ["cli", "python_api"])
def test_a_full_disk_never_fails_a_run(how: str, tmp_path: Path, kinograph_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = write_graph(tmp_path, frames=24, width=64, height=48, chunk=8)
    assert main(["run", str(graph), "--device", "cpu", "--no-cache"]) == 0
    expected = decoded(tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").stat().st_size < FULL_DISK_LIMIT
    (tmp_path / "out.mp4").unlink()
    capsys.readouterr()
    if how == "cli":
        command = [sys.executable, "-m", "kinograph", "run", str(graph), "--device", "cpu", "--cache-streams"]
    else:
        command = [sys.executable, "-c", API_RUN, str(graph)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, preexec_fn=limited_file_size)
    assert proc.returncode == 0, proc.stderr
    assert "tp: warning: frames not cached: cannot write to the stream cache" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert same_frames(decoded(tmp_path / "out.mp4"), expected)
    root = streams_root(kinograph_home)
    assert not root.exists() or list(root.iterdir()) == []  # nothing half-written left


# -- partial entries of killed runs --


@pytest.fixture
def live_process() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def fake_partial(root: Path, pid: int, size: int = 1000, tid: int = 1, age: float = 0.0) -> Path:
    folder = root / f"{'a' * 40}-frames.partial-{pid}-{tid}"
    folder.mkdir(parents=True)
    (folder / "000000.npy").write_bytes(b"\0" * size)
    if age:
        when = time.time() - age
        os.utime(folder, (when, when))
    return folder


def test_kill_9_leaves_a_partial_that_the_next_run_sweeps(
    tmp_path: Path, kinograph_home: Path, live_process: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    root = streams_root(kinograph_home)
    long_graph = write_graph(tmp_path / "long", frames=100_000, width=64, height=48, chunk=8)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kinograph", "run", str(long_graph), "--device", "cpu", "--cache-streams"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        partial = None
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(root.glob("*.partial-*")) if root.is_dir() else []
            if found and len(list(found[0].glob("*.npy"))) >= 3:
                partial = found[0]
                break
            time.sleep(0.02)
        assert partial is not None, "the caching run never wrote a partial entry"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert partial.is_dir() and f".partial-{proc.pid}-" in partial.name
    held = sum(f.stat().st_size for f in partial.iterdir())
    assert StreamCache(root).used() >= held > 0  # partials count in the budget

    alive = fake_partial(root, live_process.pid)  # written now by a live process: kept
    reused = fake_partial(root, live_process.pid, tid=2, age=3600)  # older than that process: its pid was reused
    namesake = fake_partial(root, os.getpid(), tid=3)  # our own pid, but not a folder we are writing

    code, err = run_cli(write_graph(tmp_path / "short"), capsys, "--cache-streams")
    assert code == 0, err
    assert not partial.exists() and not reused.exists() and not namesake.exists()
    assert alive.is_dir()
    assert (the_entry(kinograph_home) / MANIFEST).is_file()


def test_partials_count_in_the_budget(tmp_path: Path, live_process: subprocess.Popen[bytes]) -> None:
    root = tmp_path / "streams"
    chunk = np.zeros((4, 16, 16, 3), np.uint8)
    entry_size = chunk.nbytes + 200

    def record(key: str) -> None:
        stream = FrameStream([FrameChunk(0, chunk)], fps=24.0, width=16, height=16, frame_count=4)
        for _ in StreamCache(root, budget=10 * entry_size).record(key, stream):
            pass

    record("a" * 40 + "-frames")
    assert (root / ("a" * 40 + "-frames") / MANIFEST).is_file()
    fake_partial(root, live_process.pid, size=10 * entry_size)  # a live run's partial fills the budget
    record("b" * 40 + "-frames")
    assert not (root / ("a" * 40 + "-frames")).exists()  # evicted to make room
    assert len(list(root.glob("*.partial-*"))) == 1  # a live run's partial is never swept
    assert StreamCache(root).used() >= 10 * entry_size


def test_the_scrubber_never_shows_a_damaged_frame(tmp_path: Path) -> None:
    root = tmp_path / "streams"
    key = "c" * 40 + "-frames"
    chunks = [FrameChunk(start, pattern_chunk(start, CHUNK)) for start in range(0, FRAMES, CHUNK)]
    for _ in StreamCache(root).record(key, FrameStream(chunks, fps=24.0, width=WIDTH, height=HEIGHT, frame_count=FRAMES)):
        pass
    cache = StreamCache(root)
    warnings: list[str] = []
    assert all(np.array_equal(cache.read_frame(key, i, warnings.append), pattern_chunk(i, 1)[0]) for i in range(FRAMES))
    path, row = cache.chunk_path(key, 9, warnings.append)
    assert (path.name, row) == ("000002.npy", 1) and warnings == []

    time.sleep(0.05)  # file times are coarse: let the change show in them as it would for any later edit
    data = bytearray(path.read_bytes())
    data[-(CHUNK - row) * HEIGHT * WIDTH * 3 + 5] ^= 0x80  # a byte of frame 9, already shown once
    path.write_bytes(bytes(data))
    assert cache.read_frame(key, 9, warnings.append) is None
    assert len(warnings) == 1 and "does not match its hash at frame 9" in warnings[0], warnings
    assert not (root / key).exists()  # dropped: the next run computes it again
