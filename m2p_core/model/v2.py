"""Music2Palette v2: the v1 network + the frozen musicnn (MSD) tagger + a calibrated emotion head.

The v1 network (:class:`~m2p_core.model.network.Music2Palette`, its shipped weights) still
computes the front end, the hand-made descriptors, its own valence/arousal logits (CNN and
descriptor SVMs) and the colour decoder. Beside it the musicnn tagger
(:class:`~m2p_core.model.musicnn.MusicNN`, MSD weights, frozen) tags the window's three
non-overlapping 3-s patches. The emotion head is, per axis (valence sign, arousal sign), a
logistic regression on standardised stacked per-window features (see :data:`FEATURE_BLOCKS`:
musicnn's penultimate layer and tag probabilities averaged over the window's patches, optionally
its mid-end pooled maps, and v1's CNN and SVM logits), followed by a Platt calibration. (Or,
``HeadConfig.kind="quadrants"``, one 4-class logistic regression whose quadrant probabilities
are summed per axis before the calibration: P(V>0) = P(Q1) + P(Q4).) Both are fitted with
scikit-learn (:mod:`m2p_core.training.head`): the regularisation by an inner artist-grouped
cross-validation, the calibration on the inner out-of-fold predictions. In torch the scaler
folds into one ``Linear`` layer, followed by the per-axis calibration:

    z = w · (x − μ) / σ + b  =  W′ x + b′,    P(axis > 0) = ε + (1 − 2ε)·sigmoid(a · z + c)

and ``valence_arousal = 2·P − 1``: a calibrated, continuous expected sign. A lapse rate ε = 0.01
(:func:`with_lapse`) keeps P within [0.01, 0.99], so |valence|, |arousal| ≤ 0.98: a linear
model extrapolates to extreme logits far from its training data (white noise, test tones), and
no 10-s window earns more certainty than the clip labels can give. The colour decoder receives
this new valence/arousal.

forward(waves) has v1's contract: (B, N) mono windows at 16 kHz -> dict ``valence_arousal``,
``va_logits``, ``palette_lab``, ``weights``, ``descriptors``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from m2p_core.model.frontend import DESCRIPTOR_NAMES
from m2p_core.model.musicnn import MSD_LABELS, MusicNN
from m2p_core.model.network import ModelConfig, Music2Palette, forward_outputs

#: per-window feature blocks the head may stack, and their widths. musicnn blocks are averaged
#: over the window's patches; ``descriptors`` are v1's 50 hand-made descriptors (key/mode,
#: tempo, loudness, timbre; no learned weights); ``cnn_logits``/``svm_logits`` are v1's two
#: learned emotion parts.
FEATURE_BLOCKS: dict[str, int] = {
    "penultimate": 200,
    "tags": 50,
    "mean_pool": 753,
    "max_pool": 753,
    "descriptors": len(DESCRIPTOR_NAMES),
    "cnn_logits": 2,
    "svm_logits": 2,
}
MUSICNN_BLOCKS = ("penultimate", "tags", "mean_pool", "max_pool")
V1_BLOCKS = ("descriptors", "cnn_logits", "svm_logits")


#: head kinds: "axes" = one logistic regression per axis; "quadrants" = one 4-class
#: (multinomial) logistic regression whose quadrant probabilities are summed per axis
HEAD_KINDS = ("axes", "quadrants")


@dataclass(frozen=True)
class HeadConfig:
    """Which feature blocks the emotion head stacks (in order) and the head's kind."""

    # the shipped head (docs/MODEL_CARD.md "v2"): musicnn + v1's descriptors, 4-class
    features: tuple[str, ...] = ("penultimate", "tags", "descriptors")
    kind: str = "quadrants"
    #: lapse rate ε: P = ε + (1 − 2ε)·sigmoid(logit), so |valence|, |arousal| ≤ 1 − 2ε
    lapse: float = 0.01

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURE_BLOCKS]
        if unknown or not self.features:
            raise ValueError(f"unknown or no head features: {unknown or self.features}")
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"unknown head kind {self.kind!r}")
        if not 0.0 <= self.lapse < 0.5:
            raise ValueError(f"lapse must be in [0, 0.5), got {self.lapse}")

    @property
    def n_features(self) -> int:
        return sum(FEATURE_BLOCKS[f] for f in self.features)

    @property
    def n_outputs(self) -> int:
        return 2 if self.kind == "axes" else 4

    def to_dict(self) -> dict:
        return {"features": list(self.features), "kind": self.kind, "lapse": self.lapse}

    @classmethod
    def from_dict(cls, d: dict) -> HeadConfig:
        return cls(features=tuple(str(f) for f in d["features"]), kind=str(d.get("kind", "axes")),
                   lapse=float(d.get("lapse", 0.0)))


