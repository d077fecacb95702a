"""Apply a YUV-native colour LUT to 8-bit 4:2:0 planes, in place of a per-pixel RGB 3D LUT.

A :class:`YuvLut` is two tables, both in the video's own code values (no RGB round trip):

- ``y_curve`` (256 uint8): the luma curve, applied per luma sample (Chang et al.'s monotonic
  luminance transfer is one-dimensional);
- ``chroma_delta`` (NCb × NCr × NY × 2 int16): the change of (Cb, Cr), looked up per *chroma*
  sample (a quarter of the pixels in 4:2:0) at the cell of (mean luma of its 2×2 block, Cb, Cr).

Storing *deltas* keeps the input's chroma detail exactly (no quantisation of the colours
themselves), makes an all-zero table an exact identity, and keeps the table small enough
(256 KiB) to stay in cache. The kernel is a single fused pass compiled by numba (nogil, so
the decoder's and encoder's own threads keep running while it works).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

#: table geometry: luma cells are 1 << Y_SHIFT code values wide, chroma cells 1 << C_SHIFT.
Y_SHIFT = 4
C_SHIFT = 2
NY = 256 >> Y_SHIFT
NC = 256 >> C_SHIFT
# luma interpolation constants, on the scale of a 2x2 block's luma sum (4 x code value)
_Y_FRAC_BITS = Y_SHIFT + 2
_Y_FRAC_ONE = 1 << _Y_FRAC_BITS
_Y_FRAC_MASK = _Y_FRAC_ONE - 1
_Y_HALF = _Y_FRAC_ONE >> 1
_Y_CENTRE0_X4 = 2 * ((1 << Y_SHIFT) - 1)  # 4 x the first cell's centre ((2^s - 1) / 2)


@dataclass(frozen=True)
class YuvLut:
    y_curve: np.ndarray  # (256,) uint8
    chroma_delta: np.ndarray  # (NC, NC, NY, 2) int16 [Cb cell, Cr cell, luma cell, (dCb, dCr)]

    @staticmethod
    def identity() -> YuvLut:
        return YuvLut(np.arange(256, dtype=np.uint8), np.zeros((NC, NC, NY, 2), np.int16))

    @property
    def is_identity(self) -> bool:
        return bool(np.array_equal(self.y_curve, np.arange(256)) and not self.chroma_delta.any())


def cell_centres() -> tuple[np.ndarray, np.ndarray]:
    """Code values at the centres of the table's luma and chroma cells."""
    y = (np.arange(NY) << Y_SHIFT) + ((1 << Y_SHIFT) - 1) / 2.0
    c = (np.arange(NC) << C_SHIFT) + ((1 << C_SHIFT) - 1) / 2.0
    return y, c


def blend(a: YuvLut, b: YuvLut, t: float) -> YuvLut:
    """The LUT a fraction ``t`` of the way from ``a`` to ``b`` (t=0 gives ``a`` exactly)."""
    if t <= 0.0 or a is b:
        return a
    if t >= 1.0:
        return b
    y = a.y_curve + t * (b.y_curve.astype(np.float32) - a.y_curve)
    c = a.chroma_delta + t * (b.chroma_delta.astype(np.float32) - a.chroma_delta)
    return YuvLut(np.rint(y).astype(np.uint8), np.rint(c).astype(np.int16))


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _apply_420(y_in, u_in, v_in, y_out, u_out, v_out, y_curve, delta):  # pragma: no cover
    hc, wc = u_out.shape
    for i in range(hc):
        yi0, yi1 = y_in[2 * i], y_in[2 * i + 1]  # row views; unsigned column indices below
        yo0, yo1 = y_out[2 * i], y_out[2 * i + 1]  # spare numba the negative-index checks
        ui, vi, uo, vo = u_in[i], v_in[i], u_out[i], v_out[i]
        for j in range(wc):
            jj = np.uintp(j)
            c0 = np.uintp(2 * j)
            c1 = c0 + np.uintp(1)
            a, b, c, d = yi0[c0], yi0[c1], yi1[c0], yi1[c1]
            yo0[c0] = y_curve[a]
            yo0[c1] = y_curve[b]
            yo1[c0] = y_curve[c]
            yo1[c1] = y_curve[d]
            # luma cell position, interpolated linearly (in 1/64ths) between cell centres
            pos = np.int32(a) + b + c + d - _Y_CENTRE0_X4
            if pos < 0:
                pos = 0
            k = pos >> _Y_FRAC_BITS
            f = pos & _Y_FRAC_MASK
            if k >= NY - 1:
                k = NY - 2
                f = _Y_FRAC_ONE
            u = np.int32(ui[jj])
            v = np.int32(vi[jj])
            cell = delta[u >> C_SHIFT, v >> C_SHIFT]  # (NY, 2): both luma neighbours in cache
            g = _Y_FRAC_ONE - f
            du = (cell[k, 0] * g + cell[k + 1, 0] * f + _Y_HALF) >> _Y_FRAC_BITS
            dv = (cell[k, 1] * g + cell[k + 1, 1] * f + _Y_HALF) >> _Y_FRAC_BITS
            u = u + du
            v = v + dv
            uo[jj] = 0 if u < 0 else (255 if u > 255 else u)
            vo[jj] = 0 if v < 0 else (255 if v > 255 else v)


def apply_yuv420(planes_in: tuple[np.ndarray, np.ndarray, np.ndarray],
                 planes_out: tuple[np.ndarray, np.ndarray, np.ndarray], lut: YuvLut) -> None:
    """Write ``lut`` applied to 4:2:0 ``planes_in`` (Y, U, V uint8 2-D, may be strided views)
    into ``planes_out``. Output luma must be (2·hc, 2·wc) for chroma (hc, wc): an odd input is
    cropped by its last row/column (pass larger input views; only the covered part is read)."""
    y_in, u_in, v_in = planes_in
    y_out, u_out, v_out = planes_out
    hc, wc = u_out.shape
    if y_out.shape != (2 * hc, 2 * wc) or v_out.shape != (hc, wc):
        raise ValueError(f"output planes do not form 4:2:0: {y_out.shape}, {u_out.shape}")
    if y_in.shape[0] < 2 * hc or y_in.shape[1] < 2 * wc or u_in.shape[0] < hc \
            or u_in.shape[1] < wc:
        raise ValueError("input planes smaller than the output")
    _apply_420(y_in, u_in, v_in, y_out, u_out, v_out, lut.y_curve, lut.chroma_delta)


def apply_yuv420_copy(y: np.ndarray, u: np.ndarray, v: np.ndarray, lut: YuvLut
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convenience: new (even-cropped) planes with ``lut`` applied."""
    hc, wc = y.shape[0] // 2, y.shape[1] // 2
    out = (np.empty((2 * hc, 2 * wc), np.uint8), np.empty((hc, wc), np.uint8),
           np.empty((hc, wc), np.uint8))
    apply_yuv420((y, u, v), out, lut)
    return out
