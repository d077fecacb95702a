"""m2p_core.palette.track: one palette curve for recolouring and generated video."""

import numpy as np

from m2p_core.colour.space import palette_distance
from m2p_core.palette.sections import find_sections, whole_media
from m2p_core.palette.track import Keyframe, PaletteTrack, smoothstep

WARM = np.array([[30, 40, 30], [50, 50, 50], [60, 20, 60], [75, 10, 70], [90, 0, 30.0]])
COOL = np.array([[20, 5, -40], [40, -10, -30], [55, -20, -10], [70, -15, 5], [85, 0, -5.0]])


def _rows(palettes, hop=5.0, window=10.0):
    return [{"window_index": i, "start_s": i * hop, "end_s": i * hop + window,
             "palette_lab": p.tolist(), "weights": [0.2] * len(p), "valence": 0.1 * i,
             "arousal": -0.1 * i} for i, p in enumerate(palettes)]


def test_recolour_sections_are_the_exported_sections():
    """The grade the recolour applies to section n is the palette `m2p export` writes for it."""
    rng = np.random.default_rng(0)
    pals = [WARM + rng.normal(0, 2, WARM.shape) for _ in range(4)]
    pals += [COOL + rng.normal(0, 2, COOL.shape) for _ in range(4)]
    pals += [WARM + rng.normal(0, 2, WARM.shape) for _ in range(3)]
    rows = _rows(pals)
    sections = find_sections(rows)
    track = PaletteTrack.of_sections(rows)
    assert len(sections) == len(track.keyframes) == 3
    for s, f, lab in zip(sections, track.keyframes, track.lab, strict=True):
        assert np.array_equal(f.palette_lab, s.palette_lab)
        assert palette_distance(lab, s.palette_lab) < 1e-9  # same colours, aligned order
    # inside a section (between its first and last window centres) the palette is constant
    first, last = sections[1].window_indices[0], sections[1].window_indices[-1]
    for t in np.linspace(5.0 * first + 5.0 + 1.6, 5.0 * last + 5.0 - 1.6, 7):
        assert palette_distance(track.palette_at(t), sections[1].palette_lab) < 1e-9


def test_windows_track_reaches_every_window_and_moves_smoothly():
    rows = _rows([WARM, COOL, WARM])
    track = PaletteTrack.of_windows(rows)
    for r in rows:
        centre = 0.5 * (r["start_s"] + r["end_s"])
        point = track.at(centre)
        assert palette_distance(point.palette_lab, np.array(r["palette_lab"])) < 1e-9
        assert abs(point.valence - r["valence"]) < 1e-9
    # halfway between two centres: half way along the smoothstep
    mid = track.at(7.5)
    assert abs(mid.valence - 0.05) < 1e-9
    assert np.allclose(mid.weights.sum(), 1.0)


def test_transition_width_and_constant_track():
    track = PaletteTrack([Keyframe(0.0, 1.0, WARM), Keyframe(4.0, 5.0, COOL)], transition_s=2.0)
    # the 2-s transition runs from 1.5 to 3.5 s
    assert np.array_equal(track.palette_at(1.4), track.lab[0])
    assert np.array_equal(track.palette_at(3.6), track.lab[1])
    assert 0 < palette_distance(track.palette_at(2.5), WARM) < palette_distance(COOL, WARM)
    const = PaletteTrack.constant(WARM)
    assert np.array_equal(const.palette_at(123.0), WARM)
    assert smoothstep(0.5) == 0.5 and smoothstep(-1.0) == 0.0 and smoothstep(2.0) == 1.0


def test_representative_palette_is_the_medoid_window():
    rows = _rows([WARM, WARM + 1.0, COOL])
    assert np.array_equal(whole_media(rows).palette_lab, np.array(rows[0]["palette_lab"])) or \
        np.array_equal(whole_media(rows).palette_lab, np.array(rows[1]["palette_lab"]))
