"""Bad graph files and bad --set values: exit 2, one clear line naming the place, no traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinograph.cli import main
from kinograph.core.registry import Registry


def good_graph(tmp_path: Path) -> dict[str, Any]:
    data_file = tmp_path / "data.bin"
    data_file.write_bytes(b"12345")
    return {
        "format": "kinograph.graph",
        "version": 1,
        "meta": {"name": "t"},
        "nodes": {
            "read": {"type": "test.read_file", "version": 1, "params": {"path": "data.bin"}},
            "add": {"type": "test.add", "version": 1, "params": {"offset": 1}},
            "rec": {"type": "test.record", "version": 1, "params": {}},
        },
        "links": [{"from": "read.size", "to": "add.a"}, {"from": "add.sum", "to": "rec.value"}],
    }


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err


def check_rejected(capsys: pytest.CaptureFixture[str], path: Path, *needles: str, command: str = "validate") -> str:
    code, err = run_cli(capsys, command, str(path))
    assert code == 2, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    return err


def write(tmp_path: Path, data: Any, name: str = "g.json") -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_good_graph_validates_and_runs(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, good_graph(tmp_path))
    assert run_cli(capsys, "validate", str(path))[0] == 0
    assert run_cli(capsys, "run", str(path), "--device", "cpu")[0] == 0


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (b"{not json", ["not valid JSON", "line 1"]),
        (b"", ["empty"]),
        (b"   \n", ["empty"]),
        (b'{"format": "kinograph.graph", "meta": {"name": "\xff\xfe"}}', ["not UTF-8"]),
        (b"[1, 2, 3]", ["expected a JSON object"]),
        (b'{"format": "kinograph.graph", "format": "kinograph.graph", "version": 1}', ["duplicate key 'format'"]),
        (b'{"format": "kinograph.graph", "version": 1, "meta": {"x": NaN}}', ["NaN is not allowed"]),
        (b'{"format": "kinograph.graph", "version": 1, "meta": {"x": 1e400}}', ["too large"]),
        (b"[" * 100_000 + b"]" * 100_000, ["nesting deeper"]),
        (b'{"format": "comfyui", "version": 1}', ["not a kinograph graph"]),
        (b'{"format": "kinograph.graph", "version": 7}', ["newer kinograph", "upgrade"]),
        (b'{"format": "kinograph.graph", "version": 1, "nodes": [], "links": []}', ["nodes"]),
    ],
    ids=["not-json", "empty", "blank", "bad-utf8", "wrong-shape", "duplicate-key", "nan", "inf", "deep",
         "wrong-format", "future-version", "nodes-not-object"],
)
def test_broken_files(registry: Registry, tmp_path: Path, capsys, content: bytes, needles: list[str]) -> None:  # type: ignore[no-untyped-def]
    check_rejected(capsys, write(tmp_path, content), *needles)


def mutate(tmp_path: Path, change: Any) -> Path:
    data = good_graph(tmp_path)
    change(data)
    return write(tmp_path, data)


CASES: list[tuple[str, Any, list[str]]] = [
    ("bad-node-id", lambda d: d["nodes"].__setitem__("9 bad", {"type": "test.add"}), ["nodes.9 bad"]),
    ("unknown-type", lambda d: d["nodes"].__setitem__("x", {"type": "acme.blur", "plugin": {"name": "acme", "dist": "acme-nodes"}}),
     ["nodes.x", "unknown node type 'acme.blur'", "pip install acme-nodes"]),
    ("unknown-port", lambda d: d["links"].append({"from": "read.sizes", "to": "add.b"}), ["read has no output 'sizes'", "size"]),
    ("missing-node", lambda d: d["links"].append({"from": "ghost.out", "to": "add.b"}), ["'ghost' that does not exist"]),
    ("two-links-one-input", lambda d: d["links"].append({"from": "read.size", "to": "add.a"}), ["add.a already has a link"]),
    ("cycle", lambda d: (d["nodes"].__setitem__("add2", {"type": "test.add"}),
                         d["links"].extend([{"from": "add.sum", "to": "add2.a"}, {"from": "add2.sum", "to": "add.b"}])),
     ["cycle", "add", "add2"]),
    ("missing-required-input", lambda d: d["links"].pop(0), ["nodes.add.inputs.a", "not linked"]),
    ("param-wrong-type", lambda d: d["nodes"]["add"]["params"].__setitem__("offset", "lots"), ["nodes.add.params.offset"]),
    ("param-unknown", lambda d: d["nodes"]["add"]["params"].__setitem__("ofset", 1), ["unknown param 'ofset'", "offset"]),
    ("input-path-missing", lambda d: d["nodes"]["read"]["params"].__setitem__("path", "nope.bin"), ["nodes.read.params.path", "does not exist"]),
    ("type-mismatch", lambda d: (d["nodes"].__setitem__("src", {"type": "test.source"}), d["links"].append({"from": "src.frames", "to": "add.b"})),
     ["src.frames (FrameStream) cannot feed add.b (Number)"]),
    ("link-shape", lambda d: d["links"].append({"from": "read", "to": "add.b"}), ["links[2].from"]),
]


@pytest.mark.parametrize(("name", "change", "needles"), CASES, ids=[c[0] for c in CASES])
def test_graph_mistakes(registry: Registry, tmp_path: Path, capsys, name: str, change: Any, needles: list[str]) -> None:  # type: ignore[no-untyped-def]
    path = mutate(tmp_path, change)
    check_rejected(capsys, path, *needles)
    check_rejected(capsys, path, *needles, command="run")


class BoundedParams:
    pass


@pytest.mark.parametrize(
    ("override", "needles"),
    [
        ("ghost.offset=1", ["there is no node 'ghost'"]),
        ("add.ofset=1", ["node 'add' has no param 'ofset'", "offset"]),
        ("add.offset=abc", ["--set add.offset=abc", "offset"]),
        ("add", ["expected NODE.PARAM=VALUE"]),
    ],
)
def test_bad_set_values(registry: Registry, tmp_path: Path, capsys, override: str, needles: list[str]) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, good_graph(tmp_path))
    code, err = run_cli(capsys, "run", str(path), "--set", override)
    assert code == 2
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err


def test_params_out_of_bounds_and_not_in_enum(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {
            "tp": {"type": "kinograph.frames.test_pattern", "params": {"width": 3}},
            "w": {"type": "test.write_text", "params": {"path": "o.txt"}},
        },
        "links": [{"from": "tp.frames", "to": "w.frames"}],
    }
    err = check_rejected(capsys, write(tmp_path, data), "nodes.tp.params.width", "greater than or equal to 16")
    assert err.count("\n") == 1  # one line per problem


def test_missing_graph_file(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, err = run_cli(capsys, "run", str(tmp_path / "nope.json"))
    assert code == 2 and "no such file" in err and "Traceback" not in err


def test_usage_errors_exit_2(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(capsys, "frobnicate")[0] == 2
    assert run_cli(capsys, "run")[0] == 2
    assert run_cli(capsys, "run", "x.json", "--device", "tpu")[0] == 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=400), st.text(max_size=300).map(str.encode),
                 st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=10),
                              lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                              max_leaves=20).map(lambda v: json.dumps({"format": "kinograph.graph", "version": 1, "nodes": v}).encode())))
def test_arbitrary_bytes_never_crash(tmp_path_factory, capsys, data: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("fuzz") / "g.json"
    path.write_bytes(data)
    for command in ("validate", "run"):
        code = main([command, str(path), "--device", "cpu"] if command == "run" else [command, str(path)])
        err = capsys.readouterr().err
        assert code in (0, 2), err
        assert "Traceback" not in err and "internal error" not in err


def test_media_files_are_named_not_parsed(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.new("RGB", (4, 4)).save(photo)
    check_rejected(capsys, photo, "this is a PNG image, not a graph file", "kinograph gui")


def test_nan_and_infinity_params_are_refused(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, good_graph(tmp_path))
    for value in ("nan", "inf", "-Infinity"):
        code, err = run_cli(capsys, "run", str(path), "--set", f"add.offset={value}")
        assert code == 2 and "finite number" in err and "Traceback" not in err


def test_output_under_a_file_is_a_clear_error(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from kinograph.api import KinographError, output_target

    blocker = tmp_path / "photo.jpg"
    blocker.write_text("x")
    with pytest.raises(KinographError, match=r"photo\.jpg is a file, not a folder"):
        output_target(blocker / "sub" / "out.mp4")
