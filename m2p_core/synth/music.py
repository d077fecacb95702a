"""Small synthetic music generator with controlled emotional cues.

The generator renders a chord progression in a major or minor key, a melody, a bass line and
optional percussion. Each :class:`MusicSpec` field maps to one cue from the music-emotion
literature (tempo, mode, register, loudness, articulation, timbre brightness, dissonance, rhythmic
density), so the clips serve as demo media, test fixtures, benchmark inputs and labelled
synthetic training data. Rendering is vectorised numpy: every voice is one phase-continuous
wavetable oscillator driven by a per-sample frequency track and a per-sample envelope.

Files are written by :mod:`m2p_core.synth.writers`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PRESETS", "MusicSpec", "splice", "synthesize_music"]


@dataclass(frozen=True)
class MusicSpec:
    """Musical cues for :func:`synthesize_music` (all 0..1 controls are clipped to that range)."""

    tempo_bpm: float = 110.0
    mode: str = "major"  # "major" | "minor"
    root_midi: int = 60  # register: tonic MIDI note of the melody octave
    loudness_dbfs: float = -14.0  # approximate RMS level of the output, dBFS
    articulation: float = 0.3  # 0 legato .. 1 staccato (note duty cycle)
    brightness: float = 0.5  # 0 pure/dark (sine-like) .. 1 bright (many harmonics)
    dissonance: float = 0.0  # 0..1: semitone/tritone clusters + tanh distortion
    rhythm_density: float = 0.5  # 0..1: melody notes per beat and percussion density
    seed: int = 0


PRESETS: dict[str, MusicSpec] = {
    # Q1 +V+A: fast, major, bright, loud, fairly detached, busy.
    "happy": MusicSpec(
        tempo_bpm=138.0, mode="major", root_midi=67, loudness_dbfs=-12.0, articulation=0.6,
        brightness=0.8, dissonance=0.0, rhythm_density=0.75,
    ),
    # Q2 -V+A: fast, minor, low-mid register, dissonant and distorted, loud, staccato.
    "angry": MusicSpec(
        tempo_bpm=156.0, mode="minor", root_midi=55, loudness_dbfs=-10.0, articulation=0.8,
        brightness=0.9, dissonance=0.85, rhythm_density=0.9,
    ),
    # Q3 -V-A: slow, minor, low, dark, soft, legato, sparse.
    "sad": MusicSpec(
        tempo_bpm=62.0, mode="minor", root_midi=50, loudness_dbfs=-24.0, articulation=0.05,
        brightness=0.12, dissonance=0.05, rhythm_density=0.15,
    ),
    # Q4 +V-A: slow, major, mid register, soft, legato, gentle timbre.
    "calm": MusicSpec(
        tempo_bpm=72.0, mode="major", root_midi=62, loudness_dbfs=-22.0, articulation=0.1,
        brightness=0.3, dissonance=0.0, rhythm_density=0.25,
    ),
    "neutral": MusicSpec(),
}

_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Chord roots as 0-based scale degrees, one chord per bar.
_PROGRESSIONS = {
    "major": (
        (0, 4, 5, 3), (0, 3, 4, 0), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 0, 4), (0, 1, 4, 0),
        (0, 5, 1, 4), (3, 4, 2, 5),
    ),
    "minor": (
        (0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (0, 5, 3, 4), (0, 2, 5, 4),
        (0, 3, 0, 4), (5, 6, 0, 0),
    ),
}
_TABLE_N = 2048  # wavetable length (power of two)
_BEATS_PER_BAR = 4


def _midi_hz(midi: np.ndarray) -> np.ndarray:
    return 440.0 * np.power(2.0, (np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def _degree_midi(root: int, scale: tuple[int, ...], degree: np.ndarray) -> np.ndarray:
    degree = np.asarray(degree, dtype=np.int64)
    return root + 12 * np.floor_divide(degree, 7) + np.asarray(scale)[np.mod(degree, 7)]


def _wavetable(brightness: float, f_ref_hz: float, f_max_hz: float, sample_rate: int) -> np.ndarray:
    """One period of a harmonic tone (float32, peak 1): more, stronger harmonics when bright.

    Harmonic amplitudes roll off as h**-p and through a 2-pole low-pass at ``cutoff`` Hz
    (referenced to the voice's typical pitch ``f_ref_hz``); harmonics above ~0.45·fs for the
    voice's highest pitch ``f_max_hz`` are dropped (no aliasing).
    """
    n_harm = 1 + int(round(brightness * 30))
    n_harm = max(1, min(n_harm, int(0.45 * sample_rate / max(f_max_hz, 1.0))))
    h = np.arange(1, n_harm + 1, dtype=np.float64)
    cutoff_hz = 400.0 * 2.0 ** (brightness * 4.5)
    amp = h ** -(2.6 - 1.9 * brightness) / np.sqrt(1.0 + (h * f_ref_hz / cutoff_hz) ** 4)
    phase = np.arange(_TABLE_N) / _TABLE_N
    table = np.sin(2.0 * np.pi * np.outer(phase, h)) @ amp
    return (table / np.max(np.abs(table))).astype(np.float32)


def _oscillator(freq_per_sample: np.ndarray, table: np.ndarray, sample_rate: int,
                phase0: float) -> np.ndarray:
    """Phase-continuous wavetable oscillator; ``freq_per_sample`` in Hz (float64)."""
    phase = np.cumsum(freq_per_sample * (_TABLE_N / sample_rate))
    idx = (phase + phase0 * _TABLE_N).astype(np.int64) & (_TABLE_N - 1)
    return table[idx]


def _envelope(onsets: np.ndarray, vel: np.ndarray, n: int, sample_rate: int, duty: float,
              decay_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample envelope (float32) of contiguous notes starting at ``onsets`` (samples).

    Each note: 4 ms attack, exponential decay with time constant ``decay_s``, held for
    ``duty`` of its length then released over ~30 ms, with a 4 ms fade before the next onset
    (no clicks). Returns (envelope, note index per sample).
    """
    lengths = np.diff(np.append(onsets, n))
    note_idx = np.repeat(np.arange(len(onsets)), lengths)
    t = (np.arange(n) - onsets[note_idx]).astype(np.float32)
    length = lengths[note_idx].astype(np.float32)
    attack = 0.004 * sample_rate
    fade = 0.004 * sample_rate
    release = 0.03 * sample_rate
    hold = duty * length
    past = np.maximum(t - hold, 0.0)
    expo = t * np.float32(-1.0 / (decay_s * sample_rate))
    expo -= past * np.float32(1.0 / release)
    env = np.exp(expo)
    env *= np.minimum(t * (1.0 / attack), 1.0)
    env *= np.clip((length - t) * (1.0 / fade), 0.0, 1.0)
    env *= vel.astype(np.float32)[note_idx]
    return env, note_idx


def _drum_kernels(rng: np.random.Generator, sample_rate: int,
                  brightness: float) -> dict[str, np.ndarray]:
    sr = sample_rate
    t = np.arange(int(0.35 * sr)) / sr
    sweep = 2.0 * np.pi * np.cumsum(50.0 + 90.0 * np.exp(-t / 0.03)) / sr
    kick = np.sin(sweep) * np.exp(-t / 0.12)
    ts = t[: int(0.2 * sr)]
    noise = rng.standard_normal(len(ts))
    snare = 0.6 * noise * np.exp(-ts / 0.05) + 0.5 * np.sin(2 * np.pi * 185.0 * ts) * np.exp(
        -ts / 0.04)
    th = t[: int(0.06 * sr)]
    hat_noise = np.diff(rng.standard_normal(len(th) + 1))  # first difference: high-passed noise
    hat = 0.35 * hat_noise * np.exp(-th / (0.008 + 0.02 * brightness))
    return {k: v.astype(np.float32) for k, v in (("kick", kick), ("snare", snare), ("hat", hat))}


def synthesize_music(spec: MusicSpec, duration_s: float, sample_rate: int = 22050) -> np.ndarray:
    """Render ``duration_s`` seconds of music with the cues of ``spec``.

    Returns mono float32 samples at ``sample_rate`` Hz, peak ≤ 1, RMS ≈ ``spec.loudness_dbfs``
    dBFS. Deterministic for a given spec (including ``seed``); different seeds give different
    progressions, melodies and rhythms.
    """
    if duration_s < 0 or not math.isfinite(duration_s):
        raise ValueError(f"duration_s must be finite and >= 0, got {duration_s!r}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be > 0, got {sample_rate!r}")
    if spec.mode not in _SCALES:
        raise ValueError(f"mode must be 'major' or 'minor', got {spec.mode!r}")
    if spec.tempo_bpm <= 0:
        raise ValueError(f"tempo_bpm must be > 0, got {spec.tempo_bpm!r}")
    n = int(round(duration_s * sample_rate))
    if n == 0:
        return np.zeros(0, dtype=np.float32)

    sr = sample_rate
    art = float(np.clip(spec.articulation, 0.0, 1.0))
    bright = float(np.clip(spec.brightness, 0.0, 1.0))
    diss = float(np.clip(spec.dissonance, 0.0, 1.0))
    dens = float(np.clip(spec.rhythm_density, 0.0, 1.0))
    rng = np.random.default_rng(spec.seed)
    scale = _SCALES[spec.mode]
    root = int(spec.root_midi)
    beat_n = 60.0 / spec.tempo_bpm * sr
    n_beats = int(math.ceil(n / beat_n)) + 1
    n_bars = n_beats // _BEATS_PER_BAR + 1
    duty = 0.95 - 0.75 * art  # fraction of each note held before release

    # --- harmony: one chord (scale degree) per bar, phrase of 4 bars with seeded variation.
    progs = _PROGRESSIONS[spec.mode]
    base = np.array(progs[rng.integers(len(progs))])
    chords = np.resize(base, n_bars)
    subst = rng.random(n_bars) < 0.2
    subst[:: len(base)] = False  # keep the tonic/phrase start
    chords[subst] = rng.integers(0, 7, size=int(subst.sum()))

    # --- melody on a grid of `sub` slots per beat.
    sub = 1 if dens < 0.3 else (2 if dens < 0.7 else 4)
    slot_n = beat_n / sub
    n_slots = int(math.ceil(n / slot_n))
    slot = np.arange(n_slots)
    on_beat = slot % sub == 0
    p_on = np.where(on_beat, 0.9, 0.35 + 0.5 * dens)
    onset_mask = rng.random(n_slots) < p_on
    onset_mask[0] = True
    m_slots = slot[onset_mask]
    m_onsets = np.round(m_slots * slot_n).astype(np.int64)
    m_bar = (m_slots // (sub * _BEATS_PER_BAR)).astype(np.int64)
    steps = rng.choice([-3, -2, -1, -1, 0, 1, 1, 2, 3], size=len(m_slots))
    degrees = np.empty(len(m_slots), dtype=np.int64)
    d = int(rng.integers(0, 5))
    for i in range(len(m_slots)):  # short loop: a few hundred notes at most
        d += int(steps[i])
        if d < 0 or d > 11:  # reflect inside root .. root + octave + fifth
            d = -d if d < 0 else 22 - d
        if m_slots[i] % (sub * 2) == 0:  # strong beats: snap to the nearest chord tone
            c = int(chords[m_bar[i]])
            tones = np.array([c, c + 2, c + 4, c + 7, c + 9, c + 11]) % 7
            cands = np.array([t + 7 * k for t in tones for k in (0, 1)])
            d = int(cands[np.argmin(np.abs(cands - d))])
        degrees[i] = d
    rest = (rng.random(len(m_slots)) < 0.12 * (1.0 - dens)) & (m_slots % sub != 0)
    m_vel = (0.75 + 0.25 * rng.random(len(m_slots))) * np.where(on_beat[m_slots], 1.0, 0.8)
    m_vel[rest] = 0.0
    m_midi = _degree_midi(root, scale, degrees)

    # --- chords: re-struck every beat (dense) or every bar (sparse), voiced below the melody.
    strike_beats = 1 if dens >= 0.5 else (2 if dens >= 0.2 else _BEATS_PER_BAR)
    c_beats = np.arange(0, n_beats, strike_beats)
    c_onsets = np.round(c_beats * beat_n).astype(np.int64)
    c_onsets = c_onsets[c_onsets < n]
    c_bar = (c_beats[: len(c_onsets)] // _BEATS_PER_BAR).astype(np.int64)
    c_deg = chords[c_bar]
    c_vel = np.where(c_beats[: len(c_onsets)] % _BEATS_PER_BAR == 0, 1.0, 0.8)
    # bass: chord root two octaves below the melody tonic, on beats 1 (and 3 when denser).
    b_step = 1 if dens >= 0.7 else (2 if dens >= 0.3 else _BEATS_PER_BAR)
    b_beats = np.arange(0, n_beats, b_step)
    b_onsets = np.round(b_beats * beat_n).astype(np.int64)
    b_onsets = b_onsets[b_onsets < n]
    b_deg = chords[(b_beats[: len(b_onsets)] // _BEATS_PER_BAR).astype(np.int64)]
    b_root = root - 24 if root - 24 >= 28 else root - 12
    b_midi = _degree_midi(b_root, scale, b_deg)

    out = np.zeros(n, dtype=np.float32)
    decay_s = 0.25 + 2.5 * (1.0 - art)

    # melody voice
    env, idx = _envelope(m_onsets, m_vel, n, sr, duty, decay_s)
    f = _midi_hz(m_midi)
    table = _wavetable(bright, float(np.median(f)), float(f.max()), sr)
    out += 0.5 * env * _oscillator(f[idx], table, sr, rng.random())
    if diss > 0:  # detuned doubling: beating roughness
        out += (0.25 * diss) * env * _oscillator(f[idx] * 2 ** (0.35 * diss / 12), table, sr,
                                                  rng.random())

    # chord voices (triad, plus semitone / tritone cluster tones when dissonant)
    env, idx = _envelope(c_onsets, c_vel, n, sr, min(duty + 0.1, 0.97), decay_s + 0.5)
    intervals = [(0, 0.14), (2, 0.12), (4, 0.12)]
    chord_root = root - 12 if root - 12 >= 40 else root
    c_freqs = []
    for deg_off, gain in intervals:
        c_freqs.append((_midi_hz(_degree_midi(chord_root, scale, c_deg + deg_off)), gain))
    if diss > 0:
        base_midi = _degree_midi(chord_root, scale, c_deg)
        c_freqs.append((_midi_hz(base_midi + 1), 0.14 * diss))
        c_freqs.append((_midi_hz(base_midi + 6), 0.12 * diss))
    all_f = np.concatenate([cf for cf, _ in c_freqs])
    table = _wavetable(bright * 0.8, float(np.median(all_f)), float(all_f.max()), sr)
    pad = np.zeros(n, dtype=np.float32)
    for cf, gain in c_freqs:
        pad += gain * _oscillator(cf[idx], table, sr, rng.random())
    out += env * pad

    # bass voice
    env, idx = _envelope(b_onsets, np.ones(len(b_onsets)), n, sr, min(duty + 0.05, 0.97),
                         decay_s)
    f = _midi_hz(b_midi)
    table = _wavetable(0.3 + 0.5 * bright, float(np.median(f)), float(f.max()), sr)
    out += 0.35 * env * _oscillator(f[idx], table, sr, 0.0)

    # percussion: kick / snare / hi-hat placed per hit (a few hundred short adds)
    if dens >= 0.15:
        kernels = _drum_kernels(rng, sr, bright)
        drum_gain = 0.45 * min(1.0, 0.3 + dens)
        hits: list[tuple[str, float, float]] = []
        for b in range(n_beats):
            pos = b % _BEATS_PER_BAR
            if pos == 0 or (dens >= 0.45 and pos == 2) or dens >= 0.85:
                hits.append(("kick", b, 1.0))
            if dens >= 0.3 and pos in (1, 3):
                hits.append(("snare", b, 0.9))
            if dens >= 0.35:
                hat_sub = 2 if dens < 0.8 else 4
                for s in range(hat_sub):
                    hits.append(("hat", b + s / hat_sub, (0.6 + 0.4 * bright) *
                                 (1.0 if s == 0 else 0.7)))
        jitter = rng.normal(0.0, 0.004 * sr, size=len(hits))
        for (name, beat, vel), jit in zip(hits, jitter, strict=True):
            start = int(round(beat * beat_n + jit))
            if start < 0 or start >= n:
                continue
            k = kernels[name]
            end = min(n, start + len(k))
            out[start:end] += (drum_gain * vel) * k[: end - start]

    # dissonance: soft-clipping distortion
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out /= peak
    if diss > 0:
        g = 1.0 + 6.0 * diss
        out = np.tanh(g * out) / np.tanh(g)

    # loudness: scale to target RMS, then soft-limit above 0.8 so the peak stays <= 1
    rms = float(np.sqrt(np.mean(out.astype(np.float64) ** 2)))
    if rms > 0:
        out *= np.float32(10.0 ** (spec.loudness_dbfs / 20.0) / rms)
    mag = np.abs(out)
    over = mag > 0.8
    if over.any():
        out[over] = np.sign(out[over]) * (0.8 + 0.2 * np.tanh((mag[over] - 0.8) / 0.2))
    return out.astype(np.float32, copy=False)


def splice(a: np.ndarray, b: np.ndarray, sample_rate: int, crossfade_s: float = 0.05) -> np.ndarray:
    """Join two mono clips with an equal-power crossfade of ``crossfade_s`` seconds.

    The result has ``len(a) + len(b) - n_fade`` samples (float32), where ``n_fade`` is the
    crossfade length clipped to the shorter clip. Useful to build media whose mood changes.
    """
    a = np.asarray(a, dtype=np.float32).reshape(-1)
    b = np.asarray(b, dtype=np.float32).reshape(-1)
    if crossfade_s < 0:
        raise ValueError(f"crossfade_s must be >= 0, got {crossfade_s!r}")
    n_fade = min(int(round(crossfade_s * sample_rate)), len(a), len(b))
    if n_fade == 0:
        return np.concatenate([a, b])
    t = (np.arange(n_fade, dtype=np.float32) + 0.5) / n_fade
    fade_out = np.cos(0.5 * np.pi * t).astype(np.float32)
    fade_in = np.sin(0.5 * np.pi * t).astype(np.float32)
    mid = a[len(a) - n_fade:] * fade_out + b[:n_fade] * fade_in
    return np.concatenate([a[: len(a) - n_fade], mid, b[n_fade:]])


# --------------------------------------------------------------------------- writers
