"""Issue 13, item 3: do basic-pitch's transcribed notes help the emotion head? (An experiment;
not part of the shipped model. Completes the model card's "Tonal and melodic cues" table, where
librosa's tonal cues and CREPE's f0 had been tried and basic-pitch had not.)

basic-pitch (Bittner et al., ICASSP 2022; Spotify, Apache-2.0) is a small polyphonic note
transcriber: audio at 22050 Hz in 2-s windows -> per 11.6-ms frame (86 per second) the
probabilities of 88 piano-key notes being active ("note") and starting ("onset"), and a pitch
"contour" at a third of a semitone. Its ONNX model (0.23 MB) is read from the PyPI wheel
(``pip download --no-deps basic-pitch==0.4.0``: its dependency pins pull TensorFlow, so the
wheel is read, not installed) and run with onnxruntime, which the experiment needs in the venv
(``.venv/bin/pip install onnxruntime``; nothing shipped uses it). The audio is windowed and the
outputs stitched as basic-pitch's own ``run_inference`` does (30 frames of overlap, half of it
dropped at each side).

Per 10-s window (every 5 s, the head's training windows) of each emotion4q clip, the ``notes``
block (14 values) from the note probabilities N (frames x 88):

Only active notes (N > 0.3, basic-pitch's frame threshold) are counted, weighted by N: every key
keeps a small probability in every frame, a floor that would otherwise pull every weighted
statistic to the keyboard's middle.

* key and mode from the *transcribed notes*: the pitch-class profile (N summed per pitch class)
  correlated with the Krumhansl-Kessler major and minor profiles (best of 12 rotations each),
  their difference (mode strength), and the mean per-frame difference between the best major
  and best minor triad (the three pitch classes' summed N);
* register: the N-weighted mean MIDI pitch and its spread, the 10-90% range of active notes
  (N > 0.3);
* melody: the highest active note per frame; mean absolute step between frames where it moves
  by less than an octave, the up-minus-down balance of its moves, and its mean pitch;
* texture: mean number of active notes per frame (polyphony), onsets per second (onset
  probability peaks above 0.5);
* dissonance: over each frame's pairs of active notes (weights N_i N_j), the share of
  rough interval classes (1, 2, 6, 10, 11, weighted as in the tonal cues) and of consonant
  ones (3, 4, 5, 7, 8, 9).

The same fixed protocol as ``scripts/tonal_cues_experiment.py`` (clip means of the blocks,
StandardScaler + 4-class LogisticRegression at C = 0.01 and 0.03, the artist-disjoint 5 folds of
``m2p evaluate``), then the shipped head's own recipe with and without the block
(:func:`~m2p_core.training.head.cross_validate_head`: inner-CV C, Platt, lapse; the model
card's 0.743 row).

    .venv/bin/pip download --no-deps basic-pitch==0.4.0 -d .whl
    .venv/bin/pip install onnxruntime
    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python scripts/basic_pitch_experiment.py \
        --wheel .whl/basic_pitch-0.4.0-py2.py3-none-any.whl \
        [--manifest ../shared/data/emotion4q/labels.csv] [--features out/basic_pitch.npz]

Transcription takes ~0.04 CPU-s per second of audio on one core (~0.2 CPU-s per 5-s hop, about
four times v2's whole cost per window): 718 CPU-s for the 604 clips; it resumes.

Results (2026-12-01; 604 clips, 2779 windows)::

    blocks              C=0.01 F1  V-sign   C=0.03 F1  V-sign
    pen+tags+desc       0.730      0.795    0.727      0.791
    +notes              0.732      0.791    0.728      0.793
    notes only          0.594      0.712    0.605      0.719
    descriptors only    0.643      0.719    0.640      0.720
    descriptors+notes   0.659      0.740    0.669      0.743

    shipped recipe          macro-F1 0.743  valence sign 0.818  folds 0.707 0.734 0.772 0.776 0.715
    shipped recipe + notes  macro-F1 0.723  valence sign 0.798  folds 0.700 0.701 0.727 0.768 0.705

No gain beside musicnn (the block adds 0.001-0.002 to the probe and costs the shipped recipe
0.020); on v1's descriptors alone it adds 0.016-0.029, at 17x v1's CPU per window. Not shipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tonal_cues_experiment import (  # noqa: E402
    CONSONANT,
    DISSONANT,
    MAJOR,
    MINOR,
    extract,
    head_window_rows,
    probe_table,
)

from m2p_core.model.checkpoint import load_checkpoint, shipped_checkpoint_path  # noqa: E402
from m2p_core.training.head import HeadRecipe, cross_validate_head  # noqa: E402
from m2p_core.training.head_features import extract_head_features  # noqa: E402
from m2p_core.training.manifest import read_manifest  # noqa: E402

SR = 22050  # basic-pitch's sample rate
FPS = SR // 256  # its frames per second (86: its ANNOTATIONS_FPS, an integer)
WINDOW_S, HOP_S = 10, 5  # the head's windows
N_AUDIO = 2 * SR - 256  # one model input (43844 samples)
N_OVERLAP_FRAMES = 30
OVERLAP = N_OVERLAP_FRAMES * 256
MODEL_IN = "serving_default_input_2:0"
MODEL_OUT = {"note": "StatefulPartitionedCall:1", "onset": "StatefulPartitionedCall:2"}
ACTIVE = 0.3  # basic-pitch's default frame threshold
N_FEATURES = 14


def load_model(wheel: Path):
    """An onnxruntime session of the wheel's ``nmp.onnx`` (one thread)."""
    import onnxruntime as ort

    with zipfile.ZipFile(wheel) as z:
        onnx = z.read("basic_pitch/saved_models/icassp_2022/nmp.onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    return ort.InferenceSession(onnx, opts, providers=["CPUExecutionProvider"])


def transcribe(session, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(note, onset) probabilities, each (frames, 88), of mono 22.05-kHz audio, windowed and
    stitched as basic-pitch's ``run_inference``."""
    hop = N_AUDIO - OVERLAP
    padded = np.concatenate([np.zeros(OVERLAP // 2, np.float32), y.astype(np.float32)])
    starts = range(0, len(padded), hop)
    x = np.zeros((len(starts), N_AUDIO, 1), np.float32)
    for i, s in enumerate(starts):
        chunk = padded[s:s + N_AUDIO]
        x[i, :len(chunk), 0] = chunk
    outs = {k: [] for k in MODEL_OUT}
    for i in range(0, len(x), 8):
        res = session.run(list(MODEL_OUT.values()), {MODEL_IN: x[i:i + 8]})
        for k, v in zip(MODEL_OUT, res, strict=True):
            outs[k].append(v)
    n_frames = int(np.floor(len(y) * FPS / SR))
    half = N_OVERLAP_FRAMES // 2

    def unwrap(a: np.ndarray) -> np.ndarray:
        a = a[:, half:-half]
        return a.reshape(-1, a.shape[-1])[:n_frames]

    return unwrap(np.concatenate(outs["note"])), unwrap(np.concatenate(outs["onset"]))


def _key_correlations(profile: np.ndarray) -> tuple[float, float]:
    if profile.std() < 1e-9:
        return 0.0, 0.0
    maj = max(np.corrcoef(np.roll(MAJOR, k), profile)[0, 1] for k in range(12))
    mnr = max(np.corrcoef(np.roll(MINOR, k), profile)[0, 1] for k in range(12))
    return float(maj), float(mnr)


def notes_block(note: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """(14,) note statistics of one window's frames (see the module doc)."""
    out = np.zeros(N_FEATURES, np.float32)
    if len(note) == 0:
        return out
    midi = 21 + np.arange(88)
    # only active notes count: every key keeps a small probability in every frame, and summed
    # over 88 keys that floor would pull every weighted statistic to the keyboard's middle
    note_w = np.where(note > ACTIVE, note, 0.0)
    chroma = np.zeros((len(note), 12), np.float32)  # per-frame pitch-class sums
    for pc in range(12):
        chroma[:, pc] = note_w[:, midi % 12 == pc].sum(1)
    r_maj, r_min = _key_correlations(chroma.sum(0))
    triads_maj = [chroma[:, [r, (r + 4) % 12, (r + 7) % 12]].sum(1) for r in range(12)]
    triads_min = [chroma[:, [r, (r + 3) % 12, (r + 7) % 12]].sum(1) for r in range(12)]
    triad_mode = (np.max(triads_maj, 0) - np.max(triads_min, 0)).mean()
    w = note_w.sum()
    mean_pitch = float((note_w * midi).sum() / w) if w > 0 else 0.0
    spread = float(np.sqrt((note_w * (midi - mean_pitch) ** 2).sum() / w)) if w > 0 else 0.0
    active = note > ACTIVE
    act_pitches = np.nonzero(active)[1] + 21
    p_range = (np.percentile(act_pitches, 90) - np.percentile(act_pitches, 10)
               if len(act_pitches) else 0.0)
    top = np.where(active.any(1), 87 - np.argmax(active[:, ::-1], 1) + 21, -1)
    moving = (top[1:] >= 0) & (top[:-1] >= 0)
    steps = np.diff(top)[moving]
    steps = steps[np.abs(steps) < 12]
    moves = steps[steps != 0]
    melody = [np.abs(steps).mean() if len(steps) else 0.0,
              ((moves > 0).mean() - (moves < 0).mean()) if len(moves) else 0.0,
              top[top >= 0].mean() if (top >= 0).any() else 0.0]
    peaks = ((onset[1:-1] > 0.5) & (onset[1:-1] >= onset[:-2]) & (onset[1:-1] >= onset[2:]))
    onsets_per_s = peaks.sum() / (len(note) / FPS)
    # pairs of simultaneous notes, weighted N_i N_j, by interval class
    pair_w = np.zeros(12)
    for d in range(1, 88):
        pair_w[d % 12 if d % 12 <= 6 else 12 - d % 12] += (note_w[:, d:] * note_w[:, :-d]).sum()
    total = pair_w[1:].sum()
    ic_weight = {ic: max(DISSONANT.get(ic, 0.0), DISSONANT.get(12 - ic, 0.0))
                 for ic in range(1, 7)}
    rough = sum(ic_weight[ic] * pair_w[ic] for ic in range(1, 7)) / total if total else 0.0
    consonant_ics = sorted({min(ic, 12 - ic) for ic in CONSONANT})  # 3, 4, 5
    smooth = pair_w[consonant_ics].sum() / total if total else 0.0
    out[:] = [r_maj, r_min, r_maj - r_min, triad_mode, mean_pitch, spread, p_range, *melody,
              active.sum(1).mean(), onsets_per_s, rough, smooth]
    return out


def clip_features(session, wave: np.ndarray) -> np.ndarray:
    """(windows, 14) per 10-s window every 5 s (one padded window if the clip is shorter)."""
    wave = np.pad(np.asarray(wave, np.float32), (0, max(0, WINDOW_S * SR - len(wave))))
    note, onset = transcribe(session, wave)
    starts = range(0, len(wave) - WINDOW_S * SR + 1, HOP_S * SR)
    return np.stack([notes_block(note[s * FPS // SR:(s // SR + WINDOW_S) * FPS],
                                 onset[s * FPS // SR:(s // SR + WINDOW_S) * FPS])
                     for s in starts])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, required=True, help="basic-pitch 0.4.0 wheel")
    ap.add_argument("--manifest", default=str(ROOT.parent / "shared/data/emotion4q/labels.csv"))
    ap.add_argument("--features", type=Path, default=ROOT / "out/basic_pitch.npz")
    ap.add_argument("--json", type=Path, default=ROOT / "out/basic_pitch_cv.json")
    args = ap.parse_args()
    rows = read_manifest(args.manifest)
    args.features.parent.mkdir(parents=True, exist_ok=True)
    session = load_model(args.wheel)
    notes = extract(rows, lambda wave: clip_features(session, wave), SR, args.features)
    model = load_checkpoint(shipped_checkpoint_path("m2p-v2.pt")).model.eval()
    head = extract_head_features(rows, model, log=lambda s: None)  # cached by m2p train-head
    head.blocks["notes"] = head_window_rows(head, rows, notes, HOP_S).astype(np.float32)
    base = ("penultimate", "tags", "descriptors")
    table = probe_table(head, rows, [
        ("pen+tags+desc", base), ("+notes", (*base, "notes")), ("notes only", ("notes",)),
        ("descriptors only", ("descriptors",)), ("descriptors+notes", ("descriptors", "notes"))])
    cfg = model.head_config
    for name, names in [("shipped recipe", cfg.features),
                        ("shipped recipe + notes", (*cfg.features, "notes"))]:
        cv = cross_validate_head(head, rows, HeadRecipe(names, kind=cfg.kind, lapse=cfg.lapse),
                                 5, 0)
        m = cv.metrics
        table[name] = {k: round(m[k], 3) for k in ("macro_f1", "valence_sign_acc",
                                                   "arousal_sign_acc")}
        table[name]["fold_macro_f1"] = [round(f, 3) for f in m["fold_macro_f1"]]
        print(f"{name:<24} macro-F1 {m['macro_f1']:.3f}  valence-sign "
              f"{m['valence_sign_acc']:.3f}  folds {table[name]['fold_macro_f1']}", flush=True)
    args.json.write_text(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
