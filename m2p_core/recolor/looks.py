"""The looks the recolouring can bake into its LUTs (issue 15), chosen by
``TransferParams.look``:

- ``"transfer"``: :class:`m2p_core.recolor.transfer.PaletteTransfer` — each colour of the picture
  moves toward a colour of the mood palette (optimal-transport matching, smooth field);
- ``"grade"``: :class:`m2p_core.recolor.grade.PaletteGrade` — a colourist's grade from the palette:
  tone curve, split-toning of shadows/mid-tones/highlights, saturation following arousal.

Both have ``params``, ``luminance(L*)`` and ``apply(lab) -> lab``: what
:func:`m2p_core.recolor.lut.bake_yuv_lut` and :func:`m2p_core.recolor.lut.bake_rgb_lut` use.
"""

from __future__ import annotations

import numpy as np

from m2p_core.recolor.grade import PaletteGrade
from m2p_core.recolor.transfer import LOOKS, PaletteTransfer, TransferParams

__all__ = ["LOOKS", "Look", "make_look"]

Look = PaletteTransfer | PaletteGrade


def make_look(source: np.ndarray, target: np.ndarray, params: TransferParams | None = None,
              source_weights: np.ndarray | None = None,
              target_weights: np.ndarray | None = None) -> Look:
    """The look ``params.look`` for one (source, target) palette pair.

    Parameters
    ----------
    source, target : np.ndarray
        (K, 3), (M, 3) CIELAB palettes: the picture's, the mood's.
    params : TransferParams, optional
        Shared parameters (``look`` picks the class); default ``TransferParams()``.
    source_weights, target_weights : np.ndarray, optional
        (K,), (M,) weights (the source colours' shares of the picture, the palette's weights);
        uniform if None.
    """
    params = TransferParams() if params is None else params
    if params.look == "grade":
        return PaletteGrade(source, target, params, source_weights, target_weights)
    return PaletteTransfer(source, target, params, source_weights, target_weights)