def fold_scaler(mean: torch.Tensor, scale: torch.Tensor, coef: torch.Tensor,
                intercept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold a standard scaler (F,) into a linear map ``coef (K, F)``, ``intercept (K,)`` on
    standardised features: returns weight (K, F) and bias (K,) of
    ``coef·(x − mean)/scale + intercept``."""
    mean, scale, coef, intercept = (torch.as_tensor(t, dtype=torch.float64)
                                    for t in (mean, scale, coef, intercept))
    w = coef / scale
    return w.float(), (intercept - w @ mean).float()


def quadrant_axis_logits(q: torch.Tensor) -> torch.Tensor:
    """Quadrant logits (B, 4) in Q1..Q4 order -> per-axis logits (B, 2):
    ``log P(V>0)/P(V<0)`` with P(V>0) = P(Q1) + P(Q4), and likewise arousal (Q1 + Q2)."""
    lse = torch.logsumexp
    valence = lse(q[:, [0, 3]], 1) - lse(q[:, [1, 2]], 1)
    arousal = lse(q[:, [0, 1]], 1) - lse(q[:, [2, 3]], 1)
    return torch.stack([valence, arousal], dim=1)


def with_lapse(logits: torch.Tensor, lapse: float) -> torch.Tensor:
    """Logits of ``P = ε + (1 − 2ε)·sigmoid(logits)``: a lapse rate ε bounds the probability to
    [ε, 1 − ε] (psychometrics' lapse; here: a clip's mood label can disagree with anything a
    10-s window holds), so ``2P − 1 = (1 − 2ε)·tanh(logits / 2)`` stays within ±(1 − 2ε)."""
    if lapse <= 0:
        return logits
    p = lapse + (1 - 2 * lapse) * torch.sigmoid(logits)
    return torch.log(p) - torch.log1p(-p)


def fit_length(waves: torch.Tensor, n: int) -> torch.Tensor:
    """Crop or zero-pad (B, N) windows to ``n`` samples (as v1 does inside its forward)."""
    if waves.shape[1] > n:
        return waves[:, :n]
    if waves.shape[1] < n:
        return nn.functional.pad(waves, (0, n - waves.shape[1]))
    return waves


class CalibratedEmotionHead(nn.Module):
    """Stacked window features (B, F) -> calibrated valence/arousal logits (B, 2).

    ``linear`` holds the regression with the feature scaler folded in: 2 outputs (one per axis)
    or 4 (quadrant logits, summed per axis by :func:`quadrant_axis_logits`). ``platt_a`` and
    ``platt_b`` (2,) are the per-axis Platt calibration: ``logit = a·z + b``."""

    def __init__(self, n_features: int, kind: str = "axes") -> None:
        super().__init__()
        self.kind = kind
        self.linear = nn.Linear(n_features, 2 if kind == "axes" else 4)
        self.register_buffer("platt_a", torch.ones(2))
        self.register_buffer("platt_b", torch.zeros(2))

    def set_parts(self, weight: torch.Tensor, bias: torch.Tensor, platt_a: torch.Tensor,
                  platt_b: torch.Tensor) -> None:
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(weight))
            self.linear.bias.copy_(torch.as_tensor(bias))
            self.platt_a.copy_(torch.as_tensor(platt_a))
            self.platt_b.copy_(torch.as_tensor(platt_b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x)
        if self.kind == "quadrants":
            z = quadrant_axis_logits(z)
        return self.platt_a * z + self.platt_b


class Music2PaletteV2(nn.Module):
    """v1 (front end, CNN, descriptors, SVMs, colour decoder) + frozen musicnn + calibrated
    emotion head; see the module docstring."""

    def __init__(self, config: ModelConfig | None = None,
                 head_config: HeadConfig | None = None) -> None:
        super().__init__()
        self.base = Music2Palette(config)
        if self.base.config.sample_rate != 16000:
            raise ValueError("musicnn needs 16-kHz input")
        self.musicnn = MusicNN(n_classes=len(MSD_LABELS), labels=MSD_LABELS)
        self.head_config = head_config or HeadConfig()
        self.head = CalibratedEmotionHead(self.head_config.n_features, self.head_config.kind)

    @classmethod
    def from_parts(cls, base: Music2Palette, musicnn: MusicNN,
                   head_config: HeadConfig | None = None) -> Music2PaletteV2:
        """A v2 model around a (loaded) v1 network and musicnn tagger; the head is unfitted."""
        model = cls(base.config, head_config)
        model.base.load_state_dict(base.state_dict())
        model.base.palette_seed = base.palette_seed
        model.musicnn.load_state_dict(musicnn.state_dict())
        return model.eval()

    @property
    def config(self) -> ModelConfig:
        """The v1 configuration (sample rate, window length, palette size)."""
        return self.base.config

    @property
    def palette_seed(self) -> int:
        return self.base.palette_seed

    @palette_seed.setter
    def palette_seed(self, seed: int) -> None:
        self.base.palette_seed = seed

    def window_features(self, waves: torch.Tensor,
                        blocks: tuple[str, ...] | None = None) -> tuple[dict, dict]:
        """(v1's encoder outputs, {block: (B, d)}) for fixed-length windows (B, N).

        ``blocks`` defaults to the head's features; training asks for all of
        :data:`FEATURE_BLOCKS`."""
        blocks = self.head_config.features if blocks is None else blocks
        waves = fit_length(waves.float(), self.config.window_samples)
        enc = self.base.encode(waves)
        feats = {}
        if any(b in MUSICNN_BLOCKS for b in blocks):
            out = self.musicnn(waves)  # (B, P, d) per 3-s patch
            for b in MUSICNN_BLOCKS:
                if b in blocks:
                    feats[b] = out[b].mean(1)
        for b in V1_BLOCKS:
            if b in blocks:
                feats[b] = enc[b]
        return enc, feats

    def encode(self, waves: torch.Tensor) -> dict[str, torch.Tensor]:
        """v1's :meth:`~Music2Palette.encode` with the calibrated emotion in place of v1's
        (v1's own logits stay available as ``v1_va_logits``)."""
        enc, feats = self.window_features(waves)
        x = torch.cat([feats[b] for b in self.head_config.features], dim=1)
        logits = with_lapse(self.head(x), self.head_config.lapse)
        enc = dict(enc)
        enc["v1_va_logits"] = enc["va_logits"]
        enc["va_logits"] = logits
        enc["valence_arousal"] = torch.tanh(0.5 * logits)  # == 2·P − 1
        return enc

    def decode_palette(self, enc: dict[str, torch.Tensor],
                       noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.base.decode_palette(enc, noise)

    def forward(self, waves: torch.Tensor) -> dict[str, torch.Tensor]:
        return forward_outputs(self, waves)
