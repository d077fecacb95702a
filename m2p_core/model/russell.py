"""Russell's circumplex: quadrants of the valence × arousal plane (docs/ARCHITECTURE.md
"Science")."""

from __future__ import annotations

#: Quadrant -> (valence sign, arousal sign).
QUADRANT_SIGNS = {"Q1": (1, 1), "Q2": (-1, 1), "Q3": (-1, -1), "Q4": (1, -1)}

#: Quadrant -> short mood name.
QUADRANT_NAMES = {"Q1": "happy", "Q2": "tense", "Q3": "sad", "Q4": "calm"}

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")


def quadrant_of(valence: float, arousal: float) -> str:
    """Russell quadrant of a point on the plane; 0 counts as positive."""
    if valence >= 0:
        return "Q1" if arousal >= 0 else "Q4"
    return "Q2" if arousal >= 0 else "Q3"
