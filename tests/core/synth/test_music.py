"""m2p_core.synth.music: cue-controlled music synthesis and PyAV writers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from m2p_core import synth
from m2p_core.audio import decode as media
from m2p_core.synth.music import PRESETS, MusicSpec, synthesize_music

SR = 22050


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))))


def _centroid_hz(x: np.ndarray, sr: int = SR) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    return float(np.sum(freqs * spec) / np.sum(spec))


def _chroma(x: np.ndarray, sr: int = SR) -> np.ndarray:
    """Energy per pitch class (0 = C) from one long FFT, 60 Hz .. 2 kHz."""
    spec = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    keep = (freqs > 60) & (freqs < 2000)
    pc = np.round(12 * np.log2(freqs[keep] / 440.0) + 69).astype(int) % 12
    out = np.bincount(pc, weights=spec[keep], minlength=12)
    return out / out.sum()


def _frame_rms(x: np.ndarray, frame_n: int = 512) -> np.ndarray:
    n = len(x) // frame_n * frame_n
    return np.sqrt(np.mean(x[:n].reshape(-1, frame_n) ** 2, axis=1))


def test_output_contract() -> None:
    x = synthesize_music(MusicSpec(), 5.0, SR)
    assert x.dtype == np.float32 and x.ndim == 1 and len(x) == 5 * SR
    assert np.all(np.isfinite(x)) and np.max(np.abs(x)) <= 1.0
    assert synthesize_music(MusicSpec(), 0.0).shape == (0,)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_hit_loudness_and_peak(name: str) -> None:
    spec = PRESETS[name]
    x = synthesize_music(spec, 8.0, SR)
    assert np.max(np.abs(x)) <= 1.0
    assert abs(_rms_db(x) - spec.loudness_dbfs) < 1.5


def test_required_presets_exist() -> None:
    assert {"happy", "angry", "sad", "calm"} <= set(PRESETS)
    assert PRESETS["happy"].mode == "major" and PRESETS["calm"].mode == "major"
    assert PRESETS["sad"].mode == "minor" and PRESETS["angry"].mode == "minor"
    assert PRESETS["happy"].tempo_bpm > PRESETS["calm"].tempo_bpm
    assert PRESETS["angry"].tempo_bpm > PRESETS["sad"].tempo_bpm


def test_deterministic() -> None:
    spec = PRESETS["happy"]
    np.testing.assert_array_equal(synthesize_music(spec, 4.0), synthesize_music(spec, 4.0))


def test_seed_changes_music() -> None:
    a = synthesize_music(dataclasses.replace(PRESETS["calm"], seed=1), 8.0)
    b = synthesize_music(dataclasses.replace(PRESETS["calm"], seed=2), 8.0)
    assert not np.allclose(a, b)
    assert np.max(np.abs(_chroma(a) - _chroma(b))) > 0.01  # different notes, not just phase


def test_preset_loudness_ordering() -> None:
    rms = {k: _rms_db(synthesize_music(PRESETS[k], 8.0)) for k in ("happy", "angry", "sad", "calm")}
    assert min(rms["happy"], rms["angry"]) > max(rms["sad"], rms["calm"]) + 5


def test_brightness_raises_spectral_centroid() -> None:
    base = MusicSpec(rhythm_density=0.1, seed=3)
    dark = synthesize_music(dataclasses.replace(base, brightness=0.1), 8.0)
    bright = synthesize_music(dataclasses.replace(base, brightness=0.9), 8.0)
    assert _centroid_hz(bright) > 1.5 * _centroid_hz(dark)


def test_presets_brightness_ordering() -> None:
    c = {k: _centroid_hz(synthesize_music(PRESETS[k], 8.0)) for k in ("happy", "angry", "sad")}
    assert c["happy"] > c["sad"] and c["angry"] > c["sad"]


def test_register_raises_pitch() -> None:
    base = MusicSpec(rhythm_density=0.1, brightness=0.0, seed=4)
    low = synthesize_music(dataclasses.replace(base, root_midi=48), 8.0)
    high = synthesize_music(dataclasses.replace(base, root_midi=72), 8.0)
    assert _centroid_hz(high) > 1.5 * _centroid_hz(low)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_major_minor_chroma(seed: int) -> None:
    base = MusicSpec(root_midi=60, rhythm_density=0.1, brightness=0.2, seed=seed)
    major = _chroma(synthesize_music(dataclasses.replace(base, mode="major"), 12.0))
    minor = _chroma(synthesize_music(dataclasses.replace(base, mode="minor"), 12.0))
    # C major has E (4) and A (9); C minor has Eb (3) and Ab (8)
    assert major[4] > major[3] and major[9] > major[8]
    assert minor[3] > minor[4] and minor[8] > minor[9]


def test_dissonance_adds_out_of_key_energy() -> None:
    base = MusicSpec(root_midi=60, mode="major", rhythm_density=0.1, brightness=0.2, seed=5)
    out_of_key = [1, 3, 6, 8, 10]  # not in C major
    clean = _chroma(synthesize_music(base, 12.0))[out_of_key].sum()
    harsh = _chroma(synthesize_music(dataclasses.replace(base, dissonance=0.9), 12.0))[
        out_of_key].sum()
    assert harsh > clean + 0.05


def test_staccato_leaves_more_gaps_than_legato() -> None:
    base = MusicSpec(rhythm_density=0.1, tempo_bpm=80, seed=6)
    legato = _frame_rms(synthesize_music(dataclasses.replace(base, articulation=0.0), 12.0))
    stacc = _frame_rms(synthesize_music(dataclasses.replace(base, articulation=1.0), 12.0))

    def quiet_fraction(r: np.ndarray) -> float:
        return float(np.mean(r < 0.1 * np.median(r)))

    assert quiet_fraction(stacc) > quiet_fraction(legato) + 0.1


def test_tempo_and_density_raise_onset_rate() -> None:
    librosa = pytest.importorskip("librosa")
    fast = synthesize_music(PRESETS["happy"], 12.0)
    slow = synthesize_music(PRESETS["sad"], 12.0)
    n_fast = len(librosa.onset.onset_detect(y=fast, sr=SR))
    n_slow = len(librosa.onset.onset_detect(y=slow, sr=SR))
    assert n_fast > 2 * n_slow


def test_invalid_spec() -> None:
    with pytest.raises(ValueError):
        synthesize_music(MusicSpec(mode="dorian"), 1.0)
    with pytest.raises(ValueError):
        synthesize_music(MusicSpec(), -1.0)
    with pytest.raises(ValueError):
        synthesize_music(MusicSpec(tempo_bpm=0), 1.0)


def test_splice() -> None:
    a = np.ones(1000, dtype=np.float32)
    b = -np.ones(500, dtype=np.float32)
    out = synth.splice(a, b, 1000, crossfade_s=0.1)
    assert out.dtype == np.float32 and len(out) == 1400
    assert np.all(out[:900] == 1.0) and np.all(out[1000:] == -1.0)
    mid = out[900:1000]
    assert np.all(np.diff(mid) < 0)  # smooth monotone transition
    np.testing.assert_array_equal(synth.splice(a, b, 1000, crossfade_s=0.0),
                                  np.concatenate([a, b]))
    assert len(synth.splice(a, b[:10], 1000, crossfade_s=1.0)) == 1000  # fade clipped


@pytest.mark.parametrize(
    "ext, codec_prefix",
    [(".wav", "pcm_s16le"), (".flac", "flac"), (".mp3", "mp3"), (".ogg", ""),
     (".opus", "opus"), (".m4a", "aac")],
)
def test_write_audio(tmp_path: Path, ext: str, codec_prefix: str) -> None:
    x = synthesize_music(PRESETS["happy"], 2.0, SR)
    path = tmp_path / f"clip{ext}"
    synth.write_audio(path, x, SR)
    info = media.probe(path)
    assert info.has_audio and not info.has_video
    assert info.audio_codec is not None and info.audio_codec.startswith(codec_prefix)
    assert info.audio_channels == 1
    y = media.decode_audio(path, SR)
    assert abs(len(y) / SR - 2.0) < 0.1
    assert abs(_rms_db(y) - _rms_db(x)) < 1.5


def test_write_audio_rejects_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="extension"):
        synth.write_audio(tmp_path / "x.xyz", np.zeros(10, dtype=np.float32), SR)


@pytest.mark.parametrize("ext", [".mp4", ".mov", ".mkv", ".webm"])
@pytest.mark.parametrize("pattern", ["bars", "gradient"])
def test_write_video(tmp_path: Path, ext: str, pattern: str) -> None:
    path = tmp_path / f"clip{ext}"
    synth.write_video(path, (96, 64), 12, 1.5, pattern=pattern)
    info = media.probe(path)
    assert info.has_video and not info.has_audio
    assert info.video_size == (96, 64)
    assert info.duration_s is not None and abs(info.duration_s - 1.5) < 0.2


def test_write_video_duration_defaults_to_audio(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    synth.write_video(path, audio=synthesize_music(PRESETS["sad"], 2.0, SR), sample_rate=SR)
    info = media.probe(path)
    assert info.has_audio and info.has_video and info.video_size == (320, 240)
    assert info.duration_s is not None and abs(info.duration_s - 2.0) < 0.15


def test_write_video_validates(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        synth.write_video(tmp_path / "a.mp4", (33, 24), duration_s=0.2)
    with pytest.raises(ValueError):
        synth.write_video(tmp_path / "a.avi", duration_s=0.2)
    with pytest.raises(ValueError):
        synth.write_video(tmp_path / "a.mp4", duration_s=0.2, pattern="plaid")
