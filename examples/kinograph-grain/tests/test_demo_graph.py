"""The demo graph: every node of the plugin in one pipeline, written as a contact sheet."""

from __future__ import annotations

import json
import shutil

import numpy as np
from conftest import GRAPHS
from PIL import Image


def test_demo_graph_writes_a_contact_sheet_that_embeds_the_graph(run_graph_file, tmp_path):
    shutil.copy(GRAPHS / "demo.json", tmp_path / "demo.json")
    result = run_graph_file(tmp_path / "demo.json")
    assert result.ok, result.failures
    sheet_path = tmp_path / "out" / "demo_sheet.png"
    assert result.outputs["sheet"]["path"] == str(sheet_path)
    with Image.open(sheet_path) as image:
        # 24 frames, every 6th -> 4 thumbnails of 80x48 in 2 columns.
        assert image.size == (160, 96)
        embedded = json.loads(image.text["kinograph:graph"])
        pixels = np.asarray(image.convert("RGB"))
    assert set(embedded["nodes"]) == {"pattern", "palette", "recolour", "grain", "sharpen", "sheet"}
    assert pixels.std() > 10  # real frames, not an empty sheet
