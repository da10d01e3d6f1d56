"""The Palette port type, its nodes, and its converters to built-in Text and Tensor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from kinograph_grain.palette import Palette
from pydantic import ValidationError

from kinograph.api import TENSOR, TEXT, Input, Node, NodeParams, RunContext, hookimpl
from kinograph.testing import collect_frames, frames_from_array, random_frames


class Probe(Node):
    """A node from another plugin taking built-in types, to link palettes into."""

    type_id = "probe.inspect"
    output_node = True
    inputs = [Input("text", TEXT, optional=True), Input("tensor", TENSOR, optional=True)]
    seen: dict[str, Any] = {}

    class Params(NodeParams):
        pass

    def run(self, ctx: RunContext, text: str | None = None, tensor: Any = None) -> dict[str, Any]:
        Probe.seen = {"text": text, "tensor": tensor}
        return {}


class ProbePlugin:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [Probe]


def test_palette_map_uses_only_palette_colours(run_node):
    palette = run_node("grain.palette", {"colors": "#000000, #ffffff, #ff0000"})["palette"]
    assert palette == Palette(((0, 0, 0), (255, 255, 255), (255, 0, 0)))
    frames = random_frames(3, 20, 30)
    out = collect_frames(
        run_node("grain.palette_map", {"mix": 1.0}, frames=frames_from_array(frames), palette=palette)["frames"]
    )
    colours = {tuple(c) for c in out.reshape(-1, 3)}
    assert colours <= set(palette.colors) and len(colours) == 3
    # Nearest colour: a pixel brighter than mid grey on every channel maps to white.
    bright = (frames > 200).all(axis=-1)
    assert (out[bright] == 255).all()
    unchanged = run_node("grain.palette_map", {"mix": 0.0}, frames=frames_from_array(frames), palette=palette)
    assert np.array_equal(collect_frames(unchanged["frames"]), frames)


def test_bad_colour_is_a_param_error_naming_it(kinograph_registry):
    with pytest.raises(ValidationError, match="'#12345' is not a colour"):
        kinograph_registry.params("grain.palette", {"colors": "#000000, #12345"})


def test_palette_feeds_text_and_tensor_inputs_through_converters(kinograph_registry, register_plugin):
    register_plugin(ProbePlugin(), "probe")
    graph = kinograph_registry.graph()
    graph.add_node("grain.palette", "palette", {"colors": "#102030, #ffffff"})
    graph.add_node("probe.inspect", "probe")
    graph.connect("palette.palette", "probe.text")
    graph.connect("palette.palette", "probe.tensor")
    result = kinograph_registry.run(graph)
    assert result.ok, result.failures
    assert Probe.seen["text"] == "#102030, #ffffff"
    assert Probe.seen["tensor"].dtype == np.uint8
    assert Probe.seen["tensor"].tolist() == [[16, 32, 48], [255, 255, 255]]


def test_palette_cannot_feed_frames_and_says_why(kinograph_registry):
    graph = kinograph_registry.graph()
    graph.add_node("grain.palette", "palette")
    graph.add_node("grain.film_grain", "grain")
    reason = graph.check_link("palette.palette", "grain.frames")
    assert reason == "palette.palette (Palette) cannot feed grain.frames (FrameStream)"


def test_the_viewer_shows_a_palette_as_swatches(kinograph_registry):
    palette = Palette.parse("#ff0000, #0000ff")
    preview = kinograph_registry.preview("Palette", palette)
    assert preview["kind"] == "image"
    image = preview["image"]
    assert image.shape == (32, 64, 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == (255, 0, 0) and tuple(image[-1, -1]) == (0, 0, 255)
