"""Labelled synthetic training music: cue directions, balance, files, and the split."""

from dataclasses import replace

import numpy as np

from m2p_core.audio.decode import decode_audio
from m2p_core.synth.music import PRESETS, MusicSpec
from m2p_core.synth.training_set import (
    SYNTHETIC_ARTIST,
    cue_emotion,
    sample_clips,
    write_synthetic_set,
)
from m2p_core.training import TrainConfig, artist_disjoint_split, with_synthetic
from m2p_core.training.manifest import ManifestRow, read_manifest


def test_cue_directions_follow_the_literature():
    base = MusicSpec()
    v0, a0 = cue_emotion(base)
    # valence: major mode, higher register, consonance raise it
    assert cue_emotion(replace(base, mode="minor"))[0] < v0
    assert cue_emotion(replace(base, root_midi=70))[0] > v0
    assert cue_emotion(replace(base, dissonance=0.9))[0] < v0
    # arousal: tempo, loudness, density, staccato, brightness raise it
    assert cue_emotion(replace(base, tempo_bpm=160))[1] > a0
    assert cue_emotion(replace(base, loudness_dbfs=-10))[1] > a0
    assert cue_emotion(replace(base, rhythm_density=0.9))[1] > a0
    assert cue_emotion(replace(base, articulation=0.9))[1] > a0
    assert cue_emotion(replace(base, brightness=0.9))[1] > a0
    # mode is the strongest valence cue, tempo the strongest arousal cue (docs/ARCHITECTURE.md
    # "Science" order)
    dv_mode = v0 - cue_emotion(replace(base, mode="minor"))[0]
    high, low = replace(base, root_midi=74), replace(base, root_midi=45)
    dv_reg = cue_emotion(high)[0] - cue_emotion(low)[0]
    assert dv_mode > dv_reg


def test_presets_land_in_their_quadrants():
    signs = {"happy": (1, 1), "angry": (-1, 1), "sad": (-1, -1), "calm": (1, -1)}
    for name, (sv, sa) in signs.items():
        v, a = cue_emotion(PRESETS[name])
        assert np.sign(v) == sv and np.sign(a) == sa, name


def test_sampled_clips_are_balanced_clear_and_deterministic():
    clips = sample_clips(40, seed=3, margin=0.12)
    va = np.array([[c.valence, c.arousal] for c in clips])
    assert (np.abs(va) >= 0.12).all()
    quadrants = {(np.sign(v), np.sign(a)) for v, a in va}
    assert len(quadrants) == 4
    for q in quadrants:
        assert sum((np.sign(v), np.sign(a)) == q for v, a in va) == 10
    assert all(0.25 <= c.weight <= 1.0 for c in clips)
    assert [c.spec for c in sample_clips(40, seed=3)] == [c.spec for c in clips]
    # cues vary independently enough to teach them: both modes occur with both arousal signs
    modes = {(c.spec.mode, np.sign(c.arousal)) for c in clips}
    assert len(modes) == 4


def test_written_set_is_a_manifest_of_decodable_clips(tmp_path):
    manifest = write_synthetic_set(tmp_path, n=4, seed=1, duration_s=2.0)
    rows = read_manifest(manifest)
    assert len(rows) == 4 and all(r.artist == SYNTHETIC_ARTIST for r in rows)
    wave = decode_audio(rows[0].path, 16000)
    assert abs(len(wave) - 32000) < 1600 and np.abs(wave).max() > 0.01
    mtime = manifest.stat().st_mtime_ns
    assert write_synthetic_set(tmp_path, n=4, seed=1, duration_s=2.0) == manifest
    assert manifest.stat().st_mtime_ns == mtime  # reused, not rewritten
    assert write_synthetic_set(tmp_path, n=4, seed=2, duration_s=2.0) != manifest


def _real_rows(n=40):
    return [ManifestRow(f"c{i}", f"/x/{i}.mp3", 1.0 if i % 2 else -1.0, 1.0 if i % 4 < 2 else -1.0,
                        f"artist{i // 2}", 1.0) for i in range(n)]


def test_synthetic_rows_are_always_trained_on_and_never_change_the_real_split(tmp_path):
    real = _real_rows()
    cfg = TrainConfig(synthetic_clips=4, synthetic_weight=0.5)
    rows = with_synthetic(real, cfg, tmp_path / "audio")
    assert len(rows) == 44
    assert all(r.weight <= 0.5 for r in rows[40:])
    for fold in range(4):
        tr_real, va_real = artist_disjoint_split(real, 4, fold, 0)
        tr, va = artist_disjoint_split(rows, 4, fold, 0)
        assert list(va) == list(va_real)
        assert set(tr) == set(tr_real) | {40, 41, 42, 43}
    assert with_synthetic(real, TrainConfig(), tmp_path / "audio") == real
