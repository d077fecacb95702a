"""Video files: streamed transcoding with a per-frame callback, joining segments.

:mod:`.join` — Join separately encoded H.264 segments into one MP4 without re-encoding
(docs/ARCHITECTURE.md "Recolouring")
    SegmentJoinError, JoinStats, check_segments, join_segments
:mod:`.transcode` — Streamed video transcoding with PyAV: decode -> (per-frame callback) ->
    H.264 encode
    NoVideoStreamError, EncodeParams, TranscodeStats, plane_views, even_size, as_yuv420,
    add_output_audio, frame_time_s, transcode, READER_NICE, decode_packet, mux_audio_packet,
    open_video_stream, probe_video, iter_yuv_frames, frames_rgb_at

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

_MODULES = {
    "EncodeParams": "transcode",
    "JoinStats": "join",
    "NoVideoStreamError": "transcode",
    "READER_NICE": "transcode",
    "SegmentJoinError": "join",
    "TranscodeStats": "transcode",
    "add_output_audio": "transcode",
    "as_yuv420": "transcode",
    "check_segments": "join",
    "decode_packet": "transcode",
    "even_size": "transcode",
    "frame_time_s": "transcode",
    "frames_rgb_at": "transcode",
    "iter_yuv_frames": "transcode",
    "join_segments": "join",
    "mux_audio_packet": "transcode",
    "open_video_stream": "transcode",
    "plane_views": "transcode",
    "probe_video": "transcode",
    "transcode": "transcode",
}
__all__ = sorted(_MODULES)
__getattr__, __dir__ = lazy_exports(__name__, _MODULES)
