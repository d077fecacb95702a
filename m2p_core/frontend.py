"""Spectrogram front end and hand-made audio descriptors, in torch.

The model's forward takes raw mono waveforms; everything here runs inside it, so training,
CPU inference and GPU inference share one definition. Filterbanks come from librosa and are
stored as (non-persistent) buffers, recomputed from the config when the model is built.
"""

from __future__ import annotations

import math

import librosa
import numpy as np
import torch
from torch import nn

# Krumhansl & Kessler (1982) probe-tone key profiles, tonic first (C major / C minor).
_KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
_KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]

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
)


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
        mel = librosa.filters.mel(
            sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin_hz, fmax=sample_rate / 2
        )
        chroma = librosa.filters.chroma(sr=sample_rate, n_fft=n_fft)
        freqs = np.linspace(0.0, 1.0, n_fft // 2 + 1)  # fraction of Nyquist
        fifths = (np.arange(12) * 7) % 12  # position of each pitch class on the circle of fifths
        angle = 2 * math.pi * fifths / 12.0
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
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
        return logmel, self._descriptors(power_t, logmel)

    def _descriptors(self, power_t: torch.Tensor, logmel: torch.Tensor) -> torch.Tensor:
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

        chroma = power_t @ self.chroma_fb  # (B, T, 12)
        chroma = chroma / (chroma.amax(-1, keepdim=True) + eps)
        chroma_mean = (chroma * active[..., None]).sum(1) / n_active[:, None]
        z = chroma_mean - chroma_mean.mean(-1, keepdim=True)
        z = z / (z.std(-1, keepdim=True) + 1e-6)
        key_corr = z @ self.key_templates.T / 11.0  # Pearson r with each key (B, 24)
        best_major = key_corr[:, :12].amax(1)
        best_minor = key_corr[:, 12:].amax(1)
        clarity = key_corr.amax(1)
        tonal = chroma_mean @ self.fifths_cs  # (B, 2)
        tonal = tonal / (tonal.norm(dim=-1, keepdim=True) + 1e-6)
        return torch.stack(
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
            ],
            dim=1,
        )
