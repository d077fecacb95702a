"""The Music2Palette model: raw waveform -> valence/arousal + a K-colour palette.

Front end (log-mel + descriptors, :mod:`m2p_core.model.frontend`) -> music encoder (CNN; embedding
and time tokens) -> valence/arousal logits (an MLP on embedding + descriptors, combined with RBF
SVMs on the descriptors, :mod:`m2p_core.model.descriptor_head`), and a colour decoder: the learned
:class:`m2p_core.model.decoder.PaletteDecoder` (``palette_head="learned"``) or the fixed v0 mapping
of :mod:`m2p_core.palette.v0` (``palette_head="v0"``).

forward(waves) takes a batch of raw mono windows (B, N) at ``config.sample_rate`` Hz (windows
shorter or longer than ``config.window_s`` are zero-padded / cropped) and returns a dict:

* ``valence_arousal`` (B, 2) in [-1, 1]: each axis is ``2·P(axis > 0) − 1`` from a logistic head,
  i.e. the expected sign on Russell's plane;
* ``va_logits`` (B, 2): the raw logits (used by training);
* ``palette_lab`` (B, K, 3): CIELAB D65 colours;
* ``weights`` (B, K): non-negative colour proportions summing to 1;
* ``descriptors`` (B, D): the hand-made descriptors of :mod:`m2p_core.model.frontend`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from m2p_core.model.decoder import PaletteDecoder, seeded_noise
from m2p_core.model.descriptor_head import KernelDescriptorHead
from m2p_core.model.frontend import DESCRIPTOR_NAMES, LogMelFrontEnd
from m2p_core.palette.v0 import palette_from_descriptors


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
    palette_head: str = "learned"  # "learned" (PaletteDecoder) | "v0" (fixed mapping)
    decoder_dim: int = 64
    decoder_layers: int = 2
    noise_dim: int = 8
    svm_support: tuple[int, int] = (0, 0)  # support vectors of the descriptor SVMs (0 = none)
    cnn_logit_weight: float = 1.0  # once the SVMs are fitted: logits = w_cnn·CNN + w_svm·SVM
    # 0.5: on the artist-disjoint folds 0-2 of the v1 run the CNN alone (macro-F1 0.660) beat
    # the equal-weight ensemble (0.650); the SVM still adds arousal accuracy (docs/MODEL_CARD.md)
    svm_logit_weight: float = 0.5

    @property
    def window_samples(self) -> int:
        return int(round(self.window_s * self.sample_rate))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        d["svm_support"] = list(self.svm_support)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        for key in ("channels", "svm_support"):
            if key in kw:
                kw[key] = tuple(int(c) for c in kw[key])
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

    def forward(self, logmel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> embedding (B, E) and time tokens (B, T', C) for the colour decoder."""
        x = self.blocks(self.input_norm(logmel[:, None]))  # (B, C, M', T')
        x = x.mean(2)  # pool frequency
        pooled = torch.cat([x.mean(-1), x.amax(-1)], dim=1)
        return torch.relu(self.proj(pooled)), x.transpose(1, 2)


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
        self.descriptor_svm = KernelDescriptorHead(n_desc, c.svm_support)
        if c.palette_head == "learned":
            self.palette_decoder = PaletteDecoder(
                memory_dim=c.channels[-1], cond_dim=2 + n_desc, n_colours=c.n_colours,
                d_model=c.decoder_dim, n_layers=c.decoder_layers, noise_dim=c.noise_dim,
            )
        elif c.palette_head != "v0":
            raise ValueError(f"unknown palette_head {c.palette_head!r}")
        #: seed of the palette latent: 0 = the default palette; others = alternatives
        self.palette_seed = 0

    def _fit_length(self, waves: torch.Tensor) -> torch.Tensor:
        n = self.config.window_samples
        if waves.shape[1] > n:
            return waves[:, :n]
        if waves.shape[1] < n:
            return nn.functional.pad(waves, (0, n - waves.shape[1]))
        return waves

    def encode(self, waves: torch.Tensor) -> dict[str, torch.Tensor]:
        """Waveforms -> emotion and the decoder's inputs (no palette)."""
        waves = self._fit_length(waves.float())
        logmel, desc = self.frontend(waves)
        return self.encode_features(logmel, desc)

    def encode_features(self, logmel: torch.Tensor, desc: torch.Tensor) -> dict[str, torch.Tensor]:
        """Front-end outputs (log-mel (B, M, T), descriptors (B, D)) -> emotion + decoder inputs.
        Training runs from cached front-end features through this same path."""
        emb, tokens = self.encoder(logmel)
        desc_n = self.descriptor_norm(desc)
        cnn_logits = self.va_head(torch.cat([emb, desc_n], dim=1))
        svm_logits = self.descriptor_svm(desc)
        if self.descriptor_svm.fitted:
            logits = (self.config.cnn_logit_weight * cnn_logits
                      + self.config.svm_logit_weight * svm_logits)
        else:
            logits = cnn_logits
        va = torch.tanh(0.5 * logits)  # == 2·sigmoid(logit) − 1
        return {"valence_arousal": va, "va_logits": logits, "cnn_logits": cnn_logits,
                "svm_logits": svm_logits,
                "descriptors": desc,
                "descriptors_norm": desc_n, "tokens": tokens}

    def decode_palette(
        self, enc: dict[str, torch.Tensor], noise: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Palette (B, K, 3) CIELAB and weights (B, K) from :meth:`encode`'s output."""
        va = enc["valence_arousal"].detach()
        if self.config.palette_head == "v0":
            return palette_from_descriptors(va, enc["descriptors"], self.config.n_colours)
        if noise is None:
            noise = seeded_noise(va.shape[0], self.config.noise_dim, self.palette_seed,
                                 va.device, va.dtype)
        cond = torch.cat([va, enc["descriptors_norm"].detach()], dim=1)
        return self.palette_decoder(enc["tokens"].detach(), cond, noise)

    def forward(self, waves: torch.Tensor) -> dict[str, torch.Tensor]:
        return forward_outputs(self, waves)


def forward_outputs(model: nn.Module, waves: torch.Tensor) -> dict[str, torch.Tensor]:
    """The models' common forward: ``model.encode`` then ``model.decode_palette``.

    Returns
    -------
    dict with ``valence_arousal`` (B, 2) in [-1, 1], ``va_logits`` (B, 2), ``palette_lab``
    (B, K, 3) CIELAB D65, ``weights`` (B, K) summing to 1, ``descriptors`` (B, D)
    """
    enc = model.encode(waves)
    palette_lab, weights = model.decode_palette(enc)
    return {"valence_arousal": enc["valence_arousal"], "va_logits": enc["va_logits"],
            "palette_lab": palette_lab, "weights": weights, "descriptors": enc["descriptors"]}
