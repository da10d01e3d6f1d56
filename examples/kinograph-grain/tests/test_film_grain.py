"""Film grain: deterministic per seed and frame, streamed chunk by chunk."""

from __future__ import annotations

import numpy as np

from kinograph.api import FrameChunk, FrameStream
from kinograph.testing import collect_frames, frames_from_array, random_frames


def grain(run_node, frames, chunk_size=8, **params):
    stream = frames_from_array(frames, chunk_size=chunk_size)
    return collect_frames(run_node("grain.film_grain", params, frames=stream)["frames"])


def test_same_seed_gives_the_same_grain_whatever_the_chunk_size(run_node):
    frames = random_frames(10, 40, 56, seed=1)
    a = grain(run_node, frames, chunk_size=3, luma=0.2, chroma=0.1, size=2.0, seed=5)
    b = grain(run_node, frames, chunk_size=8, luma=0.2, chroma=0.1, size=2.0, seed=5)
    c = grain(run_node, frames, chunk_size=8, luma=0.2, chroma=0.1, size=2.0, seed=6)
    assert a.shape == frames.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, frames)


def test_luma_grain_stays_grey_and_chroma_grain_is_coloured(run_node):
    grey = np.full((4, 32, 32, 3), 128, dtype=np.uint8)
    mono = grain(run_node, grey, luma=0.3, chroma=0.0)
    assert np.array_equal(mono[..., 0], mono[..., 1]) and np.array_equal(mono[..., 1], mono[..., 2])
    assert mono.std() > 5
    colour = grain(run_node, grey, luma=0.0, chroma=0.3)
    assert (colour[..., 0] != colour[..., 1]).mean() > 0.5


def test_strength_sets_how_much_grain(run_node):
    grey = np.full((2, 48, 48, 3), 128, dtype=np.uint8)
    weak = grain(run_node, grey, luma=0.05).astype(float) - 128
    strong = grain(run_node, grey, luma=0.4).astype(float) - 128
    assert 3 * weak.std() < strong.std()
    assert np.array_equal(grain(run_node, grey, luma=0.0, chroma=0.0), grey)


def test_still_grain_repeats_and_animated_grain_moves(run_node):
    grey = np.full((3, 24, 24, 3), 100, dtype=np.uint8)
    still = grain(run_node, grey, luma=0.3, animated=False)
    moving = grain(run_node, grey, luma=0.3, animated=True)
    assert np.array_equal(still[0], still[2])
    assert not np.array_equal(moving[0], moving[2])


def test_grain_pulls_its_input_one_chunk_at_a_time(run_node):
    pulled = []

    def source():
        for start in range(0, 40, 4):
            pulled.append(start)
            yield FrameChunk(start, np.full((4, 16, 16, 3), start, dtype=np.uint8))

    stream = FrameStream(source, fps=24.0, width=16, height=16, frame_count=40)
    out = iter(run_node("grain.film_grain", {"luma": 0.1}, frames=stream)["frames"])
    first = next(out)
    assert first.start == 0 and first.count == 4
    assert pulled == [0]  # nothing beyond the first chunk was computed
