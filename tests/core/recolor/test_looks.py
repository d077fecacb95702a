"""Issue 15, "the look": recolouring that is smooth in colour space, keeps greys grey and keeps
a palette's small accents small — for the default transfer (optimal-transport matching, smooth
field) and the colour grade — measured on a procedural frame (m2p_core.synth.look_scene) with vivid
palettes. The rank transfer (Chang et al.'s lightness pairing) is measured too and must fail:
it shows that the checks can fail."""

import numpy as np
import pytest

from m2p_core.colour.space import (
    gamut_map_lab,
    hex_to_lab,
    in_srgb_gamut,
    lab_to_srgb01,
    srgb01_to_lab,
)
from m2p_core.colour.yuv import YuvSpec
from m2p_core.palette.extract import extract_palette_rgb
from m2p_core.recolor.grade import GradeParams, PaletteGrade, palette_arousal
from m2p_core.recolor.grade_metrics import (
    MAX_FRAC_OVER_4,
    MAX_P99_RATIO,
    MIN_MEAN_MOVE,
    claimed_share,
    neutral_stats,
    palette_share,
    ramp_hue_steps,
    tearing_stats,
)
from m2p_core.recolor.image import recolor_rgb
from m2p_core.recolor.looks import LOOKS, make_look
from m2p_core.recolor.lut import apply_rgb_lut, bake_rgb_lut, bake_yuv_lut
from m2p_core.recolor.palette_ot import transport_plan
from m2p_core.recolor.transfer import PaletteTransfer, TransferParams
from m2p_core.recolor.video import RecolorParams
from m2p_core.synth.look_scene import MOOD_PALETTES, look_test_frame

# (hex, weights, index of the small vivid accent)
PALETTES = {mood: (*MOOD_PALETTES[mood], accent) for mood, accent in (("tense", 0),
                                                                      ("happy", 3))}
MAX_NEUTRAL_CHROMA = 12.0  # input C* < 5 stays below this
MAX_NEUTRAL_GAIN = 1.5  # a noisy grey object's a*b* noise is not amplified much
MAX_RAMP_HUE_STEP = 5.0  # degrees per L* unit along a neutral ramp (no hue flips)
MAX_ACCENT_CLAIM = 0.10  # a 5% accent claims at most 10% of the frame


@pytest.fixture(scope="module")
def scene():
    rgb, masks = look_test_frame()
    source, source_w = extract_palette_rgb(rgb)
    return rgb, masks, source, source_w


def palette(name):
    hexes, w, accent = PALETTES[name]
    return hex_to_lab(hexes), np.array(w), accent


def render(look, rgb):
    return apply_rgb_lut(rgb, bake_rgb_lut(look))


def neutral_ramp():
    return np.stack([np.linspace(0.0, 100.0, 101), np.zeros(101), np.zeros(101)], axis=1)


def check_look(look, rgb, masks, target, accent):
    """The issue-15 bounds; returns the failures (empty: the look passes)."""
    out = render(look, rgb)
    fails = []
    ts = tearing_stats(rgb, out)
    if ts.p99 > MAX_P99_RATIO or ts.frac_over > MAX_FRAC_OVER_4:
        fails.append(f"tearing {ts.row()}")
    if ts.mean_move < MIN_MEAN_MOVE:
        fails.append(f"too weak {ts.row()}")
    ns = neutral_stats(rgb, out)
    if ns.max_chroma > MAX_NEUTRAL_CHROMA:
        fails.append(f"greys saturated: C* {ns.max_chroma:.1f}")
    for region in ("grey", "car"):
        g = neutral_stats(rgb, out, mask=masks[region]).ab_gain
        if g > MAX_NEUTRAL_GAIN:
            fails.append(f"{region} noise amplified x{g:.2f}")
    steps = ramp_hue_steps(look.apply(neutral_ramp()))
    if steps.max() > MAX_RAMP_HUE_STEP:
        fails.append(f"hue flip on the neutral ramp: {steps.max():.0f} deg")
    claim = claimed_share(rgb, out, target)[accent]
    if claim > MAX_ACCENT_CLAIM:
        fails.append(f"accent claims {claim:.1%}")
    return fails, out


def test_metrics_on_known_maps():
    rgb, _ = look_test_frame(96, 64)
    same = tearing_stats(rgb, rgb)
    assert same.p99 == pytest.approx(1.0) and same.frac_over == 0 and same.mean_move == 0
    assert same.pairs > 1000
    # a map that multiplies a*b* differences by 5 (where the gamut lets it) tears
    lab = srgb01_to_lab(rgb / 255.0)
    amp = lab.copy()
    amp[..., 1:] = 5.0 * lab[..., 1:]
    out = np.rint(255 * np.clip(lab_to_srgb01(gamut_map_lab(amp)), 0, 1)).astype(np.uint8)
    torn = tearing_stats(rgb, out)
    assert torn.p99 > 4 and torn.frac_over > 0.1
    share = palette_share(rgb, hex_to_lab(["#000000", "#ffffff"]))
    assert share.sum() == pytest.approx(1.0)
    assert claimed_share(rgb, rgb, hex_to_lab(["#000000", "#ffffff"])).sum() == 0
    steps = ramp_hue_steps(np.array([[50, 5, 0], [51, 5, 0.1], [52, -5, 0]]))
    assert steps[0] < 2 and steps[1] > 170


