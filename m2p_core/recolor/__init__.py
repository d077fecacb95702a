"""Recolouring: palette transfer, LUTs and their kernel, video/image recolourers, long-video
    segments, metrics.

:mod:`.image` — Recolour still images (PNG/JPEG/WebP) toward a target palette: extract,
    transfer, RGB 3D LUT
    IMAGE_FORMATS, recolor_rgb, image_format_of, recolor_image_bytes
:mod:`.lut` — Bake a palette transfer into LUTs: a YUV-native LUT for video, an RGB 3D LUT for
    images
    bake_yuv_lut, bake_rgb_lut, apply_rgb_lut
:mod:`.lut_kernel` — Apply a YUV-native colour LUT to 8-bit 4:2:0 planes, in place of a per-
    pixel RGB 3D LUT
    Y_SHIFT, C_SHIFT, NY, NC, D_BITS, D_ONE, F_BITS, F_ONE, GUIDE, GUIDE_RANGE, YuvLut,
    grid_nodes, blend, apply_yuv420, apply_yuv420_copy
:mod:`.metrics` — Quality metrics for recolouring: SSIM of L*, palette movement, temporal change
    ssim, palette_reduction, mean_abs_change
:mod:`.segments` — Long videos recoloured in time segments that can run in parallel, frame-
    exact (docs/ARCHITECTURE.md "Recolouring")
    DEFAULT_SEGMENT_S, MIN_SPLIT_RATIO, SegmentMismatchError, thumb_check, probe_duration_s,
    VideoAnalysis, analyse_video, Segment, plan_boundaries, plan_segments, ReplayAnalysis,
    SegmentStats, recolor_segment, SplitStats, recolor_video_split
:mod:`.transfer` — Palette-based colour transfer after Chang et al. 2015, "Palette-based Photo
    Recoloring"
    TransferParams, order_by_lightness, match_palettes, luminance_knots, skin_membership,
    PaletteTransfer
:mod:`.video` — Recolour a video to follow a target palette track: shots, source palettes, LUT
    schedule
    RecolorParams, SourceState, SourceTracker, LutSchedule, RecolorStats, FrameAnalysis,
    FrameRecolorer, recolor_video

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

_MODULES = {
    "C_SHIFT": "lut_kernel",
    "DEFAULT_SEGMENT_S": "segments",
    "D_BITS": "lut_kernel",
    "D_ONE": "lut_kernel",
    "F_BITS": "lut_kernel",
    "F_ONE": "lut_kernel",
    "FrameAnalysis": "video",
    "FrameRecolorer": "video",
    "GUIDE": "lut_kernel",
    "GUIDE_RANGE": "lut_kernel",
    "IMAGE_FORMATS": "image",
    "LutSchedule": "video",
    "MIN_SPLIT_RATIO": "segments",
    "NC": "lut_kernel",
    "NY": "lut_kernel",
    "PaletteTransfer": "transfer",
    "RecolorParams": "video",
    "RecolorStats": "video",
    "ReplayAnalysis": "segments",
    "Segment": "segments",
    "SegmentMismatchError": "segments",
    "SegmentStats": "segments",
    "SourceState": "video",
    "SourceTracker": "video",
    "SplitStats": "segments",
    "TransferParams": "transfer",
    "VideoAnalysis": "segments",
    "Y_SHIFT": "lut_kernel",
    "YuvLut": "lut_kernel",
    "analyse_video": "segments",
    "apply_rgb_lut": "lut",
    "apply_yuv420": "lut_kernel",
    "apply_yuv420_copy": "lut_kernel",
    "bake_rgb_lut": "lut",
    "bake_yuv_lut": "lut",
    "blend": "lut_kernel",
    "grid_nodes": "lut_kernel",
    "image_format_of": "image",
    "luminance_knots": "transfer",
    "match_palettes": "transfer",
    "mean_abs_change": "metrics",
    "order_by_lightness": "transfer",
    "palette_reduction": "metrics",
    "plan_boundaries": "segments",
    "plan_segments": "segments",
    "probe_duration_s": "segments",
    "recolor_image_bytes": "image",
    "recolor_rgb": "image",
    "recolor_segment": "segments",
    "recolor_video": "video",
    "recolor_video_split": "segments",
    "skin_membership": "transfer",
    "ssim": "metrics",
    "thumb_check": "segments",
}
__all__ = sorted(_MODULES)
__getattr__, __dir__ = lazy_exports(__name__, _MODULES)
