"""Camera path: a hand-set Motion from start to end values with easing."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from kinograph.api import Motion
from kinograph.plugins.camera.camera_path import EASINGS, CameraPath
from kinograph.testing import PluginHarness

PATH = "kinograph.motion.camera_path"


@pytest.fixture
def harness() -> PluginHarness:
    return PluginHarness()


def test_motion_runs_from_start_to_end(harness) -> None:
    params = {
        "steps": 30, "pan_x_start": -0.1, "pan_x_end": 0.2, "pan_y_start": 0.05, "pan_y_end": -0.05,
        "zoom_start": 1.0, "zoom_end": 2.0, "rotate_start": -5, "rotate_end": 10, "easing": "linear",
    }
    motion = harness.run_node(PATH, params)["motion"]
    assert isinstance(motion, Motion) and motion.steps == 30 and motion.flow is None
    assert motion.source == "camera_path"
    assert (motion.pan_x[0], motion.pan_x[-1]) == pytest.approx((-0.1, 0.2))
    assert (motion.pan_y[0], motion.pan_y[-1]) == pytest.approx((0.05, -0.05))
    assert (motion.zoom[0], motion.zoom[-1]) == pytest.approx((1.0, 2.0))
    assert (motion.rotation[0], motion.rotation[-1]) == pytest.approx((-5.0, 10.0))
    # Linear pan: equal steps. Zoom is geometric: equal ratios.
    steps = [b - a for a, b in zip(motion.pan_x, motion.pan_x[1:], strict=False)]
    assert max(steps) == pytest.approx(min(steps))
    ratios = [b / a for a, b in zip(motion.zoom, motion.zoom[1:], strict=False)]
    assert max(ratios) == pytest.approx(min(ratios))


@pytest.mark.parametrize("easing", sorted(EASINGS))
def test_easings_are_monotonic_and_hit_the_ends(easing: str) -> None:
    ease = EASINGS[easing]
    values = [ease(i / 100) for i in range(101)]
    assert values[0] == pytest.approx(0.0) and values[-1] == pytest.approx(1.0)
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(values))


def test_ease_in_out_starts_and_ends_slowly(harness) -> None:
    motion = harness.run_node(PATH, {"steps": 41, "pan_x_end": 0.4, "easing": "ease_in_out"})["motion"]
    speeds = [abs(b - a) for a, b in zip(motion.pan_x, motion.pan_x[1:], strict=False)]
    assert speeds[0] < speeds[20] / 10 and speeds[-1] < speeds[20] / 10


def test_one_step_is_the_start(harness) -> None:
    motion = harness.run_node(PATH, {"steps": 1, "zoom_start": 1.5, "zoom_end": 3.0})["motion"]
    assert motion.steps == 1 and motion.zoom[0] == pytest.approx(1.5)


def test_params_are_bounded() -> None:
    with pytest.raises(ValidationError):
        CameraPath.Params(zoom_end=0)
    with pytest.raises(ValidationError):
        CameraPath.Params(pan_x_end=2.0)
    with pytest.raises(ValidationError):
        CameraPath.Params(easing="bounce")
