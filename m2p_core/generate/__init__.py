"""Music-driven video: drive features, styles, the renderer.

:mod:`.drive` — What moves a music-driven video besides its palette: energy, onsets and beats
    N_FFT, HOP, N_MELS, MusicFeatures, analyse, FrameDrive, n_video_frames, frame_drive
:mod:`.render` — Music-driven video: render frames from a palette track and the music's drive, …
    RENDERER_VERSION, ANALYSIS_RATE, DEFAULT_SIZE, DEFAULT_FPS, METADATA_KEY, VideoSpec,
    RenderStats, video_metadata, read_video_metadata, render_video, render_still
:mod:`.styles` — Styles of generated video: one float RGB frame from the palette and the music's …
    FrameState, STYLES, DEFAULT_STYLE, FrameRenderer, internal_size, iter_frame_states

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, __doc__)