@pytest.mark.parametrize("name", ["tense", "happy"])
def test_rank_transfer_fails_the_look_checks(scene, name):
    """Chang's lightness-rank pairing: the tense palette tears the grass into cyan and orange
    blades; with either palette the grey character and the car turn saturated."""
    rgb, masks, source, source_w = scene
    target, w, accent = palette(name)
    t = PaletteTransfer(source, target, TransferParams(strength=0.8, match="rank"), source_w, w)
    fails, _ = check_look(t, rgb, masks, target, accent)
    assert any(f.startswith("greys saturated") for f in fails)
    if name == "tense":
        assert any(f.startswith("tearing") for f in fails)
        assert any(f.startswith("accent claims") for f in fails)


@pytest.mark.parametrize("strength", [1.0, 0.8])
@pytest.mark.parametrize("name", ["tense", "happy"])
@pytest.mark.parametrize("weighted", [True, False])
def test_smooth_transfer_passes_the_look_checks(scene, name, strength, weighted):
    rgb, masks, source, source_w = scene
    target, w, accent = palette(name)
    t = PaletteTransfer(source, target, TransferParams(strength=strength),
                        source_w if weighted else None, w if weighted else None)
    fails, _ = check_look(t, rgb, masks, target, accent)
    assert not fails, fails


def test_accent_share_follows_its_weight(scene):
    """The 5% cyan accent of the tense palette ends up nearest to few pixels; the rank
    transfer gave it the lighter half of the grass."""
    rgb, _, source, source_w = scene
    target, w, accent = palette("tense")
    out = render(PaletteTransfer(source, target, TransferParams(), source_w, w), rgb)
    assert palette_share(out, target)[accent] <= 0.15
    plan = transport_plan(source, target, source_w, w)
    np.testing.assert_allclose(plan.sum(axis=0), w / w.sum(), atol=1e-6)
    np.testing.assert_allclose(plan.sum(axis=1), source_w / source_w.sum(), atol=1e-5)


def test_exact_plan_matches_entropic_plan_at_small_regularisation():
    rng = np.random.default_rng(0)
    s, t = rng.uniform(0, 60, (5, 3)), rng.uniform(0, 60, (4, 3))
    a, b = rng.uniform(0.1, 1, 5), rng.uniform(0.1, 1, 4)
    exact = transport_plan(s, t, a, b, reg=0.0)
    soft = transport_plan(s, t, a, b, reg=0.002)
    cost = ((s[:, None] - t[None]) ** 2).sum(-1)
    for plan in (exact, soft):
        np.testing.assert_allclose(plan.sum(1), a / a.sum(), atol=1e-5)
        np.testing.assert_allclose(plan.sum(0), b / b.sum(), atol=1e-5)
    # the exact plan is optimal (up to Sinkhorn's marginal tolerance); the entropic one close
    assert (exact * cost).sum() <= (1 + 1e-4) * (soft * cost).sum()
    assert (soft * cost).sum() <= 1.02 * (exact * cost).sum()
    assert (exact > 1e-9).sum() <= len(s) + len(t) - 1  # a vertex of the transport polytope


def test_smooth_transfer_moves_palette_colours_toward_their_targets_in_gamut(scene):
    """The smooth transfer does not interpolate (Chang's does: see test_recolor_core), but each
    palette colour moves most of the way to its OT target's a*b*, and stays displayable."""
    _, _, source, source_w = scene
    target, w, _ = palette("tense")
    t = PaletteTransfer(source, target, TransferParams(protect_skin=False), source_w, w)
    want = t.ot.mapped[:, 1:] - source[:, 1:]
    got = t.apply(source)[:, 1:] - source[:, 1:]
    chromatic = np.hypot(source[:, 1], source[:, 2]) > 15  # the neutral limit holds greys
    frac = (got * want).sum(1) / (want * want).sum(1)
    assert frac[chromatic].min() >= 0.7
    rng = np.random.default_rng(1)
    lab = np.stack([rng.uniform(5, 95, 500), rng.uniform(-40, 40, 500),
                    rng.uniform(-40, 40, 500)], axis=1)
    lab = lab[in_srgb_gamut(lab)]
    assert in_srgb_gamut(t.apply(lab), tol=1e-3).all()


def test_smooth_transfer_gradient_is_bounded():
    """The field's Jacobian never exceeds max_gradient over the sRGB gamut, checked by finite
    differences at random colours (not only at fit_sigma's probes)."""
    src = hex_to_lab(["#3a5a2a", "#4a6a32", "#6a8a3a", "#8aa0c0", "#c0c0c0"])  # close greens
    target, w, _ = palette("tense")
    p = TransferParams()
    t = PaletteTransfer(src, target, p, None, w)
    rng = np.random.default_rng(2)
    x = srgb01_to_lab(rng.uniform(0, 1, (3000, 3)))
    e = 1e-3
    jac = np.stack([(t.ot.field(x + d) - t.ot.field(x - d)) / (2 * e)
                    for d in np.eye(3) * e], axis=-1)
    assert np.linalg.norm(jac, ord=2, axis=(1, 2)).max() <= 1.05 * p.max_gradient


