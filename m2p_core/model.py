"""The Music2Palette model (v0): raw waveform -> valence/arousal + K-colour palette.

forward(waves) takes a batch of raw mono windows (B, N) at ``config.sample_rate`` Hz (windows
shorter or longer than ``config.window_s`` are zero-padded / cropped) and returns a dict:

* ``valence_arousal`` (B, 2) in [-1, 1]: each axis is ``2·P(axis > 0) − 1`` from a logistic head,
  i.e. the expected sign on Russell's plane;
* ``va_logits`` (B, 2): the raw logits (used by training);
* ``palette_lab`` (B, K, 3): CIELAB D65 colours;
* ``weights`` (B, K): non-negative colour proportions summing to 1;
* ``descriptors`` (B, D): the hand-made descriptors of :mod:`m2p_core.frontend`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from m2p_core.frontend import DESCRIPTOR_NAMES, LogMelFrontEnd
from m2p_core.palette_v0 import palette_from_emotion


@dataclass(frozen=True)
class ModelConfig:
    sample_rate: int = 16000  # Hz
    window_s: float = 10.0  # seconds of audio per input window
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 64
    channels: tuple[int, ...] = (16, 32, 64, 96)
    embedding_dim: int = 96
    dropout: float = 0.3
    n_colours: int = 5

    @property
    def window_samples(self) -> int:
        return int(round(self.window_s * self.sample_rate))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "channels" in kw:
            kw["channels"] = tuple(int(c) for c in kw["channels"])
        return cls(**kw)


class _ConvBlock(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )


class MusicEncoder(nn.Module):
    """Log-mel (B, M, T) -> embedding (B, E): a small VGG-style CNN with mean+max pooling."""

    def __init__(self, n_mels: int, channels: tuple[int, ...], embedding_dim: int) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        blocks, c_in = [], 1
        for c in channels:
            blocks.append(_ConvBlock(c_in, c))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.proj = nn.Linear(2 * c_in, embedding_dim)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.input_norm(logmel[:, None]))  # (B, C, M', T')
        x = x.mean(2)  # pool frequency
        pooled = torch.cat([x.mean(-1), x.amax(-1)], dim=1)
        return torch.relu(self.proj(pooled))


class Music2Palette(nn.Module):
    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        c = self.config
        self.frontend = LogMelFrontEnd(c.sample_rate, c.n_fft, c.hop_length, c.n_mels)
        self.encoder = MusicEncoder(c.n_mels, c.channels, c.embedding_dim)
        n_desc = len(DESCRIPTOR_NAMES)
        self.descriptor_norm = nn.BatchNorm1d(n_desc)
        self.va_head = nn.Sequential(
            nn.Dropout(c.dropout),
            nn.Linear(c.embedding_dim + n_desc, 64),
            nn.ReLU(inplace=True),
            nn.Dropout(c.dropout),
            nn.Linear(64, 2),
        )

    def _fit_length(self, waves: torch.Tensor) -> torch.Tensor:
        n = self.config.window_samples
        if waves.shape[1] > n:
            return waves[:, :n]
        if waves.shape[1] < n:
            return nn.functional.pad(waves, (0, n - waves.shape[1]))
        return waves

    def forward(self, waves: torch.Tensor) -> dict[str, torch.Tensor]:
        waves = self._fit_length(waves.float())
        logmel, desc = self.frontend(waves)
        emb = self.encoder(logmel)
        logits = self.va_head(torch.cat([emb, self.descriptor_norm(desc)], dim=1))
        va = torch.tanh(0.5 * logits)  # == 2·sigmoid(logit) − 1
        idx = {name: i for i, name in enumerate(DESCRIPTOR_NAMES)}
        palette_lab, weights = palette_from_emotion(
            va.detach(),
            brightness=desc[:, idx["brightness"]],
            onset_density=desc[:, idx["onset_density"]],
            key_clarity=desc[:, idx["key_clarity"]],
            tonal_cos_sin=desc[:, [idx["tonal_cos"], idx["tonal_sin"]]],
            n_colours=self.config.n_colours,
        )
        return {
            "valence_arousal": va,
            "va_logits": logits,
            "palette_lab": palette_lab,
            "weights": weights,
            "descriptors": desc,
        }
