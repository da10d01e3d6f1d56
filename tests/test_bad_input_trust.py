"""Hostile input through the CLI's entry function: a clear exit 2 (or a clean node failure), one
safe line per problem, never a traceback, a hang, a raw library warning or a terminal trick."""

from __future__ import annotations

import json
import os
import struct
import sys
import threading
import warnings
import zlib
from pathlib import Path
from typing import Any

import pytest

from kinograph.cli import main
from kinograph.core.registry import Registry

GRAPHS = Path(__file__).resolve().parent.parent / "graphs"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def write(tmp_path: Path, data: Any, name: str = "g.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def assert_clean(err: str) -> None:
    """No traceback, no bug report, no raw control character, every line bounded."""
    assert "Traceback" not in err and "internal error" not in err, err
    assert not any(ch in err for ch in "\x1b\r\x00"), repr(err)
    assert all(len(line) < 1500 for line in err.splitlines()), max(len(line) for line in err.splitlines())


def rejected(capsys: pytest.CaptureFixture[str], path: Path | str, *needles: str, command: str = "validate") -> str:
    argv = [command, str(path)] + (["--device", "cpu"] if command == "run" else [])
    code, err = run_cli(capsys, *argv)
    assert code == 2, err
    assert_clean(err)
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    return err


# -- version-0 files of the wrong shape --

V0_SHAPES = [
    ("links-int", {"links": 5}, "links: expected a list"),
    ("nodes-list", {"nodes": [1, 2]}, "nodes: expected an object"),
    ("positions-string", {"nodes": {"a": {"type": "x"}}, "positions": "abc"}, "positions: expected an object"),
    ("ui-list", {"nodes": {"a": {"type": "x", "ui": [1]}}, "positions": {"a": [0, 0]}}, "nodes.a.ui: expected an object"),
]


@pytest.mark.parametrize(("name", "fields", "needle"), V0_SHAPES, ids=[c[0] for c in V0_SHAPES])
def test_version_0_files_of_the_wrong_shape_are_named(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, fields: dict[str, Any], needle: str
) -> None:
    path = write(tmp_path, {"format": "kinograph.graph", "version": 0, **fields})
    for command in ("validate", "run"):
        rejected(capsys, path, needle, command=command)


def test_a_good_version_0_file_still_migrates(registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data.bin").write_bytes(b"123")
    data = {
        "format": "kinograph.graph",
        "version": 0,
        "nodes": {"read": {"type": "test.read_file", "params": {"path": "data.bin"}}, "rec": {"type": "test.record"}},
        "positions": {"read": [10, 20]},
        "links": [["read.size", "rec.value"]],
    }
    code, err = run_cli(capsys, "validate", str(write(tmp_path, data)))
    assert code == 0, err


# -- numbers, text and paths beyond what Python or the OS take --


@pytest.mark.parametrize(
    "text",
    [
        '{"format": "kinograph.graph", "version": 1, "meta": {"x": %s}}',
        '{"format": "kinograph.graph", "version": %s}',
        '{"format": "kinograph.graph", "version": 1, "nodes": {"a": {"type": "test.add", "params": {"offset": -%s}}}}',
    ],
    ids=["meta", "version", "param"],
)
def test_a_5000_digit_integer_is_refused_with_its_line(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = write(tmp_path, text % ("9" * 5000))
    rejected(capsys, path, "line 1", "5000 digits", "at most 32")


@pytest.mark.parametrize("length", [5000, 10_000_000])
def test_a_path_too_long_for_the_os_is_a_short_clear_error(capsys: pytest.CaptureFixture[str], length: int) -> None:
    err = rejected(capsys, "a" * length, "cannot read", "File name too long" if sys.platform == "linux" else "")
    assert len(err) < 400, len(err)
    assert "\u2026" in err  # shortened in the middle, not cut silently


@pytest.mark.parametrize("bad", ["x" * 5000, "a\x00b.bin"], ids=["too-long", "nul"])
def test_an_impossible_input_path_param_is_a_clear_error(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    data = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {"read": {"type": "test.read_file", "params": {"path": bad}}, "rec": {"type": "test.record"}},
        "links": [{"from": "read.size", "to": "rec.value"}],
    }
    err = rejected(capsys, write(tmp_path, data), "nodes.read.params.path")
    assert len(err) < 1500


def test_lone_surrogates_are_refused_at_load_naming_the_key(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        '{"format": "kinograph.graph", "version": 1, "meta": {"name": "a\\ud800b"},'
        ' "nodes": {"add": {"type": "test.add", "params": {"label\\udfff": 1}}}}'
    )
    err = rejected(capsys, write(tmp_path, text), "meta.name: the text holds a lone surrogate", "nodes.add.params: the key")
    assert err.count("\n") == 2  # one line per problem
    # a whole pair (an emoji) is text, and still loads
    pair = '{"format": "kinograph.graph", "version": 1, "meta": {"name": "\\ud83c\\udfac"}}'
    assert run_cli(capsys, "validate", str(write(tmp_path, pair)))[0] == 0


# -- only regular files of bounded size are read --


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_without_reading(capsys: pytest.CaptureFixture[str], device: str) -> None:
    rejected(capsys, device, "is a device, not a graph file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_and_never_waited_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "g.json"
    os.mkfifo(fifo)
    outcome: list[int] = []
    worker = threading.Thread(target=lambda: outcome.append(main(["validate", str(fifo)])), daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():  # it blocked on open(): release it with a writer, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=5)
        pytest.fail("validate waited on a FIFO")
    err = capsys.readouterr().err
    assert outcome == [2], err
    assert "is a FIFO (named pipe), not a graph file" in err
    assert_clean(err)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kinograph.core.graph_file import MAX_FILE_BYTES

    big = tmp_path / "big.json"
    with open(big, "wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used, and reading it would be slow
    rejected(capsys, big, "larger than 16 MB")


# -- what a graph echoes cannot forge lines or repaint the terminal --


def test_control_characters_in_graph_keys_are_escaped(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {"ok\n error: fake \x1b[31m": {"type": "test.add"}},
    }
    err = rejected(capsys, write(tmp_path, data), "\\n error: fake \\x1b[31m", "not a valid node id")
    assert len(err.splitlines()) == 1
    assert all(line.startswith("error: ") for line in err.splitlines())


def test_control_characters_in_param_names_and_set_values_are_escaped(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data.bin").write_bytes(b"123")
    data = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {
            "read": {"type": "test.read_file", "params": {"path": "data.bin", "pa\nth\x1b[2J": 1}},
            "rec": {"type": "test.record"},
        },
        "links": [{"from": "read.size", "to": "rec.value"}],
    }
    err = rejected(capsys, write(tmp_path, data), "nodes.read.params.pa\\nth\\x1b[2J")
    assert len(err.splitlines()) == 1
    data["nodes"]["read"]["params"].pop("pa\nth\x1b[2J")
    path = write(tmp_path, data)
    code, err = run_cli(capsys, "run", str(path), "--set", "read.path=\x1b[2J\nerror: fake")
    assert code == 2
    assert_clean(err)
    assert not any(line.startswith("error: fake") for line in err.splitlines()), err


def test_a_node_failure_naming_a_hostile_file_is_escaped(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = tmp_path / "x\x1b[31m\nerror: fake.png"
    hostile.write_text("not an image")
    data = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {"load": {"type": "kinograph.image.load", "params": {"path": str(hostile)}}, "rec": {"type": "test.record"}},
        "links": [{"from": "load.image", "to": "rec.value"}],
    }
    code, err = run_cli(capsys, "run", str(write(tmp_path, data)), "--device", "cpu")
    assert code == 1, err  # a node failed: exit 1, with its message
    assert "cannot read image" in err and "\\x1b[31m\\nerror: fake.png" in err
    assert_clean(err)
    assert not any(line.startswith("error: fake") for line in err.splitlines()), err


# -- library warnings: turned into clear refusals, never printed raw --


def png_header(width: int, height: int) -> bytes:
    """A PNG claiming ``width`` x ``height`` whose pixel data is cut short (tiny on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def run_load_image(tmp_path: Path, capsys: pytest.CaptureFixture[str], image: Path) -> tuple[int, str, list[str]]:
    data = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {"load": {"type": "kinograph.image.load", "params": {"path": str(image)}}, "rec": {"type": "test.record"}},
        "links": [{"from": "load.image", "to": "rec.value"}],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, err = run_cli(capsys, "run", str(write(tmp_path, data)), "--device", "cpu")
    return code, err, [f"{w.category.__name__}: {w.message}" for w in caught]


@pytest.mark.parametrize(
    ("width", "height", "needle"),
    [
        (10_001, 10_000, "(10001 x 10000 = 100 megapixels)"),  # just above kinograph's limit
        (20_000, 20_000, "huge.png is too large (400 megapixels)"),  # above Pillow's own error limit too
    ],
)
def test_pictures_above_the_pixel_limit_fail_cleanly(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], width: int, height: int, needle: str
) -> None:
    image = tmp_path / "huge.png"
    image.write_bytes(png_header(width, height))
    code, err, caught = run_load_image(tmp_path, capsys, image)
    assert code == 1, err
    assert needle in err and "at most 100 megapixels" in err, err
    assert_clean(err)
    assert not caught, caught


def test_a_picture_between_pillows_warning_and_the_limit_raises_no_warning(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "big.png"
    image.write_bytes(png_header(9_600, 9_600))  # 92 MP: Pillow warns above 89 MP
    code, err, caught = run_load_image(tmp_path, capsys, image)
    assert code == 1 and "cannot read image" in err, err  # its pixel data is cut short
    assert_clean(err)
    assert not caught, caught


def test_validating_a_torchscript_checkpoint_names_it_without_a_torch_warning(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    archive = tmp_path / "scripted.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.script is deprecated; it is only the test's tool
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(archive))
    data = json.loads((GRAPHS / "image_to_video.json").read_text())
    data["nodes"]["load"]["params"]["path"] = str(GRAPHS / "assets" / "photo.png")
    data["nodes"]["motion"]["params"]["checkpoint"] = str(archive)
    for node in data["nodes"].values():
        if node["type"] == "kinograph.video.write":
            node["params"]["path"] = str(tmp_path / "out.mp4")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        err = rejected(capsys, write(tmp_path, data), "nodes.motion", "TorchScript archive", "refused")
    assert not [str(w.message) for w in caught], [str(w.message) for w in caught]
    assert err.count("\n") == 1


# -- --set values of the wrong kind --


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("animate.fps=true", "param 'fps' takes a number, not a true/false value ('true')"),
        ("animate.width=false", "param 'width' takes a whole number, not a true/false value ('false')"),
        ("animate.fps=yes", "param 'fps' takes a number"),
        ("write.copy_audio=1", "param 'copy_audio' takes true or false, not a number ('1')"),
        ("write.copy_audio=0.5", "param 'copy_audio' takes true or false"),
    ],
)
def test_booleans_and_numbers_are_not_mistaken_for_each_other(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], override: str, needle: str
) -> None:
    code, err = run_cli(capsys, "run", str(GRAPHS / "camera_move.json"), "--set", override)
    assert code == 2, err
    assert f"--set {override}: {needle}" in err, err
    assert_clean(err)


def test_set_values_of_the_right_kind_are_taken(registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kinograph.core.graph import Graph
    from kinograph.host import apply_overrides

    graph = Graph.load(GRAPHS / "camera_move.json")
    apply_overrides(graph, ["animate.fps=30", "write.copy_audio=false", "write.image_sequence=yes", "write.crf=20"])
    params = {name: graph.nodes[node].params[name] for node, name in
              [("animate", "fps"), ("write", "copy_audio"), ("write", "image_sequence"), ("write", "crf")]}
    assert params == {"fps": 30, "copy_audio": False, "image_sequence": True, "crf": 20}


@pytest.mark.parametrize(
    ("node", "param", "value", "said"),
    [
        ("kinograph.frames.test_pattern", "fps", True, "takes a number, not true"),
        ("kinograph.frames.test_pattern", "width", False, "takes a number, not false"),
        ("kinograph.video.write", "copy_audio", 1, "takes true or false, not the number 1"),
    ],
)
def test_true_for_a_number_and_a_number_for_true_are_refused_in_graph_files(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], node: str, param: str, value: object,
    said: str,
) -> None:
    data = {"format": "kinograph.graph", "version": 1, "nodes": {"n": {"type": node, "params": {param: value}}}}
    rejected(capsys, write(tmp_path, data), f"nodes.n.params.{param}: {said}")
