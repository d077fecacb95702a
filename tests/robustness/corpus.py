"""A generated corpus of hostile media inputs (issue #7), mixed with good music.

Every case names what the timeline pipeline must do with it:

- ``ok``: complete rows, no failures row;
- ``flagged``: the rows that decode are written and flagged (``decode_warnings`` /
  ``corrupt_packets`` columns) and a failures row (stage ``decode``, ``PartialDecode``) says so;
- ``fail``: no rows, a failures row at ``stage`` whose message contains ``needle``.

Everything is generated with PyAV/numpy in a few seconds; the 3-hour file is a sparse WAV
(a header declaring 3 h, then a file hole that reads as silence), so it costs no disk.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from m2p_core.synth.music import PRESETS, synthesize_music
from m2p_core.synth.writers import write_audio

SR = 22050


@dataclass(frozen=True)
class Case:
    kind: str
    path: Path
    expect: str  # "ok" | "flagged" | "fail"
    stage: str | None = None  # failures stage for "fail"
    needle: str = ""  # substring of the failure message (lower-cased match)
    input_arg: str | None = None  # how the input is given on the command line, if not a folder


def _music(seconds: float, preset: str = "happy", seed: int = 0) -> np.ndarray:
    from dataclasses import replace

    return synthesize_music(replace(PRESETS[preset], seed=seed), seconds, SR)


def wav_bytes(samples: np.ndarray, rate: int, *, declared_data_bytes: int | None = None) -> bytes:
    """16-bit PCM WAV of ``samples`` (n,) or (n, channels) in [-1, 1]."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    ch = x.shape[1]
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    n = len(pcm) if declared_data_bytes is None else declared_data_bytes
    header = (b"RIFF" + struct.pack("<I", min(36 + n, 0xFFFFFFFF)) + b"WAVEfmt "
              + struct.pack("<IHHIIHH", 16, 1, ch, rate, rate * ch * 2, ch * 2, 16)
              + b"data" + struct.pack("<I", min(n, 0xFFFFFFFF)))
    return header + pcm


