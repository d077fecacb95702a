"""Small generated videos for the recolour tests (odd sizes, rotation, static shots)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from m2p_core.synth.patterns import pattern_frames


def frames_video(path: Path, frames, fps: int = 10, codec: str = "libx264",
                 rotation: int = 0, audio: np.ndarray | None = None,
                 sample_rate: int = 22050, pts_scale: list[int] | None = None) -> Path:
    """Encode RGB frames (an iterable of (H, W, 3) uint8) with PyAV; optional display rotation,
    mono AAC audio and per-frame pts multipliers (variable frame rate)."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        vs = c.add_stream(codec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.codec_context.time_base = Fraction(1, fps * 4)
        if rotation:
            vs.set_display_rotation(rotation)
        if audio is not None:
            aus = c.add_stream("aac", rate=sample_rate, layout="mono")
        pts = 0
        for i, rgb in enumerate(frames):
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            f.pts, f.time_base = pts, Fraction(1, fps * 4)
            pts += 4 * (pts_scale[i] if pts_scale else 1)
            c.mux(vs.encode(f))
        c.mux(vs.encode(None))
        if audio is not None:
            block = 1024
            a = np.asarray(audio, np.float32).reshape(1, -1)
            for k in range(0, a.shape[1], block):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(a[:, k:k + block]),
                                                format="flt", layout="mono")
                af.sample_rate, af.pts = sample_rate, k
                c.mux(aus.encode(af))
            c.mux(aus.encode(None))
    return path


def natural_frames(width: int, height: int, n: int) -> list[np.ndarray]:
    gen = pattern_frames("natural", width, height)
    return [next(gen) for _ in range(n)]
