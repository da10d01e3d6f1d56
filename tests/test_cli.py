"""The kinograph command as a user runs it: real subprocesses, exit codes, outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinograph.cli import main
from kinograph.core.registry import Registry

HEAVY = ("torch", "cv2", "av", "numpy", "networkx")


def kinograph(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kinograph", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [["nodes"], ["nodes", "--json"], ["subgraphs"], ["plugins"], ["schema"], ["--help"], ["train", "--help"], ["evaluate", "--help"],
     ["evaluate", "motion", "--help"], ["batch", "--help"], ["run", "--help"]],
)
def test_light_commands_import_no_heavy_libraries(args: list[str]) -> None:
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['kinograph', *{args!r}]\n"
        "try:\n    runpy.run_module('kinograph', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(loaded))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY=" in proc.stderr, proc.stderr
    assert proc.stderr.rsplit("HEAVY=", 1)[1].strip() == ""


def test_nodes_json_says_which_plugin_provides_each_node() -> None:
    proc = kinograph("nodes", "--json")
    assert proc.returncode == 0, proc.stderr
    records = {r["type"]: r for r in json.loads(proc.stdout)}
    pattern = records["kinograph.frames.test_pattern"]
    assert pattern["plugin"]["name"] == "builtin.basic"
    assert pattern["outputs"] == [{"name": "frames", "type": "FrameStream", "description": "The generated frames."}]
    assert pattern["params"]["properties"]["width"]["x-kinograph"]["widget"] == "slider"


def test_schema_is_json_schema() -> None:
    proc = kinograph("schema")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["properties"]["format"]["const"] == "kinograph.graph"


def write_graph(tmp_path: Path, nodes: dict, links: list) -> Path:
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"format": "kinograph.graph", "version": 1, "nodes": nodes, "links": links}))
    return path


def test_run_with_events_json_prints_ndjson(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write_graph(
        tmp_path,
        {"tp": {"type": "kinograph.frames.test_pattern", "params": {"frames": 10, "width": 32, "height": 32}},
         "w": {"type": "test.write_text", "params": {"path": "out.txt"}}},
        [{"from": "tp.frames", "to": "w.frames"}],
    )
    code = main(["run", str(path), "--events", "json", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert {"event": "node_progress", "node": "tp", "done": 10, "total": 10}.items() <= events[-4].items() or any(
        e["event"] == "node_progress" and e["node"] == "tp" and e["done"] == 10 for e in events
    )
    assert (tmp_path / "out.txt").exists()  # relative to the graph's folder
    assert f"wrote {tmp_path / 'out.txt'}" in err


def test_set_parses_by_type_and_resolves_paths_against_cwd(registry: Registry, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = write_graph(
        tmp_path,
        {"tp": {"type": "kinograph.frames.test_pattern", "params": {}},
         "w": {"type": "test.write_text", "params": {"path": "out.txt"}}},
        [{"from": "tp.frames", "to": "w.frames"}],
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code = main(["run", str(path), "--device", "cpu", "--set", "tp.frames=5", "--set", "tp.fps=12.5",
                 "--set", "w.path=here.txt", "--set", "w.if_exists=increment"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (elsewhere / "here.txt").read_text().splitlines() == ["0 5"]
    assert out.strip() == str(elsewhere / "here.txt")


def test_failing_node_exits_1_without_traceback(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write_graph(
        tmp_path,
        {"n": {"type": "kinograph.value.number"}, "bad": {"type": "test.fail"}, "rec": {"type": "test.record"}},
        [{"from": "n.value", "to": "bad.a"}, {"from": "bad.out", "to": "rec.value"}],
    )
    code = main(["run", str(path), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 1
    assert "node bad (test.fail) failed: ValueError: this node always fails" in err
    assert "Traceback" not in err
    code = main(["run", str(path), "--device", "cpu", "--debug"])
    assert code == 1 and "Traceback" in capsys.readouterr().err


def test_validate_ok(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write_graph(tmp_path, {"n": {"type": "kinograph.value.number"}}, [])
    assert main(["validate", str(path)]) == 0
    assert "ok (1 nodes, 0 links)" in capsys.readouterr().err


def test_ctrl_c_cancels_with_exit_130(tmp_path: Path) -> None:
    path = write_graph(
        tmp_path,
        {"tp": {"type": "kinograph.frames.test_pattern", "params": {"frames": 1000000, "width": 640, "height": 480}},
         "p": {"type": "kinograph.frames.test_pattern", "params": {}}},
        [],
    )
    # A graph with no output node cannot run; run the generator itself as the target.
    proc = subprocess.Popen(
        [sys.executable, "-m", "kinograph", "run", str(path), "--node", "tp", "--device", "cpu", "--no-cache",
         "--events", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    import signal

    assert proc.stdout is not None
    # Signal once the run reports progress: a fixed sleep can land during imports on a slow machine.
    next(line for line in proc.stdout if '"node_progress"' in line)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled" in err and "Traceback" not in err


def test_gui_command_exists() -> None:
    proc = kinograph("gui", "--help")
    assert proc.returncode == 0 and "desktop editor" in proc.stdout


def test_gui_without_a_display_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run([sys.executable, "-m", "kinograph", "gui"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "no display found" in proc.stderr and "kinograph run" in proc.stderr


def test_subgraphs_lists_yours_and_plugins_and_a_graph_can_use_one_from_the_listing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = home / "subgraphs" / "mine"
    folder.mkdir(parents=True)
    import kinograph.plugins.interpolation as pack

    shipped = Path(pack.__file__).resolve().parent / "subgraphs" / "smooth_motion.json"
    data = json.loads(shipped.read_text(encoding="utf-8"))
    data["meta"]["name"] = "Silky\x1b[2J"  # a file's text is echoed: its escapes must stay inert
    (folder / "silky.json").write_text(json.dumps(data), encoding="utf-8")
    (folder / "broken.json").write_text("{}", encoding="utf-8")
    env = {"KINOGRAPH_HOME": str(home)}

    listed = kinograph("subgraphs", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    shipped_line = next(line for line in lines if "smooth_motion.json" in line)
    assert "'Smooth motion'  v1  (frames: FrameStream) -> (frames: FrameStream)  params: fps, method, preset" in shipped_line
    assert shipped_line.endswith("[builtin.interpolation]")
    mine = next(line for line in lines if line.strip().startswith("user:mine/silky.json"))
    assert "\x1b" not in listed.stdout and "\\x1b[2J" in mine and mine.endswith("[your subgraphs folder]")
    broken = next(line for line in lines if "user:mine/broken.json" in line)
    assert "cannot be used: " in broken and "not a kinograph subgraph file" in broken

    records = {r["source"]: r for r in json.loads(kinograph("subgraphs", "--json", env=env).stdout)}
    silky = records["user:mine/silky.json"]
    assert silky["inputs"] == [{"name": "frames", "type": "FrameStream"}] and silky["params"] == ["fps", "method", "preset"]
    assert silky["hash"].startswith("sha256:") and silky["plugin"] is None and silky["problem"] is None
    assert records["user:mine/broken.json"]["problem"]

    # A graph written by hand with just the source from the listing runs, with no warning.
    graph = {
        "format": "kinograph.graph", "version": 3,
        "nodes": {
            "pattern": {"type": "kinograph.frames.test_pattern", "params": {"width": 32, "height": 24, "frames": 6}},
            "smooth": {"type": "kinograph.subgraph", "ref": {"source": "user:mine/silky.json"}, "params": {"fps": 48}},
            "write": {"type": "kinograph.video.write", "params": {"path": str(tmp_path / "out.mp4")}},
        },
        "links": [{"from": "pattern.frames", "to": "smooth.frames"}, {"from": "smooth.frames", "to": "write.frames"}],
    }
    (tmp_path / "g.json").write_text(json.dumps(graph), encoding="utf-8")
    ran = kinograph("run", str(tmp_path / "g.json"), "--device", "cpu", "--set", "smooth.method=blend", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "warning" not in ran.stderr.lower(), ran.stderr
    import av

    with av.open(str(tmp_path / "out.mp4")) as video:
        assert sum(1 for _ in video.decode(video=0)) == 12  # 6 frames at 24 fps, raised to 48


def test_nodes_points_to_the_subgraphs_listing() -> None:
    proc = kinograph("nodes")
    assert proc.returncode == 0 and "kinograph subgraphs" in proc.stdout.splitlines()[-1]
