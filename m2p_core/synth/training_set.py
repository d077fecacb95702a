"""Labelled synthetic music for training: cue-controlled clips from :mod:`m2p_core.synth.music`.

The real training set (emotion4q) is small and confounded: every quadrant mixes genres, and
some cues are thin (e.g. slow, loud, minor, low-register music). The generator varies each cue
independently, and the labels come from the cue directions of the music-emotion literature
(docs/ARCHITECTURE.md "Science"; Eerola, Friberg & Bresin 2013; Gabrielsson & Lindström 2010), with
the published
importance order mode > tempo > register > dynamics > articulation > timbre and additive effects.
Each cue is scaled to ``c ∈ [-1, 1]`` (its low end → −1, high end → +1) and::

    valence = 0.40·mode + 0.15·tempo + 0.25·register + 0.20·consonance
    arousal = 0.35·tempo + 0.25·loudness + 0.15·density + 0.15·articulation + 0.10·brightness

(``mode`` = +1 major / −1 minor; ``consonance`` = 1 − 2·dissonance.) Valence and arousal here are
in [-1, 1]. A clip is kept only when both are at least ``margin`` away from 0, so its quadrant is
what the cues say, not a coin flip; its training weight grows with that distance.

:func:`write_synthetic_set` renders the clips as FLAC files (lossless, 44.1 kHz like the MP3
originals, so codec augmentation applies to them as to real clips) plus a manifest CSV
(:mod:`m2p_core.training.manifest` format) with the artist ``__synthetic``; training keeps these
rows out
of validation (:data:`SYNTHETIC_ARTIST`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from m2p_core.files import atomic_path
from m2p_core.synth.music import MusicSpec, synthesize_music
from m2p_core.synth.writers import write_audio

SYNTHETIC_ARTIST = "__synthetic"
RENDER_RATE = 44100  # Hz
SYNTHETIC_SET_VERSION = 1  # bump when the generator or the cue model changes

#: cue ranges: (low, high) mapped to c = -1 .. +1
TEMPO_BPM = (55.0, 170.0)
ROOT_MIDI = (45, 74)
LOUDNESS_DBFS = (-28.0, -9.0)


@dataclass(frozen=True)
class SyntheticClip:
    spec: MusicSpec
    valence: float  # [-1, 1], from the cue model
    arousal: float
    weight: float


def _scaled(x: float, lo: float, hi: float) -> float:
    return float(np.clip(2.0 * (x - lo) / (hi - lo) - 1.0, -1.0, 1.0))


def cue_emotion(spec: MusicSpec) -> tuple[float, float]:
    """(valence, arousal) in [-1, 1] of a spec under the additive cue model (module doc)."""
    mode = 1.0 if spec.mode == "major" else -1.0
    tempo = _scaled(spec.tempo_bpm, *TEMPO_BPM)
    register = _scaled(spec.root_midi, *ROOT_MIDI)
    loud = _scaled(spec.loudness_dbfs, *LOUDNESS_DBFS)
    consonance = 1.0 - 2.0 * float(np.clip(spec.dissonance, 0, 1))
    density = 2.0 * float(np.clip(spec.rhythm_density, 0, 1)) - 1.0
    artic = 2.0 * float(np.clip(spec.articulation, 0, 1)) - 1.0
    bright = 2.0 * float(np.clip(spec.brightness, 0, 1)) - 1.0
    valence = 0.40 * mode + 0.15 * tempo + 0.25 * register + 0.20 * consonance
    arousal = 0.35 * tempo + 0.25 * loud + 0.15 * density + 0.15 * artic + 0.10 * bright
    return valence, arousal


def _draw_spec(rng: np.random.Generator, v_sign: float, a_sign: float, seed: int) -> MusicSpec:
    """Cues leaning toward the quadrant (v_sign, a_sign), each with wide independent spread."""

    def lean(sign: float, spread: float = 0.55) -> float:  # a value in [0, 1]
        return float(np.clip(0.5 + sign * rng.uniform(-0.15, 0.5) + rng.normal(0, spread / 4),
                             0.0, 1.0))

    major = rng.random() < (0.8 if v_sign > 0 else 0.2)
    return MusicSpec(
        tempo_bpm=TEMPO_BPM[0] + (TEMPO_BPM[1] - TEMPO_BPM[0]) * lean(a_sign),
        mode="major" if major else "minor",
        root_midi=int(round(ROOT_MIDI[0] + (ROOT_MIDI[1] - ROOT_MIDI[0]) * lean(v_sign))),
        loudness_dbfs=LOUDNESS_DBFS[0] + (LOUDNESS_DBFS[1] - LOUDNESS_DBFS[0]) * lean(a_sign),
        articulation=lean(a_sign),
        brightness=float(rng.uniform(0.05, 0.95)),
        dissonance=float(np.clip(lean(-v_sign) - 0.25 * (v_sign > 0), 0.0, 1.0) ** 1.5),
        rhythm_density=lean(a_sign),
        seed=seed,
    )


def sample_clips(n: int, seed: int = 0, margin: float = 0.12) -> list[SyntheticClip]:
    """``n`` specs, balanced over the four quadrants, labelled by :func:`cue_emotion`."""
    rng = np.random.default_rng(seed)
    quadrants = [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)]
    out: list[SyntheticClip] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 200 * max(n, 1):
            raise RuntimeError("cannot draw clear synthetic specs; lower the margin")
        v_sign, a_sign = quadrants[len(out) % 4]
        spec = _draw_spec(rng, v_sign, a_sign, seed=int(rng.integers(2**31)))
        v, a = cue_emotion(spec)
        if abs(v) < margin or abs(a) < margin or np.sign(v) != v_sign or np.sign(a) != a_sign:
            continue
        clarity = min(abs(v), abs(a))
        out.append(SyntheticClip(spec, v, a, weight=float(np.clip(clarity / 0.4, 0.25, 1.0))))
    return out


def write_synthetic_set(out_dir: str | os.PathLike, n: int, seed: int = 0,
                        duration_s: float = 30.0) -> Path:
    """Render ``n`` labelled clips under ``out_dir`` (skipping ones already there) and write
    their manifest; returns the manifest's path. The folder name encodes (n, seed, duration,
    generator version), so a changed request never reuses stale clips."""
    key = hashlib.sha256(json.dumps([SYNTHETIC_SET_VERSION, n, seed, duration_s]).encode())
    root = Path(out_dir) / f"synthetic-{key.hexdigest()[:12]}"
    root.mkdir(parents=True, exist_ok=True)
    manifest = root / "manifest.csv"
    if manifest.is_file():
        return manifest
    rows = []
    for i, clip in enumerate(sample_clips(n, seed)):
        path = root / f"synth{i:04d}.flac"
        if not path.is_file():
            wave = synthesize_music(clip.spec, duration_s, RENDER_RATE)
            with atomic_path(path) as tmp:
                write_audio(tmp, wave, RENDER_RATE)
        rows.append({
            "clip_id": f"synth{i:04d}", "path": path.name, "valence": f"{clip.valence:.4f}",
            "arousal": f"{clip.arousal:.4f}", "artist": SYNTHETIC_ARTIST,
            "weight": f"{clip.weight:.3f}", "spec": json.dumps(asdict(clip.spec)),
        })
    with atomic_path(manifest) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return manifest
