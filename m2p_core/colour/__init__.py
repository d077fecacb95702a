"""Colour science: conversions, differences, harmony, colour emotion, video Y'CbCr.

:mod:`.differentiable` — Differentiable colour maths in torch, for training losses only
    delta_e2000, mean_pairwise_delta_e2000, lab_to_linear_srgb, srgb01_to_lab, srgb_gamut_excess,
    lch, DEG
:mod:`.emotion` — A differentiable colour -> (valence, arousal) estimator built from published …
    VALENCE_RAW_STATS, AROUSAL_RAW_STATS, colour_emotion, palette_emotion, palette_emotion_np,
    calibration_stats
:mod:`.harmony` — Colour harmony: Ou & Luo (2006) two-colour harmony model, and palette-level …
    pair_harmony, palette_harmony, palette_harmony_np, lightness_order_smoothness
:mod:`.lib` — colour-science, imported without its plotting package
    colour
:mod:`.space` — Colour conversions and colour differences (numpy, via colour-science)
    lab_to_srgb01, in_srgb_gamut, gamut_map_lab, lab_to_hex, hex_to_srgb01, hex_to_lab,
    palette_distance, palette_distances
:mod:`.yuv` — The video's colour encoding: Y'CbCr matrix (BT.601/709/2020) and range (limited/full)
    AVCOL_RANGE_MPEG, AVCOL_RANGE_JPEG, YuvSpec

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, __doc__)
