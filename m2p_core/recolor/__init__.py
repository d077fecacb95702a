"""Recolouring: palette transfer, LUTs and their kernel, video/image recolourers, long-video
segments, metrics.

:mod:`.grade` — A palette-driven colour grade: the "grade" look (split-toning, saturation)
    GradeParams, PaletteGrade, palette_arousal, tonal_knots, band_tints
:mod:`.grade_metrics` — Metrics of a look: tearing, neutrals, each palette colour's share
    TearingStats, tearing_stats, NeutralStats, neutral_stats, neutral_stats_lab,
    ramp_hue_steps, palette_share, claimed_share
:mod:`.image` — Recolour still images (PNG/JPEG/WebP) toward a target palette: extract, transfer, …
    IMAGE_FORMATS, recolor_rgb, image_format_of, recolor_image_bytes
:mod:`.lut` — Bake a palette transfer into LUTs: a YUV-native LUT for video, an RGB 3D LUT for …
    bake_yuv_lut, bake_rgb_lut, apply_rgb_lut
:mod:`.lut_kernel` — Apply a YUV-native colour LUT to 8-bit 4:2:0 planes, in place of a per-pixel …
    Y_SHIFT, C_SHIFT, NY, NC, D_BITS, D_ONE, F_BITS, F_ONE, GUIDE, GUIDE_RANGE, YuvLut,
    grid_nodes, mix, compile_kernels, apply_yuv420, apply_yuv420_copy
:mod:`.looks` — The looks the recolouring bakes into its LUTs, chosen by ``params.look``
    LOOKS, Look, make_look
:mod:`.metrics` — Quality metrics for recolouring: SSIM of L*, palette movement, temporal change
    ssim, palette_reduction, mean_abs_change
:mod:`.palette_ot` — A chroma move smooth in colour space: optimal-transport palette pairing
    palette_masses, transport_plan, barycentric_targets, ShiftField, OTChromaShift
:mod:`.segments` — Long videos recoloured in time segments that can run in parallel, frame-exact
    DEFAULT_SEGMENT_S, MIN_SPLIT_RATIO, SegmentMismatchError, thumb_check, probe_duration_s,
    VideoAnalysis, analyse_video, Segment, plan_boundaries, plan_segments, ReplayAnalysis,
    SegmentStats, recolor_segment, SplitStats, recolor_video_split
:mod:`.transfer` — Palette-based colour transfer after Chang et al. 2015, "Palette-based Photo …
    TransferParams, order_by_lightness, match_palettes, luminance_knots, skin_membership,
    PaletteTransfer
:mod:`.video` — Recolour a video to follow a target palette track: shots, source palettes, LUT …
    RecolorParams, SourceState, SourceTracker, LutSchedule, RecolorStats, FrameAnalysis,
    FrameRecolorer, recolor_video

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, __doc__)
