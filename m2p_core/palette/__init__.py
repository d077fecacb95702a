"""Palettes over a media's timeline: sections, the palette curve over time, source palettes of
pictures, the v0 mapping.

:mod:`.extract` — Source palettes of pictures: weighted k-means in CIELAB on downsampled frames
    THUMB_SAMPLES, yuv420_thumbnail, yuv_to_lab, rgb_thumbnail, weighted_kmeans,
    extract_palette_rgb, extract_palette_yuv, ShotDetector
:mod:`.sections` — Sections: runs of consecutive windows whose palettes are alike, merged into one
    DEFAULT_THRESHOLD, Section, find_sections, medoid_index, whole_media, window_centre_s
:mod:`.track` — The palette as a smooth function of time — one curve for recolouring and …
    Keyframe, PaletteTrack, TrackPoint, align_order, smoothstep
:mod:`.v0` — v0 palette head: a fixed, documented mapping from emotion + audio descriptors to …
    QUADRANT_HUE_ANCHORS, palette_from_emotion, palette_from_descriptors

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, __doc__)
