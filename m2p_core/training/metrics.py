"""Quadrant metrics of predicted valence/arousal against the labels."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from m2p_core.model.russell import QUADRANTS, quadrant_of


def quadrant_metrics(true_va: np.ndarray, pred_va: np.ndarray) -> dict[str, float]:
    """Quadrant macro-F1 / accuracy and per-axis sign accuracy from (n, 2) arrays."""
    yt = [quadrant_of(v, a) for v, a in true_va]
    yp = [quadrant_of(v, a) for v, a in pred_va]
    return {
        "macro_f1": float(f1_score(yt, yp, labels=list(QUADRANTS), average="macro")),
        "accuracy": float(accuracy_score(yt, yp)),
        "valence_sign_acc": float(np.mean(np.sign(true_va[:, 0]) == np.sign(pred_va[:, 0]))),
        "arousal_sign_acc": float(np.mean(np.sign(true_va[:, 1]) == np.sign(pred_va[:, 1]))),
    }
