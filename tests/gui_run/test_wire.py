"""Messages between the editor and its run process hold builtins only: reading one runs nothing."""

from __future__ import annotations

import os
import pickle

import pytest

from kinograph.gui.run import wire
from kinograph.host import Failure, NodeState, RunResult, RunStatus


def test_a_result_crosses_as_builtins_and_comes_back_typed() -> None:
    result = RunResult(
        status=RunStatus.FAILED,
        failures=[Failure("b", "test.fail", "this node always fails", "Traceback ...")],
        warnings=[("a", "careful")],
        states={"a": NodeState.DONE, "b": NodeState.FAILED},
        seconds={"a": 0.5},
        keys={"a": "0" * 40},
        plan=["a", "b"],
        device="cpu",
        total_seconds=1.25,
        buffer_peaks={"a.frames": 3},
    )
    outputs = {"a": {"value": ("kinograph.preview", "text", {"type_name": "X", "text": "x"})}}
    message = wire.loads(wire.dumps(("done", 7, wire.result_record(result, outputs), {}, {"pid": 1})))
    back = wire.result_from_record(message[2])
    assert back == RunResult(**{**result.__dict__, "outputs": outputs})
    assert back.status is RunStatus.FAILED and back.states["b"] is NodeState.FAILED
    assert isinstance(back.failures[0], Failure)


def test_anything_but_builtins_is_refused_when_written() -> None:
    with pytest.raises(ValueError):
        wire.dumps(("done", 1, RunResult()))  # a result must cross as its record


class _Runs:
    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, ("echo unpickled",))


def test_a_pickle_that_would_run_code_is_not_read_as_a_message() -> None:
    with pytest.raises((ValueError, EOFError, TypeError)):
        wire.loads(pickle.dumps(("event", _Runs())))