def test_smooth_transfer_strength_zero_is_identity_and_params_are_checked(scene):
    _, _, source, source_w = scene
    target, w, _ = palette("happy")
    lab = srgb01_to_lab(np.random.default_rng(0).uniform(0, 1, (200, 3)))
    t = PaletteTransfer(source, target, TransferParams(strength=0.0), source_w, w)
    assert np.array_equal(t.apply(lab), lab)
    with pytest.raises(ValueError):
        TransferParams(match="nearest")
    with pytest.raises(ValueError):
        TransferParams(look="sepia")


# ------------------------------------------------------------------------------- the grade look

@pytest.mark.parametrize("strength", [1.0, 0.8])
@pytest.mark.parametrize("name", ["tense", "happy"])
@pytest.mark.parametrize("weighted", [True, False])
def test_grade_passes_the_look_checks(scene, name, strength, weighted):
    rgb, masks, source, source_w = scene
    target, w, accent = palette(name)
    g = make_look(source, target, TransferParams(strength=strength, look="grade"),
                  source_w if weighted else None, w if weighted else None)
    assert isinstance(g, PaletteGrade)
    fails, _ = check_look(g, rgb, masks, target, accent)
    assert not fails, fails


def test_grade_tints_shadows_mids_and_highlights_toward_the_palette():
    # dark blue shadows, a neutral middle, orange highlights, and a 3% green accent
    target = hex_to_lab(["#1c2a5a", "#7a7a7a", "#ffa040", "#20c040"])
    w = np.array([0.4, 0.27, 0.3, 0.03])
    g = PaletteGrade(target, target, TransferParams(look="grade"), None, w)
    hue = lambda ab: np.degrees(np.arctan2(ab[..., 1], ab[..., 0])) % 360  # noqa: E731
    shadow, mid, light = g.tint(np.array([10.0, 50.0, 90.0]))
    assert 240 < hue(shadow) < 300  # blue
    assert 30 < hue(light) < 80  # orange
    assert np.hypot(*mid) < np.hypot(*shadow)  # the grey middle mixes both: weaker
    assert max(np.hypot(*t) for t in g.tints) <= GradeParams().tint + 1e-9
    # the accent hardly moves anything: without it the tints barely change
    g3 = PaletteGrade(target[:3], target[:3], TransferParams(look="grade"), None, w[:3])
    assert np.abs(g3.tints - g.tints).max() < 1.0
    # a neutral ramp: one tint drifting with L*, no hue flip, and the tone curve is monotonic
    ramp = g.apply(neutral_ramp())
    assert ramp_hue_steps(ramp, min_chroma=1.0).max() <= MAX_RAMP_HUE_STEP
    assert (np.diff(ramp[:, 0]) > 0).all()


def test_grade_saturation_follows_arousal():
    target, w, _ = palette("tense")
    lab = np.array([[50.0, 40.0, 30.0], [60.0, -30.0, 40.0], [40.0, 10.0, -45.0]])
    c = lambda x: np.hypot(x[:, 1], x[:, 2])  # noqa: E731
    hi = PaletteGrade(target, target, TransferParams(look="grade", arousal=1.0), None, w)
    lo = PaletteGrade(target, target, TransferParams(look="grade", arousal=-1.0), None, w)
    # saturation is what differs between the two (the tint and tone curve are the same)
    assert (c(hi.apply(lab)) > c(lo.apply(lab)) + 0.25 * c(lab)).all()  # ±30% at full arousal
    vivid = palette_arousal(target, w)
    muted = palette_arousal(hex_to_lab(["#8a9bb0", "#c9d3dc", "#5c6b7a", "#e8ece9"]))
    assert vivid > 0.5 and muted < 0
    assert PaletteGrade(target, target).arousal == pytest.approx(palette_arousal(target))


def test_looks_are_drop_ins_for_the_lut_bakers_and_the_pipeline():
    target, w, _ = palette("happy")
    source = hex_to_lab(["#203040", "#3c6e3c", "#6496c8", "#c8b496", "#f0f0e6"])
    img = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    for look in LOOKS:
        p0 = TransferParams(strength=0.0, look=look)
        assert np.array_equal(make_look(source, target, p0).apply(source), source)
        assert np.array_equal(recolor_rgb(img, target, p0), img)
        assert bake_yuv_lut(make_look(source, target, p0), YuvSpec()).chroma_delta.max() == 0
        lut = bake_yuv_lut(make_look(source, target, TransferParams(look=look)), YuvSpec())
        assert np.abs(lut.chroma_delta).max() > 0
        moved = recolor_rgb(img, target, TransferParams(look=look), w)
        assert np.abs(moved.astype(int) - img).mean() > 2
    params = RecolorParams(look="grade")
    assert params.transfer().look == "grade" and params.to_dict()["look"] == "grade"
    assert RecolorParams().transfer().look == "transfer"
