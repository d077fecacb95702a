"""Audio in: decode any container to mono float32, streamed; fixed analysis windows.

:mod:`.decode` — Decode the audio track of any audio/video container to mono float32, streamed, …
    DecodeStats, DecodeTimeoutError, EmptyMediaError, MediaError, MediaInfo, MediaTooLongError,
    NoAudioStreamError, UndecodableMediaError, decode_audio, iter_audio, probe
:mod:`.windows` — Fixed-length analysis windows over a stream of mono sample chunks
    Window, iter_windows, window_count

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, __doc__)
