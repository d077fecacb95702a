"""The LUT schedule: one bake per (source palette, target keyframe) pair, dissolves between."""

import numpy as np
import pytest

from m2p_core.colour.space import hex_to_lab
from m2p_core.colour.yuv import YuvSpec
from m2p_core.palette.track import Keyframe, PaletteTrack, smoothstep
from m2p_core.recolor.lut_kernel import NC, NY, YuvLut, mix
from m2p_core.recolor.transfer import TransferParams
from m2p_core.recolor.video import LutSchedule, SourceState
from m2p_core.synth.look_scene import MOOD_PALETTES

SRC = hex_to_lab(["#2a3b1c", "#5d7a3a", "#8fa3b8", "#c9b79c", "#e8eef4"])
SRC2 = hex_to_lab(["#3b2a1c", "#7a5d3a", "#a38fb8", "#b7c99c", "#eee8f4"])
CALM = hex_to_lab(["#1b1f3a", "#53354a", "#7d8fa6", "#a8c5d6", "#e6eef2"])
TENSE = hex_to_lab(MOOD_PALETTES["tense"][0])
SPEC = YuvSpec()


def two_keyframe_track() -> PaletteTrack:
    """CALM over [0, 10] s, TENSE over [14, 30] s, a 3-s transition centred at 12 s."""
    return PaletteTrack([Keyframe(0.0, 10.0, CALM), Keyframe(14.0, 30.0, TENSE)],
                        transition_s=3.0)


def test_a_transition_bakes_only_its_two_keyframes_and_dissolves_between_them():
    track = two_keyframe_track()
    sched = LutSchedule(track, SPEC, TransferParams(strength=0.8))
    state = SourceState(SRC, SRC)
    frames = [sched.lut_at(t, state) for t in np.arange(0.0, 20.0, 1 / 30)]
    assert sched.bakes == 2  # a bake per 0.5-s grid point of the transition before
    calm = sched.lut_at_time(5.0, state)
    tense = sched.lut_at_time(18.0, state)
    assert calm is not tense
    # mid-transition: the smoothstep-weighted dissolve of the two keyframes' grades
    i, j, f = track.locate(12.5)
    assert (i, j) == (0, 1) and f == pytest.approx(float(smoothstep(2.0 / 3.0)))
    expect = mix([calm, tense], [1 - f, f])
    got = sched.lut_at_time(12.5, state)
    np.testing.assert_array_equal(got.chroma_delta, expect.chroma_delta)
    np.testing.assert_array_equal(got.y_curve, expect.y_curve)
    # frames change continuously: no frame's grade jumps by more than a grid step's share
    steps = [np.abs(b.chroma_delta.astype(int) - a.chroma_delta).max()
             for a, b in zip(frames[:-1], frames[1:], strict=True)]
    full = np.abs(tense.chroma_delta.astype(int) - calm.chroma_delta).max()
    assert max(steps) < 0.1 * full
    # outside transitions every frame uses the baked grade itself (its fine table is reused)
    assert sched.lut_at(3.0, state) is calm and sched.lut_at(25.0, state) is tense


def test_a_source_ease_dissolves_between_the_grades_of_its_two_palettes():
    track = PaletteTrack.constant(TENSE)
    sched = LutSchedule(track, SPEC, TransferParams(strength=0.8))
    state = SourceState(SRC, SRC2, ease_start=4.0, ease_s=1.0)
    luts = [sched.lut_at(t, state) for t in np.arange(0.0, 8.0, 1 / 30)]
    assert sched.bakes == 2
    before, after = sched.lut_at_time(3.0, state), sched.lut_at_time(6.0, state)
    w = state.weight(4.25)
    assert 0.0 < w < 1.0
    expect = mix([before, after], [1 - w, w])
    np.testing.assert_array_equal(sched.lut_at_time(4.25, state).chroma_delta,
                                  expect.chroma_delta)
    assert luts[0] is before and luts[-1] is after


def test_strength_zero_never_bakes():
    sched = LutSchedule(two_keyframe_track(), SPEC, TransferParams(strength=0.0))
    state = SourceState(SRC, SRC2, ease_start=1.0)
    for t in np.arange(0.0, 20.0, 0.25):
        assert sched.lut_at(t, state).is_identity
    assert sched.bakes == 0


def test_mix_is_a_convex_dissolve():
    rng = np.random.default_rng(0)
    a = YuvLut(np.arange(256, dtype=np.uint8),
               rng.integers(-200, 200, (NC, NC, NY, 2)).astype(np.int16))
    b = YuvLut(np.clip(np.arange(256) * 1.3 - 20, 0, 255).astype(np.uint8),
               rng.integers(-200, 200, (NC, NC, NY, 2)).astype(np.int16))
    assert mix([a, b], [1.0, 0.0]) is a and mix([a], [1.0]) is a
    m = mix([a, b], [0.25, 0.75])
    assert np.all(np.diff(m.y_curve.astype(int)) >= 0)  # monotonic stays monotonic
    lo = np.minimum(a.chroma_delta, b.chroma_delta)
    hi = np.maximum(a.chroma_delta, b.chroma_delta)
    assert np.all((m.chroma_delta >= lo) & (m.chroma_delta <= hi))
    np.testing.assert_allclose(m.chroma_delta, 0.25 * a.chroma_delta + 0.75 * b.chroma_delta,
                               atol=0.5)
    with pytest.raises(ValueError):
        mix([a, b], [0.0, 0.0])
