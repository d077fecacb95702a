"""Video files: streamed transcoding with a per-frame callback, joining segments.

:mod:`.join` — Join separately encoded H.264 segments into one MP4 without re-encoding …
    SegmentJoinError, JoinStats, check_segments, join_segments
:mod:`.transcode` — Streamed video transcoding with PyAV: decode -> (per-frame callback) -> H.264 …
    NoVideoStreamError, EncodeParams, TranscodeStats, plane_views, even_size, as_yuv420,
    add_output_audio, frame_time_s, transcode, READER_NICE, decode_packet, mux_audio_packet,
    open_video_stream, probe_video, iter_yuv_frames, frames_rgb_at, ExternalAudio, has_audio,
    frame_count

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, __doc__)
