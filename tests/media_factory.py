"""Small generated media for tests (never data from ../shared)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from m2p_core.synth.music import PRESETS, synthesize_music
from m2p_core.synth.writers import write_audio, write_video

SAMPLE_RATE = 22050


def music(path: Path, seconds: float, preset: str = "happy", seed: int = 0) -> Path:
    """A generated piece of music written in the container the suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = synthesize_music(replace(PRESETS[preset], seed=seed), seconds, SAMPLE_RATE)
    write_audio(path, samples, SAMPLE_RATE)
    return path


def video(path: Path, seconds: float, with_audio: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = synthesize_music(PRESETS["calm"], seconds, SAMPLE_RATE) if with_audio else None
    write_video(path, (160, 120), 10, seconds, audio=audio, sample_rate=SAMPLE_RATE)
    return path
