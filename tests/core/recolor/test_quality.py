"""Recolouring quality on generated footage: identity, luminance structure, palette movement,
temporal stability (the numbers `bench/recolor.py` also prints)."""

import numpy as np
import pytest
from recolor_media import frames_video, natural_frames

from m2p_core.colour.space import hex_to_lab, srgb01_to_lab
from m2p_core.palette.extract import extract_palette_rgb
from m2p_core.palette.track import Keyframe, PaletteTrack
from m2p_core.recolor.metrics import palette_reduction, ssim
from m2p_core.recolor.video import RecolorParams, recolor_video
from m2p_core.video.transcode import iter_yuv_frames

SUNSET = hex_to_lab(["#1b1f3a", "#53354a", "#a64942", "#ff7844", "#ffd56b"])
TEAL = hex_to_lab(["#0b2f3a", "#1d5c63", "#417d7a", "#9fc9c3", "#ede6db"])


def rgb_frames(path):
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    return frames_video(tmp_path_factory.mktemp("q") / "nat.mp4", natural_frames(320, 180, 12))


def test_strength_zero_is_exact_identity(footage, tmp_path):
    out = tmp_path / "o.mp4"
    recolor_video(footage, out, PaletteTrack.constant(SUNSET),
                  RecolorParams(strength=0.0, crf=0, preset="ultrafast"))  # crf 0: lossless
    a = list(iter_yuv_frames(footage))
    b = list(iter_yuv_frames(out))
    assert len(a) == len(b)
    for (_, pa, _), (_, pb, _) in zip(a, b, strict=True):
        for x, y in zip(pa, pb, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("target", [SUNSET, TEAL])
def test_luminance_kept_and_palette_moves(footage, tmp_path, target):
    out = tmp_path / "o.mp4"
    recolor_video(footage, out, PaletteTrack.constant(target),
                  RecolorParams(strength=1.0, crf=12, preset="ultrafast"))
    before, after = rgb_frames(footage)[6], rgb_frames(out)[6]
    lab0 = srgb01_to_lab(before / 255.0)
    lab1 = srgb01_to_lab(after / 255.0)
    assert ssim(lab0[..., 0], lab1[..., 0]) >= 0.9
    p0, _ = extract_palette_rgb(before)
    p1, _ = extract_palette_rgb(after)
    assert palette_reduction(p0, p1, target) >= 0.5


def test_static_shot_stays_stable_across_a_palette_change(tmp_path):
    still = natural_frames(160, 96, 1)[0]
    src = frames_video(tmp_path / "still.mp4", [still] * 50, fps=10)
    # a 3-s transition
    track = PaletteTrack([Keyframe(0.0, 1.0, SUNSET), Keyframe(4.0, 5.0, TEAL)], transition_s=3.0)
    out = tmp_path / "o.mp4"
    recolor_video(src, out, track, RecolorParams(strength=1.0, crf=12, preset="ultrafast"))

    def steps(frames):
        labs = [srgb01_to_lab(f / 255.0) for f in frames]
        return np.array([np.abs(b - a).mean() for a, b in zip(labs, labs[1:], strict=False)])

    s_in, s_out = steps(rgb_frames(src)), steps(rgb_frames(out))
    first, last = rgb_frames(out)[0], rgb_frames(out)[-1]
    assert np.abs(first.astype(int) - last).mean() > 5  # the palette did change...
    # ...gradually: no frame carries more than 10% of the whole change (a step would carry all)
    assert s_out.max() <= s_in.max() + 0.1 * s_out.sum()
