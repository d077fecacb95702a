"""Deterministic synthetic test signals for the musicnn golden test.

Numpy only, so that the same signals are produced in the TensorFlow venv that
records the golden outputs (``make_golden_musicnn.py``) and in the torch test
(``test_musicnn.py``). Signals are rounded to the 16-bit grid so that ulp-level
differences between numpy builds in ``sin``/``exp`` cannot change them; their
sha256 is stored with the golden outputs and checked by the test.

The peak levels are chosen so that the mel power of every band stays below
6.55, above which the original extractor's ``10000 * mel.astype(float16)``
overflows to inf when run under numpy >= 2.
"""

from __future__ import annotations

import hashlib

import numpy as np

SR = 16000
DURATION_S = 10.0
SIGNAL_NAMES = ("chords", "drums_bass", "sweep")


def _harmonic_tone(f0: float, t: np.ndarray, n_harm: int = 5) -> np.ndarray:
    return sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, n_harm + 1))


def _chords(t: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """I-vi-IV-V in C major, 2.5 s per chord, decaying envelope, noise floor."""
    roots = [261.63, 220.00, 174.61, 196.00]
    triads = [(0, 4, 7), (0, 3, 7), (0, 4, 7), (0, 4, 7)]
    y = np.zeros_like(t)
    seg = len(t) // 4
    for i, (root, triad) in enumerate(zip(roots, triads, strict=True)):
        tt = t[i * seg:(i + 1) * seg] - t[i * seg]
        env = np.exp(-1.2 * tt) * (1 - np.exp(-60 * tt))
        chord = sum(_harmonic_tone(root * 2 ** (s / 12), tt) for s in triad)
        chord += 0.5 * _harmonic_tone(root / 2, tt, 3)  # bass note
        y[i * seg:(i + 1) * seg] = env * chord
    return y + 0.02 * rng.standard_normal(len(t))


def _drums_bass(t: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """120 BPM kick / hi-hat / snare pattern over an eighth-note bass line."""
    y = np.zeros_like(t)
    beat = SR // 2  # 0.5 s
    for b in range(int(len(t) // beat)):
        s = b * beat
        tt = t[:beat]
        # kick: 55 Hz -> 40 Hz pitch drop, fast decay
        kick = np.sin(2 * np.pi * (40 * tt + 15 / 30 * (1 - np.exp(-30 * tt)))) * np.exp(-12 * tt)
        y[s:s + beat] += kick
        if b % 2 == 1:  # snare on beats 2 and 4
            y[s:s + beat] += 0.5 * rng.standard_normal(beat) * np.exp(-25 * tt)
        for h in (0, beat // 2):  # hi-hat eighths, first-differenced noise
            n = rng.standard_normal(2001)
            y[s + h:s + h + 2000] += 0.15 * np.diff(n) * np.exp(-80 * tt[:2000])
    notes = [55.0, 55.0, 65.41, 73.42, 55.0, 82.41, 73.42, 65.41]
    eighth = beat // 2
    for i in range(len(t) // eighth):
        f = notes[i % len(notes)]
        tt = t[:eighth]
        saw = 2 * ((f * tt) % 1.0) - 1
        y[i * eighth:(i + 1) * eighth] += 0.4 * saw * np.exp(-4 * tt)
    return y


def _sweep(t: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Exponential 100 Hz -> 4 kHz sweep with 6 Hz vibrato over pink-ish noise."""
    f0, f1 = 100.0, 4000.0
    k = np.log(f1 / f0) / DURATION_S
    phase = 2 * np.pi * f0 * (np.exp(k * t) - 1) / k
    phase += 0.3 * np.sin(2 * np.pi * 6 * t)
    noise = np.cumsum(rng.standard_normal(len(t)))
    noise -= np.convolve(noise, np.ones(401) / 401, mode="same")  # remove drift
    noise /= np.abs(noise).max()
    return np.sin(phase) + 0.3 * np.sin(2 * phase) + 0.3 * noise


_PEAK = {"chords": 0.2, "drums_bass": 0.2, "sweep": 0.1}


def make_signal(name: str) -> np.ndarray:
    """Generate one 10-s, 16 kHz test signal.

    Parameters
    ----------
    name : str
        One of :data:`SIGNAL_NAMES`.

    Returns
    -------
    numpy.ndarray
        ``(160000,)`` float32 waveform, peak-normalised to a fixed quiet
        level and rounded to multiples of 1/32768.
    """
    t = np.arange(int(SR * DURATION_S), dtype=np.float64) / SR
    rng = np.random.RandomState(SIGNAL_NAMES.index(name) + 1234)
    y = {"chords": _chords, "drums_bass": _drums_bass, "sweep": _sweep}[name](t, rng)
    y = _PEAK[name] * y / np.abs(y).max()
    return (np.round(y * 32768) / 32768).astype(np.float32)


def signal_sha256(y: np.ndarray) -> str:
    """sha256 of the float32 little-endian bytes of ``y``."""
    return hashlib.sha256(np.ascontiguousarray(y, dtype="<f4").tobytes()).hexdigest()
