#!/usr/bin/env python3
"""Record golden outputs of the ORIGINAL musicnn (TensorFlow) implementation.

Run in a throw-away venv with tensorflow-cpu 2.15.1 (tf.compat.v1 graph mode),
librosa 0.8.1 and numpy 1.23.5 (plus scipy<1.12, scikit-learn<1.4, numba<0.59
so that they accept that numpy), with the unpacked musicnn 0.1.0 wheel on the
path::

    PYTHONPATH=/path/to/unpacked_wheel python make_golden_musicnn.py golden_musicnn.npz

For each signal of ``golden_signals.py`` (written to a float32 WAV file and
read back by the extractor's own ``librosa.load``) and each model
(MSD_musicnn, MTT_musicnn), ``musicnn.extractor.extractor`` is called with
its defaults (3-s patches, no overlap) in two variants:

* ``orig``: the unmodified wheel code, including its float16 cast of the
  mel spectrogram before ``log10(10000 * x + 1)``;
* ``f32``: the same code with ONE patch: ``extractor.batch_data`` replaced by
  a copy that omits ``audio_rep.astype(np.float16)`` (log computed in float32).

``config.BATCH_SIZE`` (a setting, not code) is raised from 1 to 10000 so that
all patches of a clip go through one ``sess.run``: with the default 1, the
extractor's loop concatenates the *first* batch's ``penultimate_`` (and
``cnn1_``..``cnn3_``) for every later patch, so ``features['penultimate']``
repeats patch 0. Tags and mean/max pools are unaffected by the batch size.

librosa 0.8.1 is the last release whose STFT pads with ``'reflect'`` by
default, as librosa 0.7 did when musicnn 0.1.0 was released (0.9 switched to
``'constant'``, which changes the first and last spectrogram frame).

The signals are quiet enough (mel power < 6.55) that the float16 path could
not overflow even under numpy >= 2. With the numpy < 2 used here the original's
``10000 * float16_array`` is promoted to float32 and never overflows; a loud
diagnostic (chords at 4.5x, mel power ~45) records that its tags stay finite.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import tempfile

import librosa
import numpy as np
import soundfile as sf
import tensorflow as tf

# This directory holds the torch port ``musicnn.py``, which would shadow the
# original ``musicnn`` package: drop it from the path, load golden_signals by file.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
_SIGNALS = os.path.join(_HERE, "..", "tests", "core", "model", "musicnn_golden",
                        "golden_signals.py")
_spec = importlib.util.spec_from_file_location("golden_signals", _SIGNALS)
golden_signals = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden_signals)

from musicnn import configuration as config  # noqa: E402
from musicnn import extractor as ext  # noqa: E402

ORIGINAL_BATCH_DATA = ext.batch_data


def batch_data_float32(audio_file, n_frames, overlap):
    """``musicnn.extractor.batch_data`` without the float16 cast (only change)."""
    audio, sr = librosa.load(audio_file, sr=config.SR)
    audio_rep = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=config.FFT_HOP,
                                               n_fft=config.FFT_SIZE, n_mels=config.N_MELS).T
    # PATCH: original has `audio_rep = audio_rep.astype(np.float16)` here
    audio_rep = np.log10(10000 * audio_rep + 1)
    first = True
    last_frame = audio_rep.shape[0] - n_frames + 1
    for time_stamp in range(0, last_frame, overlap):
        patch = np.expand_dims(audio_rep[time_stamp: time_stamp + n_frames, :], axis=0)
        if first:
            batch = patch
            first = False
        else:
            batch = np.concatenate((batch, patch), axis=0)
    return batch, audio_rep


# The extractor silently ignores a failed Saver.restore (bare except); make
# sure the weights really were restored.
_restored = []
_orig_restore = tf.compat.v1.train.Saver.restore


def _checked_restore(self, sess, save_path):
    _orig_restore(self, sess, save_path)
    _restored.append(save_path)


tf.compat.v1.train.Saver.restore = _checked_restore


def run(path: str, model: str, variant: str) -> dict:
    config.BATCH_SIZE = 10000  # one sess.run per clip, see module docstring
    ext.batch_data = ORIGINAL_BATCH_DATA if variant == "orig" else batch_data_float32
    n_before = len(_restored)
    taggram, labels, feats = ext.extractor(path, model=model, input_length=3,
                                           input_overlap=False, extract_features=True)
    if len(_restored) != n_before + 1:
        raise RuntimeError(f"{model}: checkpoint restore failed")
    return {"tags": taggram.astype(np.float32), "penultimate": feats["penultimate"],
            "mean_pool": feats["mean_pool"], "max_pool": feats["max_pool"]}


def main(out_path: str) -> None:
    out = {"tf_version": tf.__version__, "librosa_version": librosa.__version__,
           "numpy_version": np.__version__,
           "stft_pad_mode": inspect.signature(librosa.stft).parameters["pad_mode"].default,
           "signal_names": np.array(golden_signals.SIGNAL_NAMES)}
    with tempfile.TemporaryDirectory() as tmp:
        for name in golden_signals.SIGNAL_NAMES:
            y = golden_signals.make_signal(name)
            out[f"{name}/sha256"] = golden_signals.signal_sha256(y)
            wav = os.path.join(tmp, f"{name}.wav")
            sf.write(wav, y, golden_signals.SR, subtype="FLOAT")
            back, sr = librosa.load(wav, sr=config.SR)
            assert sr == golden_signals.SR and np.array_equal(back, y)
            mel = librosa.feature.melspectrogram(y=y, sr=sr, hop_length=256, n_fft=512, n_mels=96)
            out[f"{name}/max_mel_power"] = np.float32(mel.max())
            for model in ("MSD_musicnn", "MTT_musicnn"):
                for variant in ("orig", "f32"):
                    res = run(wav, model, variant)
                    keep = ("tags", "penultimate")
                    if model == "MSD_musicnn" and variant == "f32":
                        keep += ("mean_pool", "max_pool")
                    for k in keep:
                        out[f"{name}/{model}/{variant}/{k}"] = np.asarray(res[k], np.float32)
                    print(name, model, variant, "tags", res["tags"].shape,
                          "top:", np.argsort(-res["tags"].mean(0))[:3])
        # Diagnostic: a loud signal overflows float16 in the original code.
        loud = 4.5 * golden_signals.make_signal("chords")
        wav = os.path.join(tmp, "loud.wav")
        sf.write(wav, loud, golden_signals.SR, subtype="FLOAT")
        mel = librosa.feature.melspectrogram(y=loud, sr=16000, hop_length=256, n_fft=512, n_mels=96)
        res = run(wav, "MSD_musicnn", "orig")
        out["loud_chords/max_mel_power"] = np.float32(mel.max())
        out["loud_chords/orig_tags_all_finite"] = bool(np.isfinite(res["tags"]).all())
        print("loud chords: max mel", mel.max(), "orig tags finite:",
              np.isfinite(res["tags"]).all(), res["tags"][:, :3])
    np.savez_compressed(out_path, **out)
    print("wrote", out_path, os.path.getsize(out_path), "bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "golden_musicnn.npz")
