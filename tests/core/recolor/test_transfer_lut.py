"""Palette transfer, LUT baking/application, palette extraction, shots, target tracks."""

import numpy as np
import pytest

from m2p_core.colour.space import (
    hex_to_lab,
    in_srgb_gamut,
    lab_to_srgb01,
    palette_distance,
    srgb01_to_lab,
)
from m2p_core.colour.yuv import YuvSpec
from m2p_core.palette.extract import ShotDetector, weighted_kmeans
from m2p_core.palette.track import PaletteTrack
from m2p_core.recolor.lut import apply_rgb_lut, bake_rgb_lut, bake_yuv_lut
from m2p_core.recolor.lut_kernel import (
    C_SHIFT,
    D_ONE,
    F_ONE,
    GUIDE,
    GUIDE_RANGE,
    NC,
    NY,
    Y_SHIFT,
    YuvLut,
    apply_yuv420,
    apply_yuv420_copy,
    mix,
)
from m2p_core.recolor.metrics import palette_reduction, ssim
from m2p_core.recolor.transfer import (
    PaletteTransfer,
    TransferParams,
    luminance_knots,
    skin_membership,
)

SRC = hex_to_lab(["#203040", "#3c6e3c", "#6496c8", "#c8b496", "#f0f0e6"])
TGT = hex_to_lab(["#1b1f3a", "#53354a", "#a64942", "#ff7844", "#ffd56b"])
SKIN = hex_to_lab(["#e0ac8c", "#8d5524", "#c68642", "#f1c27d"])


