"""m2p_core.audio.decode: decoding audio/video containers to mono float32, typed errors."""

from __future__ import annotations

import io
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from m2p_core import synth
from m2p_core.audio import decode as media

SR_IN = 22050
SR_OUT = 16000
TONE_S = 3.0


def _tone(freq_hz: float = 440.0, duration_s: float = TONE_S, sr: int = SR_IN) -> np.ndarray:
    t = np.arange(int(round(duration_s * sr))) / sr
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _peak_hz(x: np.ndarray, sr: int) -> float:
    mid = x[len(x) // 4: 3 * len(x) // 4]
    spec = np.abs(np.fft.rfft(mid * np.hanning(len(mid))))
    return float(np.argmax(spec) * sr / len(mid))


@pytest.fixture(scope="module")
def tone_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("tones")
    files = {}
    for ext in (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a"):
        files[ext] = d / f"tone{ext}"
        synth.write_audio(files[ext], _tone(), SR_IN)
    return files


@pytest.mark.parametrize("ext", [".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a"])
def test_audio_containers_round_trip(tone_files: dict[str, Path], ext: str) -> None:
    stats = media.DecodeStats()
    chunks = list(media.iter_audio(tone_files[ext], SR_OUT, chunk_s=1.0, stats=stats))
    assert all(c.dtype == np.float32 and c.ndim == 1 for c in chunks)
    assert all(len(c) == SR_OUT for c in chunks[:-1])  # fixed-size chunks, last may be shorter
    x = np.concatenate(chunks)
    assert stats.samples_out == len(x)
    assert stats.corrupt_packets == 0
    assert abs(len(x) / SR_OUT - TONE_S) < 0.1
    assert abs(_peak_hz(x, SR_OUT) - 440.0) < 3.0
    assert 0.3 < float(np.max(np.abs(x[SR_OUT: 2 * SR_OUT]))) < 0.7  # level preserved


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_resample_rates(tone_files: dict[str, Path], rate: int) -> None:
    x = media.decode_audio(tone_files[".wav"], rate)
    assert abs(len(x) - TONE_S * rate) <= 2
    assert abs(_peak_hz(x, rate) - 440.0) < 3.0


@pytest.mark.parametrize("ext", [".mp4", ".mov", ".mkv", ".webm"])
def test_video_soundtrack_decodes(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"clip{ext}"
    synth.write_video(path, size=(64, 48), fps=10, audio=_tone(duration_s=2.0), sample_rate=SR_IN)
    info = media.probe(path)
    assert info.has_video and info.has_audio
    assert info.video_size == (64, 48)
    assert info.duration_s is not None and abs(info.duration_s - 2.0) < 0.15
    x = media.decode_audio(path, SR_OUT)
    assert x.dtype == np.float32
    assert abs(len(x) / SR_OUT - 2.0) < 0.1
    assert abs(_peak_hz(x, SR_OUT) - 440.0) < 3.0


def test_video_without_audio(tmp_path: Path) -> None:
    path = tmp_path / "silent.mp4"
    synth.write_video(path, size=(64, 48), fps=10, duration_s=1.0, pattern="gradient")
    info = media.probe(path)
    assert info.has_video and not info.has_audio and info.audio_codec is None
    with pytest.raises(media.NoAudioStreamError, match="no audio stream"):
        next(media.iter_audio(path, SR_OUT))


def test_probe_audio(tone_files: dict[str, Path]) -> None:
    info = media.probe(tone_files[".mp3"])
    assert info.has_audio and not info.has_video and info.video_size is None
    assert info.audio_codec is not None and "mp3" in info.audio_codec
    assert info.audio_sample_rate == SR_IN and info.audio_channels == 1
    assert info.container == "mp3"
    assert info.duration_s is not None and abs(info.duration_s - TONE_S) < 0.1


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5d8e6e80000000049454e44ae426082"
)


@pytest.mark.parametrize(
    "name, content",
    [
        ("notes.txt", b"hello world\nthis is not media\n" * 40),
        ("noise.mp3", np.random.default_rng(0).bytes(50_000)),
        ("empty.mp3", b""),
        ("image.mp4", PNG_1PX),
    ],
)
def test_not_media_is_undecodable(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(media.UndecodableMediaError, match=name):
        list(media.iter_audio(path, SR_OUT))
    with pytest.raises(media.UndecodableMediaError):
        media.probe(path)


def test_missing_file_is_undecodable(tmp_path: Path) -> None:
    with pytest.raises(media.UndecodableMediaError, match="nope.wav"):
        media.decode_audio(tmp_path / "nope.wav", SR_OUT)


def test_zero_samples_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    synth.write_audio(path, np.zeros(0, dtype=np.float32), SR_IN)
    with pytest.raises(media.EmptyMediaError, match="empty.wav"):
        media.decode_audio(path, SR_OUT)


def test_error_hierarchy() -> None:
    for cls in (media.UndecodableMediaError, media.NoAudioStreamError, media.EmptyMediaError):
        assert issubclass(cls, media.MediaError)


@pytest.mark.parametrize("ext", [".wav", ".mp3", ".flac"])
def test_truncated_file_decodes_first_part(tmp_path: Path, ext: str) -> None:
    full = tmp_path / f"full{ext}"
    synth.write_audio(full, _tone(duration_s=4.0), SR_IN)
    data = full.read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: len(data) // 2])
    x = media.decode_audio(cut, SR_OUT)
    assert 1.2 < len(x) / SR_OUT < 2.8
    assert abs(_peak_hz(x, SR_OUT) - 440.0) < 3.0


def test_corrupt_middle_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "tone.mp3"
    synth.write_audio(path, _tone(duration_s=4.0), SR_IN)
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid: mid + 600] = np.random.default_rng(1).bytes(600)
    path.write_bytes(bytes(data))
    stats = media.DecodeStats()
    x = np.concatenate(list(media.iter_audio(path, SR_OUT, stats=stats)))
    assert len(x) / SR_OUT > 3.0  # most of the file survives one damaged region
    assert stats.samples_out == len(x)


def test_file_like_source(tone_files: dict[str, Path]) -> None:
    data = tone_files[".flac"].read_bytes()
    buf = io.BytesIO(data)
    buf.seek(0)
    info = media.probe(buf)
    assert info.has_audio and buf.tell() == 0  # position restored
    x = media.decode_audio(buf, SR_OUT)
    y = media.decode_audio(tone_files[".flac"], SR_OUT)
    np.testing.assert_array_equal(x, y)


def test_stereo_downmix(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    left = _tone(440.0)
    right = _tone(660.0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=SR_IN, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.stack([left, right]), format="fltp",
                                           layout="stereo")
        frame.sample_rate = SR_IN
        frame.pts = 0
        frame.time_base = Fraction(1, SR_IN)
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert media.probe(path).audio_channels == 2
    x = media.decode_audio(path, SR_OUT)
    assert x.ndim == 1 and abs(len(x) / SR_OUT - TONE_S) < 0.01
    spec = np.abs(np.fft.rfft(x[:SR_OUT]))  # 1 Hz bins
    assert spec[440] > 0.3 * spec.max() and spec[660] > 0.3 * spec.max()


def test_decode_audio_equals_iter_audio(tone_files: dict[str, Path]) -> None:
    chunks = list(media.iter_audio(tone_files[".m4a"], SR_OUT, chunk_s=0.25))
    np.testing.assert_array_equal(np.concatenate(chunks), media.decode_audio(tone_files[".m4a"],
                                                                             SR_OUT))


def test_long_file_streams_in_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    sr = 8000
    minutes = 10
    synth.write_audio(path, np.tile(_tone(duration_s=1.0, sr=sr), 60 * minutes), sr)
    tracemalloc.start()
    try:
        n = 0
        longest = 0
        for chunk in media.iter_audio(path, sr, chunk_s=1.0):
            n += len(chunk)
            longest = max(longest, len(chunk))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 60 * minutes * sr
    assert longest == sr
    assert peak < 2_000_000  # the whole signal would be 19 MB as float32


def test_lazy_errors_and_validation(tone_files: dict[str, Path]) -> None:
    with pytest.raises(ValueError):
        media.iter_audio(tone_files[".wav"], 0)
    with pytest.raises(ValueError):
        media.iter_audio(tone_files[".wav"], SR_OUT, chunk_s=0.0)
