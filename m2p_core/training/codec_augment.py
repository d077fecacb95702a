"""Codec augmentation: the same music through the lossy codecs users' files arrive in.

The training set is 40 kbps Opus; users bring MP3, AAC, Opus and WAV at many bitrates. Each
variant re-encodes a clip (decoded at 44.1 kHz, as the originals were) through PyAV and decodes
it again at the model's rate, so the model sees codec artefacts it must ignore.
"""

from __future__ import annotations

import io

import numpy as np

from m2p_core.audio.decode import decode_audio
from m2p_core.synth.writers import encode_audio_bytes

ENCODE_RATE = 44100  # Hz, the rate the distributed MP3 originals use

#: variant name -> (container format, encoder, bit rate); "orig" is the file as it is.
CODEC_VARIANTS: dict[str, tuple[str, str, int] | None] = {
    "orig": None,
    "mp3_128k": ("mp3", "libmp3lame", 128_000),
    "mp3_64k": ("mp3", "libmp3lame", 64_000),
    "aac_96k": ("adts", "aac", 96_000),
}


def decode_variant(path: str, variant: str, sample_rate: int) -> np.ndarray:
    """Mono float32 audio of ``path`` at ``sample_rate`` after passing through ``variant``."""
    spec = CODEC_VARIANTS[variant]
    if spec is None:
        return decode_audio(path, sample_rate)
    fmt, codec, bit_rate = spec
    hi = decode_audio(path, ENCODE_RATE)
    data = encode_audio_bytes(hi, ENCODE_RATE, fmt, codec, bit_rate)
    return decode_audio(io.BytesIO(data), sample_rate)
