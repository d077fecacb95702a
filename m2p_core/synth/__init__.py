"""Generated media: music with controlled emotional cues, the files to hold it, demo media.

Music
    :class:`MusicSpec`, :data:`PRESETS`, :func:`synthesize_music`, :func:`splice`
Files (PyAV only)
    :func:`write_audio`, :func:`encode_audio_bytes`, :func:`write_video`,
    :data:`PATTERNS`, :func:`pattern_frames`
Labelled training clips
    :mod:`m2p_core.synth.training_set` (``write_synthetic_set``)
Demo media
    :mod:`m2p_core.synth.demo` (``write_demo_media``)
"""

from m2p_core.synth.music import PRESETS, MusicSpec, splice, synthesize_music
from m2p_core.synth.patterns import PATTERNS, pattern_frames
from m2p_core.synth.writers import encode_audio_bytes, write_audio, write_video

__all__ = ["PATTERNS", "PRESETS", "MusicSpec", "encode_audio_bytes", "pattern_frames", "splice",
           "synthesize_music", "write_audio", "write_video"]
