"""Apply a YUV-native colour LUT to 8-bit 4:2:0 planes, in place of a per-pixel RGB 3D LUT.

A :class:`YuvLut` is two tables, both in the video's own code values (no RGB round trip):

- ``y_curve`` (256 uint8): the luma curve, applied per luma sample (Chang et al.'s monotonic
  luminance transfer is one-dimensional);
- ``chroma_delta`` (NC × NC × NY × 2 int16): the change of (Cb, Cr), in quarter code values, at
  the *nodes* of a regular (Cb, Cr, luma) grid — Cb/Cr nodes every 8 code values (0, 8, …, 256),
  luma nodes every 16 (0, 16, …, 256). This is what is baked and blended.

Each *chroma* sample (a quarter of the pixels in 4:2:0) changes by the table interpolated at
(its Cb, its Cr, mean luma of its 2×2 block): bilinearly in (Cb, Cr) and linearly in luma, so
the output is a continuous, piecewise-linear function of the input — no steps between cells,
hence no blotches at saturated edges and no banding in gradients.

For speed the kernel does not evaluate all eight trilinear taps per sample: each LUT is first
expanded (once, ~0.2 ms) into *chroma planes*, the table linearly interpolated in luma at
every 2nd luma code value (129 levels × 33 × 33 nodes, ``kernel_table``); a sample then takes
the plane nearest to its mean luma (at most 1 code value away) and interpolates bilinearly in
(Cb, Cr) — four taps. The difference from full trilinear interpolation is at most the table's
luma slope times one code value (measured: ≤ 1–2 code values of Cb/Cr), at the cost of the
old nearest-cell kernel. Plane entries pack (dCb, dCr) into one int64 (dCr in the high 32 bits,
dCb signed in the low 32), so one multiply-add interpolates both.

Storing *deltas* keeps the input's chroma detail exactly (no quantisation of the colours
themselves) and makes an all-zero table an exact identity. The kernel is one fused pass in
integer arithmetic compiled by numba (nogil, so the decoder's and encoder's own threads keep
running while it works; cached on disk, so it is compiled once, not per process).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np

#: node grid: luma nodes every 1 << Y_SHIFT code values, chroma nodes every 1 << C_SHIFT; the
#: counts include the node at 256 (one past the last code value), so the upper neighbour of
#: any code value exists and the kernel needs no clamping.
Y_SHIFT = 4
C_SHIFT = 3
NY = (256 >> Y_SHIFT) + 1
NC = (256 >> C_SHIFT) + 1
#: deltas are stored in 1 / D_ONE code values (sub-code precision for smooth gradients)
D_BITS = 2
D_ONE = 1 << D_BITS
#: chroma planes every 1 << L_SHIFT luma code values (of a 2x2 block's mean luma)
L_SHIFT = 1
NL = (256 >> L_SHIFT) + 1
_L_FRAC_BITS = Y_SHIFT - L_SHIFT  # plane values are luma-interpolated in 1/8ths (exact)
_C_ONE = 1 << C_SHIFT
_C_MASK = _C_ONE - 1
_SHIFT = D_BITS + _L_FRAC_BITS + 2 * C_SHIFT  # kernel_table x bilinear weights -> code values
_HALF = 1 << (_SHIFT - 1)


@dataclass(frozen=True)
class YuvLut:
    y_curve: np.ndarray  # (256,) uint8
    chroma_delta: np.ndarray  # (NC, NC, NY, 2) int16 [Cb, Cr, luma node, (dCb, dCr) x D_ONE]

    @staticmethod
    def identity() -> YuvLut:
        return _IDENTITY

    @cached_property
    def kernel_table(self) -> np.ndarray:
        """(NL, NC, NC) int64 packed chroma planes for the kernel (see module doc), made once."""
        out = np.empty((NL, NC, NC), np.int64)
        _expand(self.chroma_delta, out)
        return out

    @property
    def is_identity(self) -> bool:
        return bool(np.array_equal(self.y_curve, np.arange(256)) and not self.chroma_delta.any())


_IDENTITY = YuvLut(np.arange(256, dtype=np.uint8), np.zeros((NC, NC, NY, 2), np.int16))


def grid_nodes() -> tuple[np.ndarray, np.ndarray]:
    """Code values of the table's luma and chroma nodes (the last one is 256)."""
    return (np.arange(NY) << Y_SHIFT).astype(np.float64), \
        (np.arange(NC) << C_SHIFT).astype(np.float64)


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
def _expand(delta, out):  # pragma: no cover
    """Chroma planes at every (1 << L_SHIFT)-th luma code value, linear in luma between nodes,
    exact (no rounding: values stay in 1 / (D_ONE << _L_FRAC_BITS) code values), packed."""
    one = 1 << _L_FRAC_BITS
    for lv in range(NL):
        k = lv >> _L_FRAC_BITS
        f = lv & (one - 1)
        if k == NY - 1:  # the top node itself
            k, f = NY - 2, one
        for iu in range(NC):
            for iv in range(NC):
                lo, hi = delta[iu, iv, k], delta[iu, iv, k + 1]
                du = np.int64(lo[0]) * (one - f) + np.int64(hi[0]) * f
                dv = np.int64(lo[1]) * (one - f) + np.int64(hi[1]) * f
                out[lv, iu, iv] = dv * (np.int64(1) << 32) + du


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _apply_420(y_in, u_in, v_in, y_out, u_out, v_out, y_curve, planes):  # pragma: no cover
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
            # the plane nearest to the block's mean luma (sum / 4), rounded half up
            s = np.int64(a) + b + c + d
            q = planes[np.uintp((s + (1 << (L_SHIFT + 1))) >> (L_SHIFT + 2))]
            # bilinear in (Cb, Cr), weights in 1/8ths; both channels in one int64 multiply-add
            u = np.int64(ui[jj])
            v = np.int64(vi[jj])
            fu = u & _C_MASK
            fv = v & _C_MASK
            iu = np.uintp(u >> C_SHIFT)
            iv = np.uintp(v >> C_SHIFT)
            r0 = q[iu]
            r1 = q[iu + np.uintp(1)]
            t = (r0[iv] * (_C_ONE - fv) + r0[iv + np.uintp(1)] * fv) * (_C_ONE - fu) \
                + (r1[iv] * (_C_ONE - fv) + r1[iv + np.uintp(1)] * fv) * fu
            du = np.int64(np.int32(t))  # the signed low half (the cast wraps by design)
            dv = (t - du) >> 32
            u = u + ((du + _HALF) >> _SHIFT)
            v = v + ((dv + _HALF) >> _SHIFT)
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
    if lut.chroma_delta.shape != (NC, NC, NY, 2):
        raise ValueError(f"chroma table shape {lut.chroma_delta.shape} != {(NC, NC, NY, 2)}")
    _apply_420(y_in, u_in, v_in, y_out, u_out, v_out, lut.y_curve, lut.kernel_table)


def apply_yuv420_copy(y: np.ndarray, u: np.ndarray, v: np.ndarray, lut: YuvLut
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convenience: new (even-cropped) planes with ``lut`` applied."""
    hc, wc = y.shape[0] // 2, y.shape[1] // 2
    out = (np.empty((2 * hc, 2 * wc), np.uint8), np.empty((hc, wc), np.uint8),
           np.empty((hc, wc), np.uint8))
    apply_yuv420((y, u, v), out, lut)
    return out
