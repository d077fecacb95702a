"""A long generated video for the split/join tests: shots with hard cuts and colour drifts,
moving content, and a tone soundtrack. Frames are generated (directly as 4:2:0 planes) and
encoded one at a time."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

#: (seconds, RGB at the start, RGB at the end) per shot: 600 s; hard cuts between shots,
#: colour drifts inside some (the 150-s one spans a segment boundary)
SHOTS = [
    (37.0, (40, 90, 160), (40, 90, 160)),
    (95.0, (200, 120, 60), (120, 160, 90)),
    (18.0, (20, 20, 30), (20, 20, 30)),
    (150.0, (90, 170, 200), (220, 200, 150)),
    (60.0, (160, 40, 70), (160, 40, 70)),
    (25.0, (230, 230, 220), (230, 230, 220)),
    (70.0, (60, 140, 60), (60, 140, 60)),
    (45.0, (120, 60, 170), (120, 60, 170)),
    (100.0, (250, 170, 40), (70, 40, 30)),
]

# BT.601 limited-range RGB -> Y'CbCr
_M = np.array([[0.257, 0.504, 0.098], [-0.148, -0.291, 0.439], [0.439, -0.368, -0.071]])
_OFF = np.array([16.0, 128.0, 128.0])


def shot_starts(fps: int = 10, time_scale: float = 1.0) -> list[int]:
    """Frame indices where the shots start."""
    starts, n = [], 0
    for seconds, *_ in SHOTS:
        starts.append(n)
        n += int(round(seconds * time_scale * fps))
    return starts


def _frames(width: int, height: int, fps: int, time_scale: float):
    """yuv420p frames as (height * 3 / 2, width) uint8 arrays."""
    x = np.arange(width, dtype=np.float32)[None, :, None] / width
    y = np.arange(height, dtype=np.float32)[:, None, None] / height
    i = 0
    for k, (seconds, a, b) in enumerate(SHOTS):
        n = int(round(seconds * time_scale * fps))
        a, b = np.array(a, np.float32), np.array(b, np.float32)
        for j in range(n):
            w = j / max(n - 1, 1)
            base = (1 - w) * a + w * b
            shade = 0.6 + 0.4 * np.cos(2 * np.pi * (x * (1 + k % 3) + 0.3 * y + i / (7.0 * fps)))
            rgb = base * shade
            bar = np.abs(x - (i / (5.0 * fps)) % 1.0) < 0.06  # a moving bright bar
            rgb = np.clip(np.where(bar, 255 - 0.5 * base, rgb), 0, 255)
            yuv = rgb @ _M.T + _OFF
            luma = yuv[..., 0]
            chroma = yuv[..., 1:].reshape(height // 2, 2, width // 2, 2, 2).mean(axis=(1, 3))
            planes = [luma.reshape(-1), chroma[..., 0].reshape(-1), chroma[..., 1].reshape(-1)]
            yield np.concatenate(planes).round().astype(np.uint8).reshape(-1, width)
            i += 1


def long_video(path: Path, size: tuple[int, int] = (128, 72), fps: int = 10,
               time_scale: float = 1.0, audio_codec: str = "flac", sample_rate: int = 8000,
               crf: int = 23) -> Path:
    """Write the SHOTS video (600 s × ``time_scale``) with a 440-Hz mono tone as
    ``audio_codec`` (FLAC by default: cheap to encode, and MP4 carries it, so the recolourer
    copies it), in the container the suffix names."""
    width, height = size
    path.parent.mkdir(parents=True, exist_ok=True)
    tb = Fraction(1, fps * 4)
    fmt = "fltp" if audio_codec == "aac" else "s16"
    block = 1024 if audio_codec == "aac" else 4096
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.codec_context.time_base = tb
        vs.options = {"preset": "veryfast", "crf": str(crf)}
        aus = c.add_stream(audio_codec, rate=sample_rate, layout="mono")
        t_audio = 0
        for i, yuv in enumerate(_frames(width, height, fps, time_scale)):
            f = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            f.pts, f.time_base = 4 * i, tb
            c.mux(vs.encode(f))
            while t_audio < (i + 1) * sample_rate / fps:  # interleave the tone as we go
                n = np.arange(t_audio, t_audio + block)
                tone = 0.3 * np.sin(2 * np.pi * 440 * n / sample_rate)
                tone = (tone.astype(np.float32) if fmt == "fltp"
                        else (tone * 32767).astype(np.int16))
                af = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format=fmt, layout="mono")
                af.sample_rate, af.pts = sample_rate, t_audio
                c.mux(aus.encode(af))
                t_audio += block
        c.mux(vs.encode(None))
        c.mux(aus.encode(None))
    return path
