"""Upgrades: a graph saved with film grain version 1 still loads, migrates and runs."""

from __future__ import annotations

import json
import shutil

import numpy as np
from conftest import FIXTURES

from kinograph.testing import collect_frames, frames_from_array


def test_version_1_params_are_renamed_split_and_keep_old_defaults(kinograph_registry):
    graph = kinograph_registry.graph(FIXTURES / "grain_v1.json")
    colour = graph.nodes["colour_grain"]
    assert colour.version == 2
    # amount + monochrome=false -> chroma; grain_size -> size
    assert colour.params == {"luma": 0.0, "chroma": 0.25, "size": 2.0, "seed": 3, "animated": True}
    old = graph.nodes["old_defaults"]
    # An omitted grain_size meant version 1's default 1.0, not version 2's 1.5.
    assert old.params == {"luma": 0.3, "chroma": 0.0, "size": 1.0, "seed": 0, "animated": True}


def test_version_1_graph_runs_like_the_migrated_params(kinograph_registry, graph_outputs):
    graph = kinograph_registry.graph(FIXTURES / "grain_v1.json")
    outputs = graph_outputs(graph, "pattern.frames", "colour_grain.frames", "old_defaults.frames")
    pattern = outputs["pattern.frames"]
    assert outputs["colour_grain.frames"].shape == (6, 48, 64, 3)
    for node_id, params in [
        ("colour_grain", {"luma": 0.0, "chroma": 0.25, "size": 2.0, "seed": 3}),
        ("old_defaults", {"luma": 0.3, "chroma": 0.0, "size": 1.0, "seed": 0}),
    ]:
        direct = kinograph_registry.run_node("grain.film_grain", params, frames=frames_from_array(pattern))
        assert np.array_equal(outputs[f"{node_id}.frames"], collect_frames(direct["frames"]))


def test_version_1_file_runs_whole_and_saves_as_version_2(kinograph_registry, run_graph_file, tmp_path):
    shutil.copy(FIXTURES / "grain_v1.json", tmp_path / "grain_v1.json")
    result = run_graph_file(tmp_path / "grain_v1.json")
    assert result.ok, result.failures
    assert (tmp_path / "out" / "v1_sheet.png").is_file()
    graph = kinograph_registry.graph(tmp_path / "grain_v1.json")
    graph.save(tmp_path / "saved.json")
    saved = json.loads((tmp_path / "saved.json").read_text())["nodes"]["colour_grain"]
    assert saved["version"] == 2
    assert saved["params"]["chroma"] == 0.25
    # Loading the saved file again leaves version-2 params alone.
    again = kinograph_registry.graph(tmp_path / "saved.json")
    assert again.nodes["colour_grain"].params == graph.nodes["colour_grain"].params