def planes(seed=0, h=48, w=64):
    rng = np.random.default_rng(seed)
    return (rng.integers(16, 236, (h, w), dtype=np.uint8),
            rng.integers(16, 241, (h // 2, w // 2), dtype=np.uint8),
            rng.integers(16, 241, (h // 2, w // 2), dtype=np.uint8))


def test_transfer_maps_palette_to_target_and_keeps_gamut():
    # Chang's interpolating transfer (match="rank") reaches its paired targets exactly; the
    # default smooth transfer deliberately does not interpolate (tests/core/test_grade_look.py)
    t = PaletteTransfer(SRC, TGT, TransferParams(luminance=1.0, protect_skin=False,
                                                 min_slope=0.01, max_slope=100, match="rank"))
    out = t.apply(t.source)
    in_gamut = in_srgb_gamut(out)
    np.testing.assert_allclose(out[in_gamut, 1:], t.target[in_gamut, 1:], atol=1.0)
    rng = np.random.default_rng(1)
    lab = np.stack([rng.uniform(5, 95, 500), rng.uniform(-40, 40, 500),
                    rng.uniform(-40, 40, 500)], axis=1)
    lab = lab[in_srgb_gamut(lab)]
    assert in_srgb_gamut(t.apply(lab), tol=1e-3).all()


def test_transfer_is_continuous_along_saturated_gradients():
    """Gradients of the sRGB primaries and secondaries (black -> full colour, on the gamut
    boundary all the way) come out as gradients: no output step much larger than the input
    steps (a move that was cut to zero where it pointed out of gamut drew lines here)."""
    src = np.array([[10.2, 1.1, 1.1], [32.7, 69.2, -65.7], [39.2, 63.8, 52.4],
                    [69.8, -43.2, 70.1], [75.6, -20.0, -6.0]])
    tgt = np.array([[15.8, 36.6, 24.6], [29.5, 52.6, 43.0], [39.1, 63.4, 53.4],
                    [50.9, 14.7, -63.9], [62.6, 52.8, 42.1]])
    t = PaletteTransfer(src, tgt, TransferParams(strength=0.8))
    ramp = np.linspace(0.0, 1.0, 256)[:, None]
    for rgb in ([1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 0], [0, 1, 1]):
        lab = srgb01_to_lab(ramp * np.array(rgb, float))
        out = t.apply(lab)
        assert in_srgb_gamut(out, tol=1e-3).all()
        step_in = np.linalg.norm(np.diff(lab, axis=0), axis=1)
        step_out = np.linalg.norm(np.diff(out, axis=0), axis=1)
        assert step_out.max() <= 3.0 * step_in.max() + 0.5, (rgb, step_out.max(), step_in.max())


def test_luminance_curve_is_monotonic_with_bounded_slope():
    p = TransferParams()
    xs, ys = luminance_knots(np.array([10, 10.5, 50, 80, 99.8]), np.array([60, 5, 20, 30, 40]), p)
    assert xs[0] == ys[0] == 0 and xs[-1] == ys[-1] == 100
    slopes = np.diff(ys) / np.diff(xs)
    assert (slopes > 0).all() and slopes.min() >= p.min_slope * 0.8
    assert slopes.max() <= p.max_slope * 1.25


def test_rbf_weights_are_local_so_a_colour_cluster_moves_with_its_palette_colour():
    """Grain around a palette colour moves (on average) nearly as its palette colour does; with
    Chang's full σ the distant colours' shifts leak in (a cluster moved ~60-70% of its move)."""
    rng = np.random.default_rng(0)

    def fractions(params):
        t = PaletteTransfer(SRC, TGT, params)
        out = []
        for c in t.source:
            cloud = c + rng.normal(0, 5, (2000, 3))
            move = (t.apply(cloud) - cloud)[:, 1:].mean(axis=0)
            centre = (t.apply(c[None]) - c[None])[0, 1:]
            out.append(move @ centre / (centre @ centre))
        return np.array(out)

    local = fractions(TransferParams(protect_skin=False, luminance=0.0, match="rank"))
    chang = fractions(TransferParams(protect_skin=False, luminance=0.0, rbf_scale=1.0,
                                     match="rank"))
    assert local.min() >= 0.75 and local.mean() >= 0.85
    assert chang.min() < 0.65  # what the default avoids
    smooth = fractions(TransferParams(protect_skin=False, luminance=0.0))  # the default "ot"
    assert smooth.min() >= 0.75 and smooth.mean() >= 0.85
    with pytest.raises(ValueError):
        TransferParams(rbf_scale=0.0)


def test_strength_zero_and_skin_protection():
    assert np.array_equal(PaletteTransfer(SRC, TGT, TransferParams(strength=0)).apply(SKIN), SKIN)
    assert skin_membership(SKIN).min() > 0.3
    assert skin_membership(hex_to_lab(["#3050c0", "#20a040", "#808080"])).max() < 0.05
    on = PaletteTransfer(SRC, TGT, TransferParams()).apply(SKIN)
    off = PaletteTransfer(SRC, TGT, TransferParams(protect_skin=False)).apply(SKIN)
    hue = lambda lab: np.degrees(np.arctan2(lab[:, 2], lab[:, 1]))  # noqa: E731
    assert np.abs(hue(on) - hue(SKIN)).mean() < np.abs(hue(off) - hue(SKIN)).mean()


@pytest.mark.parametrize("spec", [YuvSpec("ITU-R BT.709", False), YuvSpec("ITU-R BT.601", True)])
def test_yuv_lut_identity_is_exact_and_transfer_follows_rgb(spec):
    y, u, v = planes()
    for lut in (YuvLut.identity(), bake_yuv_lut(
            PaletteTransfer(SRC, TGT, TransferParams(strength=0.0)), spec)):
        out = apply_yuv420_copy(y, u, v, lut)
        for a, b in zip(out, (y, u, v), strict=True):
            np.testing.assert_array_equal(a, b)
    # a uniform patch goes where the exact transfer sends its colour (within a few codes)
    t = PaletteTransfer(SRC, TGT, TransferParams(strength=1.0))
    lut = bake_yuv_lut(t, spec)
    rgb = np.array([0.39, 0.59, 0.78])  # a sky blue
    code = spec.from_srgb01(rgb)
    yy = np.full((8, 8), round(code[0]), np.uint8)
    uu = np.full((4, 4), round(code[1]), np.uint8)
    vv = np.full((4, 4), round(code[2]), np.uint8)
    oy, ou, ov = apply_yuv420_copy(yy, uu, vv, lut)
    from m2p_core.colour.space import srgb01_to_lab

    want = spec.from_srgb01(np.clip(lab_to_srgb01(t.apply(srgb01_to_lab(
        np.clip(spec.to_srgb01(np.array([yy[0, 0], uu[0, 0], vv[0, 0]], float)), 0, 1)))), 0, 1))
    assert abs(int(ou[0, 0]) - want[1]) <= 6 and abs(int(ov[0, 0]) - want[2]) <= 6
    assert abs(int(oy[0, 0]) - want[0]) <= 6  # luma follows the 1-D curve of L*


def _trilinear_reference(y, u, v, lut, rounded=False, guide_range=GUIDE_RANGE):
    """Float trilinear interpolation of the node table at (guide luma, Cb, Cr) — the guide is the
    mean luma of the 3 x 3 chroma blocks (6 x 6 pixels) around a chroma sample, edges
    replicated, within ``guide_range`` of its own 2 x 2 block's mean; with ``rounded``, at the
    guide rounded as the kernel rounds it (to a code value)."""
    d = lut.chroma_delta / D_ONE
    hc, wc = u.shape
    block = y[: 2 * hc, : 2 * wc].reshape(hc, 2, wc, 2).astype(np.int64).sum(axis=(1, 3))
    r = GUIDE // 2
    padded = np.pad(block, r, mode="edge")
    guide = sum(padded[i:i + hc, j:j + wc] for i in range(GUIDE) for j in range(GUIDE))
    ym = guide / (4 * GUIDE * GUIDE)
    own = block / 4
    if rounded:
        ym, own = np.floor(ym + 0.5), np.floor(own + 0.5)
    ym = np.clip(ym, own - guide_range, own + guide_range)
    py, pu, pv = ym / (1 << Y_SHIFT), u / (1 << C_SHIFT), v / (1 << C_SHIFT)
    ky, ku, kv = (np.minimum(np.floor(p).astype(int), n - 2) for p, n in
                  ((py, NY), (pu, NC), (pv, NC)))
    fy, fu, fv = py - ky, pu - ku, pv - kv
    out = np.zeros((hc, wc, 2))
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                w = (fu if a else 1 - fu) * (fv if b else 1 - fv) * (fy if c else 1 - fy)
                out += w[..., None] * d[ku + a, kv + b, ky + c]
    return np.clip(u + out[..., 0], 0, 255), np.clip(v + out[..., 1], 0, 255)


def test_chroma_is_interpolated_trilinearly_without_steps():
    lut = bake_yuv_lut(PaletteTransfer(SRC, TGT, TransferParams(strength=1.0)), YuvSpec())
    y, u, v = planes(seed=3, h=64, w=96)
    _, ou, ov = apply_yuv420_copy(y, u, v, lut)
    # exactly the kernel's scheme (trilinear at the guide luma rounded to a code value; the
    # fine table's values rounded to 1/F_ONE code value)...
    ru, rv = _trilinear_reference(y, u, v, lut, rounded=True)
    tol = 0.5 + 1.0 / F_ONE
    assert np.abs(ou - ru).max() <= tol and np.abs(ov - rv).max() <= tol
    # ...which is full trilinear interpolation up to the table's luma slope x 1/2 code value
    slope = np.abs(np.diff(lut.chroma_delta / D_ONE, axis=2)).max() / (1 << Y_SHIFT)
    ru, rv = _trilinear_reference(y, u, v, lut)
    assert np.abs(ou - ru).max() <= slope + 0.5 and np.abs(ov - rv).max() <= slope + 0.5
    assert np.abs(ou - ru).mean() < 0.6 and np.abs(ov - rv).mean() < 0.6
    # a ramp through Cb (one code per sample, constant luma and Cr) moves the output smoothly:
    # no step larger than the table's own slope allows (nearest-cell lookup stepped here)
    ramp_u = np.arange(16, 241, dtype=np.uint8)[None, :].repeat(2, 0)
    yy = np.full((4, 2 * ramp_u.shape[1]), 90, np.uint8)
    for cr in (60, 128, 200):
        vv = np.full_like(ramp_u, cr)
        _, ou, ov = apply_yuv420_copy(yy, ramp_u, vv, lut)
        ru, rv = _trilinear_reference(yy, ramp_u, vv, lut)
        for o, r in ((ou, ru), (ov, rv)):
            steps = np.abs(np.diff(o[0].astype(int)))
            assert steps.max() <= np.abs(np.diff(r[0])).max() + 1.0


def test_sharp_luma_edges_keep_each_side_close_to_its_own_shift():
    """Dark hair against a bright sky: chroma samples next to the edge take the shift of a
    lightness within GUIDE_RANGE of their own, not the mid-grey of the 6x6 mean."""
    lut = bake_yuv_lut(PaletteTransfer(SRC, TGT, TransferParams(strength=1.0)), YuvSpec())
    y = np.full((16, 32), 200, np.uint8)
    y[:, :16] = 30  # dark left half; the edge falls between two chroma columns
    u = np.full((8, 16), 140, np.uint8)
    v = np.full((8, 16), 120, np.uint8)
    _, ou, ov = apply_yuv420_copy(y, u, v, lut)
    far_dark, far_light = (ou[0, 0], ov[0, 0]), (ou[0, -1], ov[0, -1])

    def edge_error(cu, cv):  # largest chroma difference from its own side, edge columns
        return max(abs(float(cu[4, col]) - float(far[i])) if i == 0 else
                   abs(float(cv[4, col]) - float(far[i]))
                   for col, far in ((7, far_dark), (8, far_light)) for i in (0, 1))

    # the table's steepest luma slope around this (Cb, Cr), code values per luma code value
    cells = lut.chroma_delta[140 >> C_SHIFT:(140 >> C_SHIFT) + 2,
                             120 >> C_SHIFT:(120 >> C_SHIFT) + 2] / D_ONE
    slope = np.abs(np.diff(cells, axis=2)).max() / (1 << Y_SHIFT)
    assert GUIDE_RANGE <= 8 and edge_error(ou, ov) <= slope * GUIDE_RANGE + 1
    # the unclamped 6x6 mean (mid-grey at the edge) would tint the fringe much more
    unclamped = _trilinear_reference(y, u, v, lut, rounded=True, guide_range=255)
    assert edge_error(*unclamped) > edge_error(ou, ov) + 8


def test_odd_planes_are_cropped_and_mix_is_continuous():
    y, u, v = planes(h=49, w=67)
    out = apply_yuv420_copy(y, u[:, :33], v[:, :33], YuvLut.identity())
    assert out[0].shape == (48, 66) and out[1].shape == (24, 33)
    # an output the kernel could only fill through a copy is refused, not silently lost
    flipped = tuple(np.zeros_like(p)[::-1] for p in out)
    with pytest.raises(ValueError, match="forward rows"):
        apply_yuv420((y[:48, :66], u[:, :33], v[:, :33]), flipped, YuvLut.identity())
    a = YuvLut.identity()
    b = bake_yuv_lut(PaletteTransfer(SRC, TGT), YuvSpec())
    assert mix([a, b], [1.0, 0.0]) is a and mix([a, b], [0.0, 1.0]) is b
    mid = mix([a, b], [0.5, 0.5])
    assert np.abs(mid.chroma_delta - b.chroma_delta / 2).max() <= 1


def test_rgb_lut_for_images():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    ident = bake_rgb_lut(PaletteTransfer(SRC, TGT, TransferParams(strength=0.0)))
    assert np.abs(apply_rgb_lut(img, ident).astype(int) - img).max() <= 1
    moved = apply_rgb_lut(img, bake_rgb_lut(PaletteTransfer(SRC, TGT)))
    assert moved.shape == img.shape and np.abs(moved.astype(int) - img).mean() > 3


def test_weighted_kmeans_finds_clusters_and_weights():
    rng = np.random.default_rng(0)
    centres = np.array([[20, 0, 0], [50, 40, 20], [80, -20, 30]], float)
    lab = np.concatenate([c + rng.normal(0, 1, (n, 3)) for c, n in zip(centres, (600, 300, 100),
                                                                         strict=True)])
    pal, w = weighted_kmeans(lab, 3)
    order = np.argsort(pal[:, 0])
    np.testing.assert_allclose(pal[order], centres, atol=1.5)
    np.testing.assert_allclose(w[order], [0.6, 0.3, 0.1], atol=0.02)
    pal, w = weighted_kmeans(np.tile([[50.0, 0, 0]], (10, 1)), 5)  # fewer colours than k
    assert pal.shape == (5, 3) and abs(w.sum() - 1) < 1e-9


def test_shot_detector_finds_cuts_not_motion():
    det = ShotDetector()
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)
    b = 255 - a
    cuts = []
    for i in range(30):
        base = a if i < 15 else b
        frame = np.clip(base.astype(int) + rng.integers(-3, 4, base.shape) + i % 3, 0, 255)
        cuts.append(det.update(frame.astype(np.uint8)))
    assert [i for i, c in enumerate(cuts) if c] == [15]


def test_target_track_sections_and_smoothness():
    rows = []
    for i in range(8):  # windows 0-3 one mood with jitter, 4-7 another
        base = TGT if i < 4 else SRC
        jitter = np.random.default_rng(i).normal(0, 1.0, base.shape)
        rows.append({"window_index": i, "start_s": 5.0 * i, "end_s": 5.0 * i + 10,
                     "palette_lab": (base + jitter).tolist(), "weights": [0.2] * 5,
                     "valence": 0.5, "arousal": 0.5})
    track = PaletteTrack.of_sections(rows)
    assert len(track.keyframes) == 2
    assert palette_distance(track.palette_at(6.0), TGT) < 2
    assert palette_distance(track.palette_at(45), SRC) < 2
    ts = np.arange(0, 50, 0.05)
    pals = np.array([track.palette_at(t) for t in ts])
    steps = np.abs(np.diff(pals, axis=0)).max(axis=(1, 2))
    # continuous: never a jump at window edges (the steepest 0.05 s of a 3-s smoothstep)
    assert steps.max() < 0.03 * np.abs(track.lab[1] - track.lab[0]).max()
    # but it does move
    assert palette_distance(track.palette_at(22.5 - 1.0), track.palette_at(22.5 + 1.0)) > 5


def test_metrics():
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 100, (32, 32))
    assert ssim(img, img) == pytest.approx(1.0)
    assert ssim(img, rng.uniform(0, 100, (32, 32))) < 0.2
    assert palette_reduction(SRC, TGT, TGT) == pytest.approx(1.0)
    assert palette_reduction(SRC, SRC, TGT) == pytest.approx(0.0)


def test_guide_mean_multiply_shift_is_the_rounded_division_everywhere():
    """The kernel's guide luma: ``(2s + P) // (2P)`` computed as a multiply and shift, for
    every box sum s of P luma samples (0..255 P), in int32 without overflow."""
    from m2p_core.recolor.lut_kernel import _GUIDE_MUL, _GUIDE_PIXELS, _GUIDE_SHIFT

    s = np.arange(255 * _GUIDE_PIXELS + 1, dtype=np.int64)
    num = 2 * s + _GUIDE_PIXELS
    assert (num * _GUIDE_MUL).max() < 2 ** 31
    assert np.array_equal((num * _GUIDE_MUL) >> _GUIDE_SHIFT, num // (2 * _GUIDE_PIXELS))
