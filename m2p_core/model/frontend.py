"""Spectrogram front end and hand-made audio descriptors, in torch.

The model's forward takes raw mono waveforms; everything here runs inside it, so training,
CPU inference and GPU inference share one definition. Filterbanks come from librosa and are
stored as (non-persistent) buffers, recomputed from the config when the model is built (and
cached on disk: see :func:`filterbanks`).
"""

from __future__ import annotations

import functools
import math

import librosa
import numpy as np
import scipy.fft
import torch
from torch import nn

from m2p_core.files import atomic_path, cache_dir

# Krumhansl & Kessler (1982) probe-tone key profiles, tonic first (C major / C minor).
_KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
_KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]

N_MFCC = 13
CHROMA_N_FFT = 4096  # long frames for chroma: 3.9 Hz bins at 16 kHz resolve semitones >≈130 Hz

#: Names of the descriptor vector's entries, in order.
DESCRIPTOR_NAMES = (
    "loudness_db",  # mean frame energy, dB (relative to full scale, approximately)
    "loudness_std_db",  # frame energy variation, dB
    "brightness",  # mean spectral centroid / Nyquist, 0..1
    "flux",  # mean positive log-mel flux per frame (onset strength)
    "onset_density",  # share of frames whose flux exceeds the clip's median by a margin, 0..1
    "key_clarity",  # max correlation of mean chroma with the 24 key profiles, -1..1
    "mode_major",  # best major-key correlation minus best minor-key correlation
    "tonal_cos",  # mean chroma's angle on the circle of fifths: cos
    "tonal_sin",  # ... and sin
    "flatness",  # mean spectral flatness (noisiness), 0..1
    "pulse_clarity",  # height of the onset envelope's autocorrelation peak (0.25–1.5 s lags)
    "tempo_norm",  # that peak's tempo in BPM / 200
    *(f"mfcc{i}_mean" for i in range(N_MFCC)),  # timbre: MFCC means (dB-scaled log-mel DCT)
    *(f"mfcc{i}_std" for i in range(N_MFCC)),  # ... and their variation over time
    *(f"chroma_rel{i}" for i in range(12)),  # mean chroma rotated so the best key's tonic is 0
)
#: descriptor name -> its column in the descriptor vector
DESCRIPTOR_INDEX = {name: i for i, name in enumerate(DESCRIPTOR_NAMES)}


@functools.lru_cache(maxsize=8)
def filterbanks(sample_rate: int, n_fft: int, n_mels: int,
                fmin_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """(mel filterbank (n_mels, n_fft//2+1), chroma filterbank (12, CHROMA_N_FFT//2+1)) from
    librosa, memoised and cached on disk (keyed by the parameters and librosa's version).

    Computing them needs ``librosa.filters``, whose import (scipy.signal, scipy.stats, numba
    ufuncs) costs 1-2 CPU-seconds in every fresh process that builds a model: the CLI, each
    local worker process, each Dataflow worker. The cached arrays are the same bytes librosa
    returned. Any cache problem (unwritable, corrupt) just recomputes."""
    key = (f"librosa{librosa.__version__}-sr{sample_rate}-nfft{n_fft}-mels{n_mels}"
           f"-fmin{float(fmin_hz)!r}-chroma{CHROMA_N_FFT}")
    path = cache_dir("filterbanks") / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as cached:
            return cached["mel"], cached["chroma"]
    except Exception:  # absent, unreadable or corrupt: recompute
        pass
    mel = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin_hz, fmax=sample_rate / 2
    )
    chroma = librosa.filters.chroma(sr=sample_rate, n_fft=CHROMA_N_FFT)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            np.savez(tmp, mel=mel, chroma=chroma)
    except OSError:
        pass
    return mel, chroma


def _key_templates() -> torch.Tensor:
    """(24, 12) z-scored key profiles: 12 major keys then 12 minor keys."""
    rows = []
    for profile in (_KK_MAJOR, _KK_MINOR):
        base = np.asarray(profile, dtype=np.float64)
        for tonic in range(12):
            rows.append(np.roll(base, tonic))
    t = np.asarray(rows)
    t = (t - t.mean(axis=1, keepdims=True)) / t.std(axis=1, keepdims=True)
    return torch.tensor(t, dtype=torch.float32)


