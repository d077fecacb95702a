"""PyTorch port of the musicnn music auto-tagger.

musicnn (Pons & Serra, "musicnn: pre-trained convolutional neural networks for
music audio tagging", ISMIR 2019 late-breaking demo; PyPI ``musicnn`` 0.1.0,
ISC licence, see ``LICENSE.musicnn``) is a musically motivated CNN trained on
3-s log-mel patches. This module re-implements the ``MSD_musicnn`` /
``MTT_musicnn`` architecture (``musicnn/models.py::build_musicnn``) and the
extractor's pre-processing (``musicnn/extractor.py::batch_data``) in torch.
Weights are produced by ``convert_musicnn.py`` from the checkpoints in the
wheel.

Pipeline (all shapes for one clip; ``T`` frames, ``P`` patches)
-----------------------------------------------------------------
1. Front end: 16 kHz mono waveform -> |STFT|^2 (512-pt periodic Hann, hop
   256, centred with reflect padding as librosa <= 0.9) -> 96-band Slaney mel
   (``librosa.filters.mel(sr=16000, n_fft=512, n_mels=96)``, htk=False,
   norm='slaney') -> ``log10(1 + 10000 * mel)``, shape ``(T, 96)``,
   ``T = 1 + N // 256``. The original casts the mel power to float16 first
   (``np.log10(10000 * mel.astype(np.float16) + 1)``). Under the numpy < 2
   the wheel was written for, ``10000 * x`` is promoted to float32, so that
   only rounds the mel to float16 (11 significant bits); under numpy >= 2
   (NEP 50) the product stays float16 and overflows to inf for mel power
   > 6.55, i.e. on ordinary loud music. Here everything is float32 unless
   ``fp16_compat=True``, which emulates the numpy < 2 behaviour.
2. Patching: the log-mel of the whole clip is cut into non-overlapping
   187-frame (~3 s) patches, the last incomplete one dropped, exactly as the
   extractor does with ``input_length=3, input_overlap=False``.
3. Network per patch ``(187, 96)``: input batch norm; timbral convs 7x38 and
   7x67 (204 filters each, time-padded by 3, max over frequency) and temporal
   convs 128x1, 64x1, 32x1 (51 filters each, TF 'same' padding, max over
   frequency) -> 561 channels; mid end: three 7-tap 1-D convs with 64 filters
   (ReLU then BN; the 2nd and 3rd residual), densely concatenated with the
   front end -> 753 channels; back end: max and mean over time (interleaved
   per channel like TF's flatten of a ``(753, 2)`` tensor), BN, dense 200 +
   ReLU + BN (the "penultimate" features), dense 50 -> sigmoid tags.
   All batch norms are in inference mode with TF's epsilon 1e-3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "SR", "N_FFT", "HOP", "N_MELS", "PATCH_FRAMES", "PATCH_BLOCK", "MSD_LABELS", "MTT_LABELS",
    "mel_filterbank", "patches", "patch_sample_spans", "MusicNN",
]

SR = 16000
"""Sample rate (Hz) the models expect."""
N_FFT = 512
"""FFT size (samples)."""
HOP = 256
"""STFT hop (samples), i.e. 16 ms."""
N_MELS = 96
"""Number of mel bands."""
PATCH_FRAMES = 187
"""Frames per patch: ``librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1``."""
PATCH_BLOCK = 16
"""Patches per network call in :meth:`MusicNN.forward` (a multiple of 16: see there)."""
BN_EPS = 1e-3
"""Epsilon of ``tf.compat.v1.layers.batch_normalization``."""
DEAD_FILTER_ABS = 1e-5
"""A front-end filter whose weights are all at most this in magnitude is *dead*: training
(weight decay) drove it to zero, and its output is its bias. The shipped MSD weights: 497 of
the 561 front-end filters are dead (largest weight ≤ 2.2e-7), the live ones' largest weight
is ≥ 9.4e-4; eval mode skips the dead ones' convolutions (about 5× less musicnn work)."""

