"""What moves a music-driven video besides its palette: energy, onsets and beats.

Features are computed from streamed mono chunks (:func:`m2p_core.audio.decode.iter_audio`), so
memory
stays about one chunk of audio plus a few floats per 23 ms feature frame, whatever the duration.
The onset envelope is librosa's default recipe (spectral flux of a log-mel spectrogram, lag 1)
computed chunk by chunk; beats come from :func:`librosa.beat.beat_track` on that envelope.

:func:`frame_drive` turns the features into per-video-frame signals in [0, 1]: ``energy``
(smoothed loudness), ``onset`` (fast attack, ~0.2 s decay), ``beat`` (a pulse on each beat) and
``phase`` (beat phase, 0 at each beat, rising to 1 before the next).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import librosa
import numpy as np

N_FFT = 2048
HOP = 512
N_MELS = 64


@dataclass(frozen=True)
class MusicFeatures:
    sample_rate: int
    hop: int
    duration_s: float
    rms: np.ndarray  # (n,) frame RMS (linear amplitude), frames centred at i * hop / sample_rate
    onset: np.ndarray  # (n,) onset strength (librosa units: mean positive log-mel flux, dB)
    beats_s: np.ndarray  # (m,) beat times in seconds
    tempo_bpm: float

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    @property
    def times_s(self) -> np.ndarray:
        return np.arange(len(self.rms)) / self.frame_rate


class _StreamingAnalyser:
    """Framewise RMS and log-mel flux over a stream of chunks (centred frames, like librosa)."""

    def __init__(self, sample_rate: int) -> None:
        self.sr = sample_rate
        self.mel = librosa.filters.mel(sr=sample_rate, n_fft=N_FFT, n_mels=N_MELS)
        self.window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
        self.buf = np.zeros(N_FFT // 2, dtype=np.float32)  # centre padding
        self.prev_logmel: np.ndarray | None = None
        self.rms: list[np.ndarray] = []
        self.onset: list[np.ndarray] = []
        self.n_samples = 0

    def feed(self, chunk: np.ndarray, final: bool = False) -> None:
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        self.n_samples += 0 if final else len(chunk)
        self.buf = np.concatenate([self.buf, chunk])
        if len(self.buf) < N_FFT:
            return
        n_frames = 1 + (len(self.buf) - N_FFT) // HOP
        frames = np.lib.stride_tricks.sliding_window_view(self.buf, N_FFT)[::HOP][:n_frames]
        self.rms.append(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)))
        spec = np.abs(np.fft.rfft(frames * self.window, axis=1)) ** 2  # (n, 1 + N_FFT/2)
        logmel = librosa.power_to_db(spec @ self.mel.T, ref=1.0, amin=1e-10, top_db=None)
        prev = logmel[:1] if self.prev_logmel is None else self.prev_logmel
        flux = np.diff(np.concatenate([prev, logmel]), axis=0)
        self.onset.append(np.maximum(flux, 0.0).mean(axis=1))
        self.prev_logmel = logmel[-1:]
        self.buf = self.buf[n_frames * HOP:]

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        self.feed(np.zeros(N_FFT // 2, dtype=np.float32), final=True)
        # frames cover [0, n_samples] at hop spacing; drop frames centred past the end
        n_expected = 1 + self.n_samples // HOP
        rms = np.concatenate(self.rms)[:n_expected] if self.rms else np.zeros(0)
        onset = np.concatenate(self.onset)[:n_expected] if self.onset else np.zeros(0)
        return rms, onset


def analyse(chunks: Iterable[np.ndarray], sample_rate: int) -> MusicFeatures:
    """Energy, onset envelope and beats of a stream of mono float chunks at ``sample_rate``."""
    an = _StreamingAnalyser(sample_rate)
    for chunk in chunks:
        an.feed(chunk)
    rms, onset = an.finish()
    duration = an.n_samples / sample_rate
    beats = np.zeros(0)
    tempo = 0.0
    if len(onset) > 8 and np.any(onset > 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                t, b = librosa.beat.beat_track(onset_envelope=onset, sr=sample_rate, hop_length=HOP,
                                               units="time")
                tempo = float(np.atleast_1d(t)[0])
                beats = np.asarray(b, dtype=np.float64)
            except Exception:  # beat tracking is decoration: a failure just means no beats
                beats, tempo = np.zeros(0), 0.0
    return MusicFeatures(sample_rate, HOP, duration, rms, onset, beats, tempo)


def _normalise(x: np.ndarray, lo_pct: float, hi_pct: float) -> np.ndarray:
    if len(x) == 0:
        return x
    lo, hi = np.percentile(x, [lo_pct, hi_pct])
    if hi - lo < 1e-9:
        return np.zeros_like(x)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def _one_pole(x: np.ndarray, attack: float, release: float) -> np.ndarray:
    """Asymmetric one-pole smoother (coefficients per frame, 0..1: 1 = follow instantly)."""
    out = np.empty_like(x)
    y = float(x[0]) if len(x) else 0.0
    for i, v in enumerate(x):
        y += (attack if v > y else release) * (v - y)
        out[i] = y
    return out


@dataclass(frozen=True)
class FrameDrive:
    """Per-video-frame driving signals, each (n_frames,) in [0, 1]."""

    fps: float
    energy: np.ndarray
    onset: np.ndarray
    beat: np.ndarray
    phase: np.ndarray
    tempo_bpm: float

    def __len__(self) -> int:
        return len(self.energy)


def n_video_frames(duration_s: float, fps: float) -> int:
    return max(1, int(np.ceil(duration_s * fps - 1e-6)))


def frame_drive(features: MusicFeatures, fps: float, n_frames: int | None = None) -> FrameDrive:
    """Sample the features at video frame times ``i / fps``."""
    n = n_video_frames(features.duration_s, fps) if n_frames is None else int(n_frames)
    t = np.arange(n) / fps
    ft = features.times_s
    if len(ft) < 2:
        zeros = np.zeros(n)
        return FrameDrive(fps, zeros, zeros, zeros, zeros, features.tempo_bpm)
    db = 20.0 * np.log10(np.maximum(features.rms, 1e-6))
    energy_f = _normalise(db, 5, 98)
    # onset: the strongest flux within each video frame's interval, then attack/decay
    onset_f = _normalise(features.onset, 50, 99.5)
    starts = np.clip(np.searchsorted(ft, t), 0, len(ft) - 1)  # non-decreasing
    pooled = np.maximum.reduceat(onset_f, starts)  # max over each frame's feature frames
    decay = np.exp(-1.0 / (0.18 * fps))
    onset = _one_pole(pooled, 1.0, 1.0 - decay)
    energy = _one_pole(np.interp(t, ft, energy_f), 0.5, 1.0 - np.exp(-1.0 / (0.4 * fps)))
    beats = features.beats_s
    beat = np.zeros(n)
    phase = np.zeros(n)
    if len(beats):
        k = np.searchsorted(beats, t, side="right") - 1  # last beat at or before t
        has = k >= 0
        since = np.where(has, t - beats[np.maximum(k, 0)], np.inf)
        beat = np.exp(-since / 0.12)
        period = 60.0 / features.tempo_bpm if features.tempo_bpm > 0 else 0.5
        phase = np.where(has, np.clip(since / period, 0.0, 1.0), 0.0)
    return FrameDrive(fps, energy, np.clip(onset, 0.0, 1.0), np.clip(beat, 0.0, 1.0), phase,
                      features.tempo_bpm)