class LogMelFrontEnd(nn.Module):
    """Raw waveform (B, N) at ``sample_rate`` Hz -> log-mel (B, n_mels, T) + descriptors (B, D)."""

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 512,
        n_mels: int = 64,
        fmin_hz: float = 30.0,
    ) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        mel, chroma = filterbanks(sample_rate, n_fft, n_mels, fmin_hz)
        dct = scipy.fft.dct(np.eye(n_mels), type=2, norm="ortho", axis=0)[:N_MFCC]  # (13, M)
        freqs = np.linspace(0.0, 1.0, n_fft // 2 + 1)  # fraction of Nyquist
        fifths = (np.arange(12) * 7) % 12  # position of each pitch class on the circle of fifths
        angle = 2 * math.pi * fifths / 12.0
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("chroma_window", torch.hann_window(CHROMA_N_FFT), persistent=False)
        self.register_buffer("dct", torch.tensor(dct.T, dtype=torch.float32), persistent=False)
        self.register_buffer("mel_fb", torch.tensor(mel.T, dtype=torch.float32), persistent=False)
        self.register_buffer(
            "chroma_fb", torch.tensor(chroma.T, dtype=torch.float32), persistent=False
        )
        self.register_buffer(
            "freq_frac", torch.tensor(freqs, dtype=torch.float32), persistent=False
        )
        self.register_buffer("key_templates", _key_templates(), persistent=False)
        self.register_buffer(
            "fifths_cs",
            torch.tensor(np.stack([np.cos(angle), np.sin(angle)], 1), dtype=torch.float32),
            persistent=False,
        )

    @property
    def n_descriptors(self) -> int:
        return len(DESCRIPTOR_NAMES)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spec = torch.stft(
            wave,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            return_complex=True,
        )
        power = spec.real.square() + spec.imag.square()  # (B, F, T)
        power_t = power.transpose(1, 2)  # (B, T, F)
        mel = power_t @ self.mel_fb  # (B, T, M)
        logmel = torch.log(mel + 1e-6).transpose(1, 2)  # (B, M, T)
        long_spec = torch.stft(
            wave,
            n_fft=CHROMA_N_FFT,
            hop_length=CHROMA_N_FFT // 2,
            window=self.chroma_window,
            center=True,
            return_complex=True,
        )
        long_power_t = (long_spec.real.square() + long_spec.imag.square()).transpose(1, 2)
        return logmel, self._descriptors(power_t, logmel, long_power_t)

    def _descriptors(
        self, power_t: torch.Tensor, logmel: torch.Tensor, long_power_t: torch.Tensor
    ) -> torch.Tensor:
        eps = 1e-8
        frame_energy = power_t.sum(-1) / (self.n_fft * self.window.square().sum())
        frame_db = 10.0 * torch.log10(frame_energy + 1e-10)  # (B, T)
        active = (frame_db > frame_db.amax(dim=1, keepdim=True) - 60.0).float()
        n_active = active.sum(1).clamp_min(1.0)
        loud = (frame_db * active).sum(1) / n_active
        loud_std = (((frame_db - loud[:, None]) ** 2 * active).sum(1) / n_active).sqrt()

        total = power_t.sum(-1) + eps
        centroid = (power_t * self.freq_frac).sum(-1) / total
        brightness = (centroid * active).sum(1) / n_active

        log_p = torch.log(power_t + 1e-10)
        flatness_frames = torch.exp(log_p.mean(-1)) / (power_t.mean(-1) + eps)
        flatness = (flatness_frames * active).sum(1) / n_active

        diff = torch.relu(logmel[:, :, 1:] - logmel[:, :, :-1]).mean(1)  # (B, T-1)
        flux = diff.mean(1)
        median = diff.median(dim=1, keepdim=True).values
        onset_density = torch.sigmoid((diff - median - 0.5) * 8.0).mean(1)

        chroma = long_power_t @ self.chroma_fb  # (B, T_long, 12)
        long_db = 10.0 * torch.log10(long_power_t.sum(-1) + 1e-10)
        long_active = (long_db > long_db.amax(dim=1, keepdim=True) - 60.0).float()
        chroma = chroma / (chroma.amax(-1, keepdim=True) + eps)
        chroma_mean = (chroma * long_active[..., None]).sum(1) / long_active.sum(1).clamp_min(
            1.0
        )[:, None]
        z = chroma_mean - chroma_mean.mean(-1, keepdim=True)
        z = z / (z.std(-1, keepdim=True, unbiased=False) + 1e-6)
        key_corr = z @ self.key_templates.T / 12.0  # Pearson r with each key (B, 24)
        best_major = key_corr[:, :12].amax(1)
        best_minor = key_corr[:, 12:].amax(1)
        clarity = key_corr.amax(1)
        tonal = chroma_mean @ self.fifths_cs  # (B, 2)
        tonal = tonal / (tonal.norm(dim=-1, keepdim=True) + 1e-6)

        # key-invariant chroma profile: rotate so the best key's tonic comes first
        tonic = key_corr.argmax(1) % 12  # (B,)
        idx = (torch.arange(12, device=chroma_mean.device)[None, :] + tonic[:, None]) % 12
        chroma_rel = torch.gather(chroma_mean, 1, idx)

        # timbre: MFCCs of the dB-scaled log-mel
        mfcc = (logmel * (10.0 / math.log(10.0))).transpose(1, 2) @ self.dct  # (B, T, 13)
        mfcc_mean = mfcc.mean(1)
        mfcc_std = mfcc.std(1, unbiased=False)

        # pulse: autocorrelation of the onset envelope
        env = diff - diff.mean(1, keepdim=True)
        n = env.shape[1]
        spec_env = torch.fft.rfft(env, n=2 * n)
        ac = torch.fft.irfft(spec_env.real.square() + spec_env.imag.square(), n=2 * n)[:, :n]
        ac = ac / (ac[:, :1] + eps)
        frame_s = self.hop_length / self.sample_rate
        lo, hi = max(1, int(0.25 / frame_s)), min(n - 1, int(1.5 / frame_s))
        if hi > lo:
            peak, lag = ac[:, lo:hi].max(1)
            tempo = 60.0 / ((lag + lo).float() * frame_s) / 200.0
        else:  # too short to have a pulse
            peak = tempo = torch.zeros_like(loud)

        base = torch.stack(
            [
                loud,
                loud_std,
                brightness,
                flux,
                onset_density,
                clarity,
                best_major - best_minor,
                tonal[:, 0],
                tonal[:, 1],
                flatness,
                peak,
                tempo,
            ],
            dim=1,
        )
        return torch.cat([base, mfcc_mean, mfcc_std, chroma_rel], dim=1)