def sparse_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A mono 16-bit WAV of ``seconds`` of silence stored as a file hole (no disk blocks)."""
    n = int(seconds * rate) * 2
    header = wav_bytes(np.zeros(0), rate, declared_data_bytes=n)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + n)
    return path


def _video(path: Path, size: tuple[int, int], seconds: float, *, audio: bool = True,
           vfr: bool = False, codec: str = "libx264", pix_fmt: str = "yuv420p") -> Path:
    """A small video; ``vfr`` gives frames irregular timestamps (variable frame rate)."""
    w, h = size
    with av.open(str(path), "w") as c:
        vs = c.add_stream(codec, rate=25)
        vs.width, vs.height, vs.pix_fmt = w, h, pix_fmt
        vs.time_base = Fraction(1, 1000)
        if codec == "libx264":
            vs.options = {"preset": "ultrafast"}
        a_s = None
        if audio:
            a_s = c.add_stream("aac", rate=SR)
            a_s.layout = "mono"
        snd = _music(seconds, "calm").astype(np.float32)
        rng = np.random.default_rng(1)
        t_ms, i = 0, 0
        while t_ms < seconds * 1000:
            img = np.full((h, w, 3), (i * 7) % 255, dtype=np.uint8)
            f = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format=pix_fmt)
            f.pts, f.time_base = t_ms, Fraction(1, 1000)
            c.mux(vs.encode(f))
            t_ms += int(rng.integers(10, 200)) if vfr else 40
            i += 1
        c.mux(vs.encode(None))
        if a_s is not None:
            frame_n = 1024
            for k in range(0, len(snd), frame_n):
                block = snd[k:k + frame_n]
                af = av.AudioFrame.from_ndarray(block[None, :], format="flt", layout="mono")
                af.sample_rate, af.pts = SR, k
                c.mux(a_s.encode(af))
            c.mux(a_s.encode(None))
    return path


def _patch_all(data: bytes, marker: bytes, offset: int, value: bytes) -> bytes:
    out = bytearray(data)
    start = 0
    while (i := out.find(marker, start)) >= 0:
        out[i + offset:i + offset + len(value)] = value
        start = i + 1
    return bytes(out)


def huge_dimensions_mp4(path: Path, src: Path) -> Path:
    """``src`` (an H.264 mp4 with audio) with its declared frame size set to 65535 x 65535 in
    the track header and the sample description (the SPS inside stays small)."""
    data = src.read_bytes()
    big = struct.pack(">H", 65535)
    data = _patch_all(data, b"avc1", 4 + 24, big + big)  # avc1 box: width/height at +24
    data = _patch_all(data, b"tkhd", 4 + 76, struct.pack(">I", 65535 << 16) * 2)  # v0 tkhd
    path.write_bytes(data)
    return path


def y4m_huge(path: Path) -> Path:
    """A raw YUV4MPEG stream declaring 60000 x 60000 frames (5.4 GB each) with 1 KB of data."""
    path.write_bytes(b"YUV4MPEG2 W60000 H60000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(1024))
    return path


def png_bytes() -> bytes:
    import io

    out = io.BytesIO()
    with av.open(out, "w", format="image2pipe") as c:
        s = c.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = 16, 16, "rgb24"
        f = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        c.mux(s.encode(f))
        c.mux(s.encode(None))
    return out.getvalue()


def absurd_xing_frames(mp3: bytes) -> bytes:
    """An mp3 whose Xing/Info header claims 0x7FFFFFFF frames (years of audio)."""
    out = bytearray(mp3)
    for tag in (b"Xing", b"Info"):
        i = out.find(tag)
        if i >= 0 and struct.unpack(">I", out[i + 4:i + 8])[0] & 1:
            out[i + 8:i + 12] = struct.pack(">I", 0x7FFFFFFF)
            return bytes(out)
    raise AssertionError("the generated mp3 has no Xing/Info frame count")


def flip_bytes(data: bytes, start_frac: float, n: int, seed: int = 0) -> bytes:
    """Overwrite ``n`` bytes with random ones from ``start_frac`` of the way in."""
    rng = np.random.default_rng(seed)
    out = bytearray(data)
    i = int(len(out) * start_frac)
    out[i:i + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    return bytes(out)


def build_corpus(root: Path) -> list[Case]:
    """Write the corpus under ``root/hostile`` and good music under ``root/good``."""
    bad = root / "hostile"
    good = root / "good"
    bad.mkdir(parents=True)
    good.mkdir(parents=True)
    cases: list[Case] = []

    def add(kind, path, expect, stage=None, needle="", input_arg=None):
        cases.append(Case(kind, Path(path), expect, stage, needle, input_arg))

    # good music (the "real" files the hostile ones hide among)
    for name, preset, secs in [("happy.mp3", "happy", 12.0), ("sad.flac", "sad", 8.0),
                               ("calm.ogg", "calm", 6.0)]:
        write_audio(good / name, _music(secs, preset), SR)
        add(f"good {name}", good / name, "ok")

    music = _music(8.0, "angry", seed=3)
    mp3 = bad / "tmp-src.mp3"
    write_audio(mp3, music, SR)
    mp3_data = mp3.read_bytes()
    mp3.unlink()
    flac_tmp = bad / "tmp-src.flac"
    write_audio(flac_tmp, music, SR)
    flac_data = flac_tmp.read_bytes()
    flac_tmp.unlink()

    # --- not media at all
    (bad / "zero-byte.mp3").write_bytes(b"")
    add("zero-byte file", bad / "zero-byte.mp3", "fail", "decode", "empty")
    rng = np.random.default_rng(7)
    (bad / "random-bytes.mp3").write_bytes(rng.integers(0, 256, 50_000, np.uint8).tobytes())
    add("random bytes .mp3", bad / "random-bytes.mp3", "fail", "decode", "")
    (bad / "random-bytes.wav").write_bytes(rng.integers(0, 256, 20_000, np.uint8).tobytes())
    add("random bytes .wav", bad / "random-bytes.wav", "fail", "decode", "")
    (bad / "notes.mp3").write_text("These are my liner notes, not audio.\n" * 40)
    add("text file .mp3", bad / "notes.mp3", "fail", "decode", "not readable audio/video")
    (bad / "picture.mp4").write_bytes(png_bytes())
    add("PNG renamed .mp4", bad / "picture.mp4", "fail", "decode", "image")
    (bad / "header-only.wav").write_bytes(wav_bytes(np.zeros(0), SR))
    add("WAV header, no samples", bad / "header-only.wav", "fail", "decode", "zero samples")
    # --- damaged media
    cut = len(mp3_data) // 2 + 77  # mid-frame
    (bad / "truncated.mp3").write_bytes(mp3_data[:cut])
    add("mp3 truncated mid-frame", bad / "truncated.mp3", "flagged")
    (bad / "truncated.flac").write_bytes(flac_data[: len(flac_data) // 2 + 13])
    add("flac truncated mid-frame", bad / "truncated.flac", "flagged")
    wav = wav_bytes(music, SR)
    (bad / "truncated.wav").write_bytes(wav[: len(wav) // 3 + 1])
    add("wav truncated (header declares more)", bad / "truncated.wav", "flagged")
    (bad / "bit-damaged.flac").write_bytes(flip_bytes(flac_data, 0.4, 3000))
    add("flac with damaged bytes (CRC)", bad / "bit-damaged.flac", "flagged")
    (bad / "bit-damaged.mp3").write_bytes(flip_bytes(mp3_data, 0.5, 4000, seed=2))
    add("mp3 with damaged bytes", bad / "bit-damaged.mp3", "flagged")
    # --- container edge cases
    _video(bad / "no-audio.mp4", (64, 48), 2.0, audio=False)
    add("video without audio stream", bad / "no-audio.mp4", "fail", "decode", "no audio stream")
    clip = _video(bad / "clip-src.mp4", (64, 48), 3.0)
    mp4_data = clip.read_bytes()
    huge_dimensions_mp4(bad / "huge-dimensions.mp4", clip)
    add("huge declared dimensions (65535x65535, with audio)", bad / "huge-dimensions.mp4", "ok")
    (bad / "truncated.mp4").write_bytes(mp4_data[: len(mp4_data) // 2])  # moov is at the end
    add("mp4 truncated before its index", bad / "truncated.mp4", "fail", "decode", "")
    clip.unlink()
    y4m_huge(bad / "huge-frames.y4m")
    add("raw video declaring 60000x60000 frames", bad / "huge-frames.y4m", "fail", "decode", "")
    (bad / "absurd-duration.wav").write_bytes(
        wav_bytes(music[:SR], SR, declared_data_bytes=0xFFFFFFF0))
    add("WAV whose data chunk declares 4 GB (27 h) in 44 KB", bad / "absurd-duration.wav",
        "flagged")
    (bad / "absurd-duration.mp3").write_bytes(absurd_xing_frames(mp3_data))
    add("mp3 whose Xing header declares ~3.6 years", bad / "absurd-duration.mp3", "fail",
        "decode", "maximum duration")
    # --- signal edge cases that must work
    n = 3 * SR
    t = np.arange(n) / SR
    (bad / "silence.wav").write_bytes(wav_bytes(np.zeros(n), SR))
    add("digital silence", bad / "silence.wav", "ok")
    (bad / "dc-offset.wav").write_bytes(wav_bytes(0.6 + 0.2 * np.sin(2 * np.pi * 220 * t), SR))
    add("DC offset", bad / "dc-offset.wav", "ok")
    (bad / "clipping.wav").write_bytes(wav_bytes(np.clip(8 * music[:n], -1, 1), SR))
    add("hard clipping", bad / "clipping.wav", "ok")
    t8 = np.arange(3 * 8000) / 8000
    (bad / "rate-8k.wav").write_bytes(wav_bytes(0.5 * np.sin(2 * np.pi * 440 * t8), 8000))
    add("8 kHz", bad / "rate-8k.wav", "ok")
    t192 = np.arange(2 * 192000) / 192000
    (bad / "rate-192k.wav").write_bytes(wav_bytes(0.5 * np.sin(2 * np.pi * 440 * t192), 192000))
    add("192 kHz", bad / "rate-192k.wav", "ok")
    six = np.stack([0.3 * np.sin(2 * np.pi * (200 + 50 * c) * t) for c in range(6)], axis=1)
    (bad / "surround-5.1.wav").write_bytes(wav_bytes(six, SR))
    add("5.1 channels", bad / "surround-5.1.wav", "ok")
    write_audio(bad / "one-second.mp3", music[:SR], SR)
    add("1-second file", bad / "one-second.mp3", "ok")
    sparse_wav(bad / "three-hours.wav", 3 * 3600)
    add("3-hour file (sparse silence)", bad / "three-hours.wav", "ok")
    _video(bad / "odd-size.mkv", (161, 97), 2.0, pix_fmt="yuv444p")
    add("odd frame size video", bad / "odd-size.mkv", "ok")
    _video(bad / "vfr.mkv", (64, 48), 3.0, vfr=True)
    add("variable frame rate video", bad / "vfr.mkv", "ok")
    # --- hostile names and paths
    short = wav_bytes(music[: 2 * SR], SR)
    for name in ["chanson été 音楽 🎵.wav", "with  spaces .wav", "-rf --force.wav",
                 "a..b.wav", "..two-dots.wav", "$(touch pwned);.wav", "'quote\".wav"]:
        (bad / name).write_bytes(short)
        add(f"hostile name {name!r}", bad / name, "ok")
    (bad / ("x" * 200 + ".wav")).write_bytes(short)
    add("200-character name", bad / ("x" * 200 + ".wav"), "ok")
    (bad / "folder.mp3").mkdir()
    (bad / "folder.mp3" / "inside.wav").write_bytes(short)
    add("folder named like a media file", bad / "folder.mp3" / "inside.wav", "ok")
    dup = wav_bytes(music[SR: 3 * SR], SR)
    (bad / "dup-one.wav").write_bytes(dup)
    (bad / "dup-two.wav").write_bytes(dup)
    add("identical file, name 1", bad / "dup-one.wav", "ok")
    add("identical file, name 2", bad / "dup-two.wav", "ok")
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "dotdot.wav").write_bytes(short)
    dotdot = f"{bad}/../elsewhere/dotdot.wav"  # an input path with '../' segments
    add("input path with ../ segments", root / "elsewhere" / "dotdot.wav", "ok", input_arg=dotdot)
    latin1 = os.path.join(os.fsencode(bad), b"latin-1 caf\xe9 (not UTF-8).wav")
    with open(latin1, "wb") as f:
        f.write(short)
    add("file name that is not UTF-8", Path(os.fsdecode(latin1)), "ok")
    os.mkfifo(bad / "named-pipe.mp3")
    add("named pipe .mp3 (never opened for reading)", bad / "named-pipe.mp3", "fail", "read",
        "not a regular file")
    return cases