MTT_LABELS = [
    'guitar', 'classical', 'slow', 'techno', 'strings', 'drums', 'electronic', 'rock', 'fast',
    'piano', 'ambient', 'beat', 'violin', 'vocal', 'synth', 'female', 'indian', 'opera', 'male',
    'singing', 'vocals', 'no vocals', 'harpsichord', 'loud', 'quiet', 'flute', 'woman',
    'male vocal', 'no vocal', 'pop', 'soft', 'sitar', 'solo', 'man', 'classic', 'choir', 'voice',
    'new age', 'dance', 'male voice', 'female vocal', 'beats', 'harp', 'cello', 'no voice',
    'weird', 'country', 'metal', 'female voice', 'choral']
"""Tag names of the MagnaTagATune model (``MTT_musicnn``), in output order."""

MSD_LABELS = [
    'rock', 'pop', 'alternative', 'indie', 'electronic', 'female vocalists', 'dance', '00s',
    'alternative rock', 'jazz', 'beautiful', 'metal', 'chillout', 'male vocalists',
    'classic rock', 'soul', 'indie rock', 'Mellow', 'electronica', '80s', 'folk', '90s', 'chill',
    'instrumental', 'punk', 'oldies', 'blues', 'hard rock', 'ambient', 'acoustic',
    'experimental', 'female vocalist', 'guitar', 'Hip-Hop', '70s', 'party', 'country',
    'easy listening', 'sexy', 'catchy', 'funk', 'electro', 'heavy metal', 'Progressive rock',
    '60s', 'rnb', 'indie pop', 'sad', 'House', 'happy']
"""Tag names of the Million Song Dataset model (``MSD_musicnn``), in output order."""


# --------------------------------------------------------------------------
# Front end helpers
# --------------------------------------------------------------------------

