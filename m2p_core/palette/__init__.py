"""Palettes over a media's timeline: sections, the palette curve over time, source palettes of
    pictures, the v0 mapping.

:mod:`.extract` — Source palettes of pictures: weighted k-means in CIELAB on downsampled frames
    THUMB_SAMPLES, yuv420_thumbnail, yuv_to_lab, rgb_thumbnail, weighted_kmeans,
    extract_palette_rgb, extract_palette_yuv, ShotDetector
:mod:`.sections` — Sections: runs of consecutive windows whose palettes are alike, merged into one
    DEFAULT_THRESHOLD, Section, find_sections, medoid_index, whole_media, window_centre_s
:mod:`.track` — The palette as a smooth function of time — one curve for recolouring and
    generated video
    Keyframe, PaletteTrack, TrackPoint, align_order, smoothstep
:mod:`.v0` — v0 palette head: a fixed, documented mapping from emotion + audio descriptors to
    colours
    QUADRANT_HUE_ANCHORS, palette_from_emotion, palette_from_descriptors

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

_MODULES = {
    "DEFAULT_THRESHOLD": "sections",
    "Keyframe": "track",
    "PaletteTrack": "track",
    "QUADRANT_HUE_ANCHORS": "v0",
    "Section": "sections",
    "ShotDetector": "extract",
    "THUMB_SAMPLES": "extract",
    "TrackPoint": "track",
    "align_order": "track",
    "extract_palette_rgb": "extract",
    "extract_palette_yuv": "extract",
    "find_sections": "sections",
    "medoid_index": "sections",
    "palette_from_descriptors": "v0",
    "palette_from_emotion": "v0",
    "rgb_thumbnail": "extract",
    "smoothstep": "track",
    "weighted_kmeans": "extract",
    "whole_media": "sections",
    "window_centre_s": "sections",
    "yuv420_thumbnail": "extract",
    "yuv_to_lab": "extract",
}
__all__ = sorted(_MODULES)
__getattr__, __dir__ = lazy_exports(__name__, _MODULES)
