"""Bake a palette transfer into LUTs: a YUV-native LUT for video, an RGB 3D LUT for images.

The transfer (:class:`m2p_core.recolor.transfer.PaletteTransfer`, or any look of
:mod:`m2p_core.recolor.looks`: an object with ``params.strength``, ``luminance`` and ``apply``) is
evaluated once per LUT on a grid, never per pixel. For video the grid is in the video's own
Y'CbCr code values (:mod:`m2p_core.recolor.lut_kernel`); the conversions use the video's matrix and
range
(:class:`m2p_core.colour.yuv.YuvSpec`), so strength 0 is an exact identity for any encoding.
"""

from __future__ import annotations

import numpy as np

from m2p_core.colour.space import lab_to_srgb01, srgb01_to_lab
from m2p_core.colour.yuv import YuvSpec
from m2p_core.recolor.lut_kernel import D_ONE, NC, NY, YuvLut, grid_nodes
from m2p_core.recolor.transfer import PaletteTransfer


def _lab_of_codes(spec: YuvSpec, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rgb = np.clip(spec.to_srgb01(codes), 0.0, 1.0)
    return rgb, srgb01_to_lab(rgb)


def _codes_of_lab(spec: YuvSpec, lab: np.ndarray) -> np.ndarray:
    return spec.from_srgb01(np.clip(lab_to_srgb01(lab), 0.0, 1.0))


def bake_yuv_lut(transfer: PaletteTransfer, spec: YuvSpec) -> YuvLut:
    """Bake a look into a LUT in the video's own Y'CbCr code values.

    Parameters
    ----------
    transfer : a look (:class:`~m2p_core.recolor.transfer.PaletteTransfer`,
        :class:`~m2p_core.recolor.grade.PaletteGrade`): ``apply(lab) -> lab`` on CIELAB D65
    spec : the video's matrix and range (8-bit codes)

    Returns
    -------
    YuvLut
        A luma curve (256 codes) and (Cb, Cr) changes on a node grid, applied per frame by
        :func:`m2p_core.recolor.lut_kernel.apply_yuv420`; the identity at strength 0.
    """
    if transfer.params.strength == 0.0:
        return YuvLut.identity()
    # luma curve: along the neutral axis (Chang's luminance transfer is 1-D)
    mid = 128.0
    codes = np.stack([np.arange(256.0), np.full(256, mid), np.full(256, mid)], axis=1)
    _, lab = _lab_of_codes(spec, codes)
    lab_out = lab.copy()
    s = transfer.params.strength
    lab_out[:, 0] = lab[:, 0] + s * (transfer.luminance(lab[:, 0]) - lab[:, 0])
    dy = _codes_of_lab(spec, lab_out)[:, 0] - _codes_of_lab(spec, lab)[:, 0]
    y_curve = np.clip(np.rint(np.arange(256) + dy), 0, 255).astype(np.uint8)
    y_curve = np.maximum.accumulate(y_curve)  # monotonic, whatever the rounding

    # chroma deltas at the grid's nodes; the kernel interpolates trilinearly between them
    yn, cn = grid_nodes()
    grid = np.stack(np.meshgrid(cn, cn, yn, indexing="ij"), axis=-1)[..., [2, 0, 1]]
    _, lab = _lab_of_codes(spec, grid)
    out = transfer.apply(lab)
    delta = _codes_of_lab(spec, out)[..., 1:] - _codes_of_lab(spec, lab)[..., 1:]
    table = np.clip(np.rint(delta * D_ONE), -255 * D_ONE, 255 * D_ONE).astype(np.int16)
    table = np.ascontiguousarray(table)
    assert table.shape == (NC, NC, NY, 2)
    return YuvLut(y_curve, table)


def bake_rgb_lut(transfer: PaletteTransfer, size: int = 33) -> np.ndarray:
    """Bake a look into an sRGB 3D LUT, for images and ``.cube`` exports.

    Parameters
    ----------
    transfer : a look with ``apply(lab) -> lab`` (see :func:`bake_yuv_lut`)
    size : nodes per axis (33: what colour tools load)

    Returns
    -------
    (size, size, size, 3) float32 in [0, 1]
        Output sRGB indexed ``[r, g, b]`` (the .cube layout: red fastest when flattened in
        Fortran order).
    """
    axis = np.linspace(0.0, 1.0, size)
    rgb = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)
    if transfer.params.strength == 0.0:
        return rgb.astype(np.float32)
    out = lab_to_srgb01(transfer.apply(srgb01_to_lab(rgb)))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def apply_rgb_lut(image: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Trilinear lookup of an (H, W, 3) uint8 sRGB image in ``lut`` -> uint8 image.

    Vectorised numpy; meant for still images (video uses :mod:`m2p_core.recolor.lut_kernel`)."""
    n = lut.shape[0] - 1
    x = image.reshape(-1, 3).astype(np.float32) * (n / 255.0)
    i0 = np.minimum(x.astype(np.int32), n - 1)
    f = x - i0
    out = np.zeros_like(x)
    for dr in (0, 1):
        wr = f[:, 0] if dr else 1 - f[:, 0]
        for dg in (0, 1):
            wg = f[:, 1] if dg else 1 - f[:, 1]
            for db in (0, 1):
                wb = f[:, 2] if db else 1 - f[:, 2]
                out += (wr * wg * wb)[:, None] * lut[i0[:, 0] + dr, i0[:, 1] + dg, i0[:, 2] + db]
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8).reshape(image.shape)