def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney mel scale (linear below 1 kHz, logarithmic above)."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz, min_log_mel = 200.0 / 3, 1000.0, 15.0
    logstep = np.log(6.4) / 27.0
    mels = f / f_sp
    log_t = f >= min_log_hz
    mels[log_t] = min_log_mel + np.log(f[log_t] / min_log_hz) / logstep
    return mels


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hz_to_mel`."""
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz, min_log_mel = 200.0 / 3, 1000.0, 15.0
    logstep = np.log(6.4) / 27.0
    freqs = f_sp * m
    log_t = m >= min_log_mel
    freqs[log_t] = min_log_hz * np.exp(logstep * (m[log_t] - min_log_mel))
    return freqs


def mel_filterbank(sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Slaney-style mel filterbank, identical to ``librosa.filters.mel``.

    Reproduces ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)``
    with its defaults (fmin=0, fmax=sr/2, htk=False, norm='slaney' -- called
    ``norm=1`` in librosa 0.7, same result), including its float32 rounding,
    so that the port needs no librosa at run time.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT size in samples.
    n_mels : int
        Number of mel bands.

    Returns
    -------
    numpy.ndarray
        ``(n_mels, 1 + n_fft // 2)`` float32 weights mapping a power
        spectrum to mel band energies.
    """
    fftfreqs = np.linspace(0, float(sr) / 2, int(1 + n_fft // 2), endpoint=True)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0],
                                   _hz_to_mel(np.array([sr / 2.0]))[0], n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, int(1 + n_fft // 2)), dtype=np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights


def patches(logmel: torch.Tensor, n_frames: int = PATCH_FRAMES,
            hop_frames: int | None = None) -> torch.Tensor:
    """Cut log-mel spectrograms into fixed-length patches.

    Mirrors ``musicnn.extractor.batch_data``: the spectrogram of the *whole*
    clip is computed first and then cut into ``n_frames`` windows starting at
    frames ``0, hop, 2*hop, ...``; an incomplete last window is dropped.
    With the default ``hop_frames = n_frames`` the patches do not overlap
    (the extractor's default ``input_overlap=False``), each covering 187
    frames = 47,872 samples (2.992 s). Unlike the extractor (which fails on
    clips shorter than one patch), a clip with fewer than ``n_frames``
    frames is repeat-padded to one patch, as musicnn's training did
    (``pad_short: repeat-pad`` in its config.json).

    Parameters
    ----------
    logmel : torch.Tensor
        ``(B, T, n_mels)`` log-mel spectrograms (frames x bands).
    n_frames : int, optional
        Patch length in frames (default 187, i.e. 3 s).
    hop_frames : int, optional
        Patch hop in frames (default ``n_frames``: no overlap).

    Returns
    -------
    torch.Tensor
        ``(B, P, n_frames, n_mels)`` with ``P = (T - n_frames) // hop + 1``
        (a view when ``T >= n_frames``).
    """
    hop_frames = n_frames if hop_frames is None else hop_frames
    t = logmel.shape[1]
    if t < n_frames:
        reps = -(-n_frames // t)
        logmel = logmel.repeat(1, reps, 1)[:, :n_frames]
    return logmel.unfold(1, n_frames, hop_frames).transpose(-1, -2)


def patch_sample_spans(n_samples: int, n_frames: int = PATCH_FRAMES,
                       hop_frames: int | None = None) -> np.ndarray:
    """Waveform span covered by each patch of :func:`patches`.

    Parameters
    ----------
    n_samples : int
        Length of the 16 kHz waveform in samples.
    n_frames, hop_frames : int, optional
        As in :func:`patches`.

    Returns
    -------
    numpy.ndarray
        ``(P, 2)`` int array of ``[start, stop)`` sample indices: the frame
        centres of the patch widened by half an FFT window (clipped to the
        signal), i.e. the samples that influence it.
    """
    hop_frames = n_frames if hop_frames is None else hop_frames
    t = 1 + n_samples // HOP
    p = max(1, (t - n_frames) // hop_frames + 1)
    first = np.arange(p) * hop_frames
    start = np.maximum(first * HOP - N_FFT // 2, 0)
    stop = np.minimum((first + n_frames - 1) * HOP + N_FFT // 2, n_samples)
    return np.stack([start, stop], axis=1)


# --------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------

class _ConvBlock(nn.Module):
    """Conv2d -> ReLU -> BatchNorm -> max over the frequency axis.

    ``timbral_block`` / ``tempo_block`` of the original. Time padding is done
    explicitly: ``pad_time = (top, bottom)`` frames of zeros.
    """

    def __init__(self, out_channels: int, kernel: tuple[int, int], pad_time: tuple[int, int]):
        super().__init__()
        self.pad_time = pad_time
        self.conv = nn.Conv2d(1, out_channels, kernel)
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(M, 1, T, F)`` -> ``(M, C, T)``.

        In eval mode the batch norm is a fixed per-channel affine map ``s·y + t``, and ReLU
        is monotonic, so the max over frequency is taken first, on the conv output:
        ``max_f BN(ReLU(c)) = s·ReLU(max_f c) + t`` for ``s ≥ 0`` (``min_f`` for ``s < 0``).
        Same result to float rounding (tested against the literal order), about 1.2× faster
        on a CPU: ReLU and BN then touch a tensor ~F times smaller. Dead filters
        (:data:`DEAD_FILTER_ABS`) are not convolved: their output is a constant."""
        x = F.pad(x, (0, 0, *self.pad_time))
        if self.training:
            return self.bn(F.relu(self.conv(x))).amax(dim=3)
        s, t = self.bn_affine()
        weight, bias = self.conv.weight, self.conv.bias
        alive = self.live_filters()
        if bool(alive.all()):
            return self._max_relu_bn(self.conv(x), s, t)
        # dead filters (DEAD_FILTER_ABS): their conv output is their bias at every (time,
        # frequency), so their block output is the constant ReLU(bias)·s + t
        out = (F.relu(bias) * s + t)[None, :, None].expand(x.shape[0], -1, x.shape[2]
                                                            - weight.shape[2] + 1).clone()
        if bool(alive.any()):
            c = F.conv2d(x, weight[alive], bias[alive])
            out[:, alive] = self._max_relu_bn(c, s[alive], t[alive])
        return out

    def bn_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The eval batch norm as ``s·y + t``: per-channel ``(s, t)``, each ``(C,)``."""
        bn = self.bn
        s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        return s, bn.bias - bn.running_mean * s

    def live_filters(self) -> torch.Tensor:
        """``(C,)`` bool: the filters that are not dead (:data:`DEAD_FILTER_ABS`)."""
        return self.conv.weight.flatten(1).abs().amax(dim=1) > DEAD_FILTER_ABS

    @staticmethod
    def _max_relu_bn(c: torch.Tensor, s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``(M, C, T, F)`` conv output -> ``(M, C, T)``: max (min where ``s < 0``) over
        frequency, ReLU, the eval batch norm ``s·y + t``."""
        ext = c.amax(dim=3)
        neg = s < 0
        if bool(neg.any()):
            ext = torch.where(neg[None, :, None], c.amin(dim=3), ext)
        return F.relu(ext) * s[None, :, None] + t[None, :, None]


class _FrontEnd(nn.Module):
    """Musically motivated front end: timbral (spectral) and temporal convs."""

    def __init__(self, n_mels: int = N_MELS, num_filt: float = 1.6):
        super().__init__()
        self.input_bn = nn.BatchNorm2d(1, eps=BN_EPS)
        n_timbral, n_temporal = int(num_filt * 128), int(num_filt * 32)
        # 'valid' convs on input zero-padded by 3 frames in time
        self.timbral = nn.ModuleList([
            _ConvBlock(n_timbral, (7, int(0.4 * n_mels)), (3, 3)),
            _ConvBlock(n_timbral, (7, int(0.7 * n_mels)), (3, 3)),
        ])
        # TF 'same' padding: floor((k-1)/2) before, the rest after
        self.temporal = nn.ModuleList([
            _ConvBlock(n_temporal, (k, 1), ((k - 1) // 2, k - 1 - (k - 1) // 2))
            for k in (128, 64, 32)
        ])
        self.out_channels = 2 * n_timbral + 3 * n_temporal

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(M, T, F)`` log-mel -> timbral ``(M, 408, T)``, temporal ``(M, 153, T)``."""
        x = self.input_bn(x.unsqueeze(1))
        timbral = torch.cat([b(x) for b in self.timbral], dim=1)
        temporal = torch.cat([b(x) for b in self.temporal], dim=1)
        return timbral, temporal


class _MidEnd(nn.Module):
    """Three 7-tap convs over time with residual and dense connections.

    The original uses conv2d kernels spanning the whole feature axis, i.e.
    1-D convolutions over time with the features as channels.
    """

    def __init__(self, in_channels: int = 561, num_filt: int = 64):
        super().__init__()
        self.convs = nn.ModuleList([
            nn.Conv1d(in_channels, num_filt, 7),
            nn.Conv1d(num_filt, num_filt, 7),
            nn.Conv1d(num_filt, num_filt, 7),
        ])
        self.bns = nn.ModuleList([nn.BatchNorm1d(num_filt, eps=BN_EPS) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``(M, 561, T)`` -> ``[x, cnn1, cnn2, cnn3]``, the last three ``(M, 64, T)``."""
        outs = [x]
        h = x
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns, strict=True)):
            y = bn(F.relu(conv(F.pad(h, (3, 3)))))
            h = y if i == 0 else y + h
            outs.append(h)
        return outs


class _BackEnd(nn.Module):
    """Global max+mean pooling over time, then two dense layers."""

    def __init__(self, in_channels: int = 753, units: int = 200, n_classes: int = 50):
        super().__init__()
        self.pool_bn = nn.BatchNorm1d(2 * in_channels, eps=BN_EPS)
        self.dense = nn.Linear(2 * in_channels, units)
        self.dense_bn = nn.BatchNorm1d(units, eps=BN_EPS)
        self.output = nn.Linear(units, n_classes)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``(M, 753, T)`` -> dict of logits, penultimate, mean_pool, max_pool."""
        max_pool = x.amax(dim=2)
        mean_pool = x.mean(dim=2)
        # TF flattens a (753, 2) [max, mean] tensor: features interleave.
        pooled = torch.stack([max_pool, mean_pool], dim=2).flatten(1)
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))
        return {"logits": self.output(penultimate), "penultimate": penultimate,
                "mean_pool": mean_pool, "max_pool": max_pool}


class MusicNN(nn.Module):
    """musicnn tagger (``MSD_musicnn`` / ``MTT_musicnn`` architecture).

    Parameters
    ----------
    n_classes : int, optional
        Number of output tags (50 for both pretrained models).
    labels : list of str, optional
        Tag names matching the outputs (:data:`MSD_LABELS`,
        :data:`MTT_LABELS`); stored as ``self.labels``.
    num_filt_midend : int, optional
        Mid-end filters (64 for both pretrained models).
    num_units_backend : int, optional
        Penultimate units (200 for both pretrained models).
    pad_mode : str, optional
        STFT edge padding. ``'reflect'`` (default) is what librosa <= 0.9
        used when musicnn was trained and released; librosa >= 0.10 defaults
        to ``'constant'`` (zeros), which changes the first and last frame.
    fp16_compat : bool, optional
        Round the mel power to float16 before the float32 log compression,
        reproducing the original extractor's
        ``np.log10(10000 * mel.astype(float16) + 1)`` as evaluated under
        numpy < 2 (no overflow). Only for comparing with the original;
        default False keeps full float32 precision.

    Notes
    -----
    Call ``.eval()`` (done by :meth:`from_pretrained`): the batch norms must
    use their stored statistics.
    """

    def __init__(self, n_classes: int = 50, labels: list[str] | None = None,
                 num_filt_midend: int = 64, num_units_backend: int = 200,
                 pad_mode: str = "reflect", fp16_compat: bool = False):
        super().__init__()
        self.labels = list(labels) if labels is not None else None
        self.pad_mode = pad_mode
        self.fp16_compat = fp16_compat
        self.frontend = _FrontEnd(N_MELS)
        self.midend = _MidEnd(self.frontend.out_channels, num_filt_midend)
        self.backend = _BackEnd(self.frontend.out_channels + 3 * num_filt_midend,
                                num_units_backend, n_classes)
        self.register_buffer("mel_fb", torch.from_numpy(mel_filterbank()), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)

    @classmethod
    def from_pretrained(cls, path: str | Path, dataset: str | None = None, **kwargs) -> MusicNN:
        """Build a model in eval mode from a converted state dict.

        Parameters
        ----------
        path : str or Path
            ``musicnn_msd.pt`` or ``musicnn_mtt.pt`` written by
            ``convert_musicnn.py``.
        dataset : {'msd', 'mtt'}, optional
            Selects the tag names; guessed from the file name if omitted.
        **kwargs
            Passed to the constructor (``pad_mode``, ``fp16_compat``).

        Returns
        -------
        MusicNN
        """
        path = Path(path)
        dataset = (dataset or ("mtt" if "mtt" in path.name.lower() else "msd")).lower()
        labels = {"msd": MSD_LABELS, "mtt": MTT_LABELS}[dataset]
        model = cls(n_classes=len(labels), labels=labels, **kwargs)
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model.eval()

    def logmel(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log-compressed mel spectrogram as fed to the network.

        Parameters
        ----------
        waveform : torch.Tensor
            ``(B, N)`` or ``(N,)`` float32 mono audio at 16 kHz, nominally
            in [-1, 1]. ``N`` must exceed 256 (reflect padding).

        Returns
        -------
        torch.Tensor
            ``(B, T, 96)`` float32 ``log10(1 + 10000 * mel_power)``,
            ``T = 1 + N // 256`` frames of 16 ms.
        """
        if waveform.dim() == 1:
            waveform = waveform.unsqueeze(0)
        spec = torch.stft(waveform.float(), N_FFT, HOP, window=self.window, center=True,
                          pad_mode=self.pad_mode, return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (B, 257, T)
        mel = torch.matmul(self.mel_fb, power)  # (B, 96, T)
        if self.fp16_compat:
            mel = mel.half().float()
        logmel = torch.log10(10000 * mel + 1)
        return logmel.transpose(1, 2)

    def forward_patches(self, x: torch.Tensor,
                        frame_features: bool = False) -> dict[str, torch.Tensor]:
        """Run the network on a batch of log-mel patches.

        Parameters
        ----------
        x : torch.Tensor
            ``(M, T, 96)`` log-mel patches (``T = 187`` for the pretrained
            models, though any length > 0 works).
        frame_features : bool, optional
            Also return the frame-level maps ``timbral`` ``(M, T, 408)``,
            ``temporal`` ``(M, T, 153)``, ``cnn1``/``cnn2``/``cnn3``
            ``(M, T, 64)`` (time-major like the original's features).

        Returns
        -------
        dict of str to torch.Tensor
            ``tags`` ``(M, n_classes)`` sigmoid probabilities, ``logits``
            ``(M, n_classes)``, ``penultimate`` ``(M, 200)`` (after ReLU and
            batch norm, the original's ``features['penultimate']``),
            ``mean_pool`` and ``max_pool`` ``(M, 753)`` (mid-end features
            pooled over time).
        """
        timbral, temporal = self.frontend(x)
        mid = self.midend(torch.cat([timbral, temporal], dim=1))
        out = self.backend(torch.cat(mid, dim=1))
        out["tags"] = torch.sigmoid(out["logits"])
        if frame_features:
            out.update(timbral=timbral.transpose(1, 2), temporal=temporal.transpose(1, 2),
                       cnn1=mid[1].transpose(1, 2), cnn2=mid[2].transpose(1, 2),
                       cnn3=mid[3].transpose(1, 2))
        return out

    def forward(self, waveform: torch.Tensor,
                hop_frames: int | None = None) -> dict[str, torch.Tensor]:
        """Tag a batch of equal-length clips patch by patch.

        The patches go through the network :data:`PATCH_BLOCK` at a time: the activations of
        a block stay in the CPU's caches (one thread: musicnn 0.035 CPU-s per 10-s window in
        blocks of 16 patches against 0.042 for a batch of 16 windows' 48 patches at once; two
        threads 0.027 against 0.029), with bit-identical outputs (a row's result does not
        depend on how many rows, a multiple of 16, share its call).

        Parameters
        ----------
        waveform : torch.Tensor
            ``(B, N)`` (or ``(N,)``) float32 mono audio at 16 kHz.
        hop_frames : int, optional
            Patch hop in frames; default 187 (non-overlapping 3-s patches,
            the extractor's default).

        Returns
        -------
        dict of str to torch.Tensor
            ``tags`` ``(B, P, n_classes)`` probabilities per patch (the
            taggram), ``logits`` ``(B, P, n_classes)``, ``penultimate``
            ``(B, P, 200)``, ``mean_pool`` / ``max_pool`` ``(B, P, 753)``,
            with ``P = (T - 187) // hop + 1`` patches (at least 1).
        """
        x = patches(self.logmel(waveform), PATCH_FRAMES, hop_frames)
        b, p = x.shape[:2]
        out = self.forward_blocks(x.reshape(b * p, *x.shape[2:]))
        return {k: v.reshape(b, p, *v.shape[1:]) for k, v in out.items()}

    def forward_blocks(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """:meth:`forward_patches` on ``(M, T, 96)`` log-mel patches, :data:`PATCH_BLOCK` at a
        time (see :meth:`forward`); the same ``(M, ...)`` outputs."""
        blocks = [self.forward_patches(x[i:i + PATCH_BLOCK])
                  for i in range(0, len(x), PATCH_BLOCK)]
        if len(blocks) == 1:
            return blocks[0]
        return {k: torch.cat([blk[k] for blk in blocks]) for k in blocks[0]}
