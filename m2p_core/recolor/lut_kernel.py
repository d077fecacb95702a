"""Apply a YUV-native colour LUT to 8-bit 4:2:0 planes, in place of a per-pixel RGB 3D LUT.

A :class:`YuvLut` is two tables, both in the video's own code values (no RGB round trip):

- ``y_curve`` (256 uint8): the luma curve, applied per luma sample (Chang et al.'s monotonic
  luminance transfer is one-dimensional);
- ``chroma_delta`` (NC × NC × NY × 2 int16): the change of (Cb, Cr), in quarter code values, at
  the *nodes* of a regular (Cb, Cr, luma) grid — Cb/Cr nodes every 8 code values (0, 8, …, 256),
  luma nodes every 16 (0, 16, …, 256). This is what is baked and blended.

Each *chroma* sample (a quarter of the pixels in 4:2:0) changes by the table interpolated at
(its Cb, its Cr, its *guide luma*): bilinearly in (Cb, Cr) and linearly in luma — trilinear
interpolation of the node grid, so the output is a continuous, piecewise-linear function of the
input: no steps between cells, hence no blotches at saturated edges and no banding in gradients.

The guide luma is the mean luma of the 3 × 3 chroma blocks around the sample (6 × 6 pixels,
edges replicated, rounded to a code value), kept within ``GUIDE_RANGE`` (8) code values of the
mean luma of the sample's own 2 × 2 block. A palette transfer's chroma shift changes with
lightness (dark and light palette colours move differently — up to ~1 code value of Cr per code
value of luma on the bench footage), so with the block's own luma every grain of luma noise
became chroma noise: the output's fine-scale Cr noise was 3.3× the input's and x264 spent ~50%
more bits on it. With the 6 × 6 guide it is 1.7× (the remaining part is the palette shift's
dependence on the sample's own Cb/Cr), the encoded size +22% instead of +51% over an identity
grade. Grain is a few code values, so the clamp leaves it smoothed; at a sharp luma edge (dark
hair against a bright sky) the plain 6 × 6 mean would lie tens of code values from either
side and tint a 2–3 pixel fringe with a mid-lightness shift; the clamp bounds that error to the
table's luma slope × 8 code values (the clamp costs ~0.5% in encoded size). The luma itself is
mapped per pixel, so detail and edges are untouched.

For speed, each LUT is first expanded (once, ~1 ms, :attr:`YuvLut.fine_table`) into a *fine
table*: the chroma deltas at every (Cb, Cr) code pair on each of the 17 luma nodes — the node
grid's bilinear interpolation in (Cb, Cr), evaluated exactly and rounded to 1/16 code value,
(dCb, dCr) packed as two int16 in one int32. A sample then needs two table reads (the luma
nodes below and above its guide luma) and one linear interpolation. Per picture row the kernel
runs three short loops — the guide (box sums), the two table reads, the interpolation and
clamping — so that LLVM vectorises the first and the last (AVX2 where the CPU has it).

Storing *deltas* keeps the input's chroma detail exactly (no quantisation of the colours
themselves) and makes an all-zero table an exact identity. The kernel is integer arithmetic
compiled by numba (nogil, so the decoder's and encoder's own threads keep running while it
works; cached on disk, so it is compiled once, not per process); luma block sums of three block
rows live in a small ring buffer, so the luma plane is read once.
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
#: node deltas are stored in 1 / D_ONE code values (sub-code precision for smooth gradients)
D_BITS = 2
D_ONE = 1 << D_BITS
#: fine-table deltas are in 1 / F_ONE code values
F_BITS = 4
F_ONE = 1 << F_BITS
#: the chroma guide: mean luma of GUIDE × GUIDE chroma blocks (2·GUIDE × 2·GUIDE pixels)
GUIDE = 3
_GUIDE_PIXELS = 4 * GUIDE * GUIDE
#: the guide stays within this many code values of the sample's own 2x2 block mean luma
GUIDE_RANGE = 8
#: the guide's rounded mean ``(2s + P) // (2P)`` (P = _GUIDE_PIXELS, s <= 255 P) as a multiply
#: and shift: exact over that whole range (tests/core/recolor/test_transfer_lut.py checks every
#: value), and unlike numba's floor division (a signed division with sign fix-ups) it vectorises:
#: the guide row took 0.97 ms of a 1080p frame's ~3.3 ms, now 0.28 ms.
_GUIDE_SHIFT = 18
_GUIDE_MUL = -(-(1 << _GUIDE_SHIFT) // (2 * _GUIDE_PIXELS))
_PLANE = 256 * 256  # fine-table entries per luma node
_PLANE_U = np.uint32(_PLANE)
_Y_ONE = 1 << Y_SHIFT
_Y_MASK = _Y_ONE - 1
# fine-table value x luma weight (1/16ths) -> code values
_OUT_SHIFT = F_BITS + Y_SHIFT
_OUT_HALF = 1 << (_OUT_SHIFT - 1)


@dataclass(frozen=True)
class YuvLut:
    y_curve: np.ndarray  # (256,) uint8
    chroma_delta: np.ndarray  # (NC, NC, NY, 2) int16 [Cb, Cr, luma node, (dCb, dCr) x D_ONE]

    @staticmethod
    def identity() -> YuvLut:
        return _IDENTITY

    @cached_property
    def fine_table(self) -> np.ndarray:
        """(NY · 256 · 256,) int32: per luma node, Cb code, Cr code, the packed deltas
        ``dCr << 16 | (dCb & 0xffff)`` in 1/16 code values (see module doc); made once."""
        out = np.empty(NY * _PLANE, np.int32)
        _build_fine(self.chroma_delta, out)
        return out

    @property
    def is_identity(self) -> bool:
        return bool(np.array_equal(self.y_curve, np.arange(256)) and not self.chroma_delta.any())


_IDENTITY = YuvLut(np.arange(256, dtype=np.uint8), np.zeros((NC, NC, NY, 2), np.int16))


def grid_nodes() -> tuple[np.ndarray, np.ndarray]:
    """Code values of the table's luma and chroma nodes (the last one is 256)."""
    return (np.arange(NY) << Y_SHIFT).astype(np.float64), \
        (np.arange(NC) << C_SHIFT).astype(np.float64)


def mix(luts: list[YuvLut], weights: list[float]) -> YuvLut:
    """The weighted mean of ``luts`` (weights >= 0, summing to 1): a dissolve between grades.

    One LUT with weight 1 is returned as it is (the same object, so its fine table is reused);
    otherwise the luma curves and node deltas are mixed in float and rounded once (a convex
    mix of monotonic curves stays monotonic)."""
    pairs = [(lut, float(w)) for lut, w in zip(luts, weights, strict=True) if w > 0.0]
    if not pairs:
        raise ValueError("mix needs a positive weight")
    if len(pairs) == 1 or all(lut is pairs[0][0] for lut, _ in pairs):
        return pairs[0][0]
    total = sum(w for _, w in pairs)
    y = sum(w * lut.y_curve.astype(np.float32) for lut, w in pairs) / total
    c = sum(w * lut.chroma_delta.astype(np.float32) for lut, w in pairs) / total
    return YuvLut(np.rint(y).astype(np.uint8), np.rint(c).astype(np.int16))


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _build_fine(delta, out):  # pragma: no cover
    """Bilinear interpolation of each luma node's (Cb, Cr) slice at every code pair, exact in
    1 / (D_ONE · 64) code values, rounded half up to 1 / F_ONE, packed (see module doc)."""
    one = 1 << C_SHIFT
    shift = D_BITS + 2 * C_SHIFT - F_BITS
    half = 1 << (shift - 1)
    along_cr = np.empty((NC, 256, 2), np.int32)
    for k in range(NY):
        for iu in range(NC):
            for v in range(256):
                iv = v >> C_SHIFT
                fv = v & (one - 1)
                for ch in range(2):
                    along_cr[iu, v, ch] = (np.int32(delta[iu, iv, k, ch]) * (one - fv)
                                           + np.int32(delta[iu, iv + 1, k, ch]) * fv)
        for u in range(256):
            iu = u >> C_SHIFT
            fu = u & (one - 1)
            lo, hi = along_cr[iu], along_cr[iu + 1]
            base = k * _PLANE + u * 256
            for v in range(256):
                du = (lo[v, 0] * (one - fu) + hi[v, 0] * fu + half) >> shift
                dv = (lo[v, 1] * (one - fu) + hi[v, 1] * fu + half) >> shift
                out[base + v] = (dv << 16) | (du & 0xFFFF)


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _luma_rows(y0, y1, o0, o1, y_curve, sums, wc):  # pragma: no cover
    """The luma curve for one pair of rows, and their 2x2 block sums into ``sums``."""
    for j in range(wc):
        c = 2 * j
        a, b, d, e = y0[c], y0[c + 1], y1[c], y1[c + 1]
        o0[c] = y_curve[a]
        o0[c + 1] = y_curve[b]
        o1[c] = y_curve[d]
        o1[c + 1] = y_curve[e]
        sums[j] = np.int32(a) + np.int32(b) + np.int32(d) + np.int32(e)


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _guide_row(up, mid, down, cols, guide, wc):  # pragma: no cover
    """Guide luma of a row: the mean of 3x3 blocks (edge columns replicated, rounded half up)
    clamped to the sample's own block mean ± GUIDE_RANGE."""
    for j in range(wc):
        cols[j + 1] = up[j] + mid[j] + down[j]
    cols[0] = cols[1]
    cols[wc + 1] = cols[wc]
    for j in range(wc):
        s = cols[j] + cols[j + 1] + cols[j + 2]
        g = ((2 * s + _GUIDE_PIXELS) * _GUIDE_MUL) >> _GUIDE_SHIFT  # (2s + 36) // 72
        own = (mid[j] + 2) >> 2
        guide[j] = min(max(g, own - GUIDE_RANGE), own + GUIDE_RANGE)


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _read_row(u, v, guide, fine, lo, hi, wc):  # pragma: no cover
    """The fine-table entries at the luma nodes below and above each sample's guide luma."""
    for j in range(wc):  # unsigned: no negative-index wrap-around per read (~1.5x faster)
        i = np.uint32(((guide[j] >> Y_SHIFT) << 16) | (np.int32(u[j]) << 8) | np.int32(v[j]))
        lo[j] = fine[i]
        hi[j] = fine[i + _PLANE_U]


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _chroma_row(u, v, uo, vo, guide, lo, hi, wc):  # pragma: no cover
    """Linear interpolation in luma of the two entries, added to (Cb, Cr), clamped."""
    for j in range(wc):
        f = guide[j] & _Y_MASK
        a, b = lo[j], hi[j]
        du = (((a & 0xFFFF) ^ 0x8000) - 0x8000) * (_Y_ONE - f) \
            + (((b & 0xFFFF) ^ 0x8000) - 0x8000) * f
        dv = (a >> 16) * (_Y_ONE - f) + (b >> 16) * f
        cu = np.int32(u[j]) + ((du + _OUT_HALF) >> _OUT_SHIFT)
        cv = np.int32(v[j]) + ((dv + _OUT_HALF) >> _OUT_SHIFT)
        uo[j] = min(max(cu, 0), 255)
        vo[j] = min(max(cv, 0), 255)


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _apply_420(y_in, ys, u_in, us, v_in, vs, y_out, yso, u_out, uso, v_out, vso, hc, wc,
               y_curve, fine):  # pragma: no cover
    """Planes as flat 1-D buffers with their row strides (contiguous rows: vectorisable)."""
    ring = np.empty((3, wc), np.int32)  # block sums of three block rows (row r in ring[r % 3])
    cols = np.empty(wc + 2, np.int32)
    guide = np.empty(wc, np.int32)
    lo = np.empty(wc, np.int32)
    hi = np.empty(wc, np.int32)
    w = 2 * wc
    _luma_rows(y_in[0:w], y_in[ys:ys + w], y_out[0:w], y_out[yso:yso + w], y_curve, ring[0],
               wc)
    for i in range(hc):
        if i + 1 < hc:
            r0, r1 = (2 * i + 2) * ys, (2 * i + 3) * ys
            o0, o1 = (2 * i + 2) * yso, (2 * i + 3) * yso
            _luma_rows(y_in[r0:r0 + w], y_in[r1:r1 + w], y_out[o0:o0 + w], y_out[o1:o1 + w],
                       y_curve, ring[(i + 1) % 3], wc)
        mid = ring[i % 3]
        up = ring[(i - 1) % 3] if i > 0 else mid
        down = ring[(i + 1) % 3] if i + 1 < hc else mid
        _guide_row(up, mid, down, cols, guide, wc)
        u = u_in[i * us:i * us + wc]
        v = v_in[i * vs:i * vs + wc]
        _read_row(u, v, guide, fine, lo, hi, wc)
        _chroma_row(u, v, u_out[i * uso:i * uso + wc], v_out[i * vso:i * vso + wc], guide,
                    lo, hi, wc)


def _flat(plane: np.ndarray, rows: int, cols: int, name: str,
          output: bool = False) -> tuple[np.ndarray, int]:
    """A 2-D uint8 plane (rows may be strided, e.g. PyAV's padded lines) as a flat 1-D view
    covering its first ``rows`` x ``cols`` samples, and its row stride. An input plane in
    another layout is copied first; an output plane must already be laid out so (a copy would
    receive the result instead of the caller's plane)."""
    if plane.dtype != np.uint8 or plane.ndim != 2:
        raise ValueError(f"{name} plane must be 2-D uint8, got {plane.dtype} {plane.shape}")
    if plane.shape[0] < rows or plane.shape[1] < cols:
        raise ValueError(f"{name} plane {plane.shape} smaller than {(rows, cols)}")
    if plane.strides[1] != 1 or plane.strides[0] < cols:
        if output:
            raise ValueError(f"{name} plane must have contiguous, forward rows")
        plane = np.ascontiguousarray(plane)
    stride = plane.strides[0]
    if rows == 0 or cols == 0:
        return np.empty(0, np.uint8), stride
    size = (rows - 1) * stride + cols
    return np.lib.stride_tricks.as_strided(plane, shape=(size,), strides=(1,)), stride


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
    if lut.chroma_delta.shape != (NC, NC, NY, 2):
        raise ValueError(f"chroma table shape {lut.chroma_delta.shape} != {(NC, NC, NY, 2)}")
    if hc == 0 or wc == 0:
        return
    yi, ys = _flat(y_in, 2 * hc, 2 * wc, "input Y")
    ui, us = _flat(u_in, hc, wc, "input U")
    vi, vs = _flat(v_in, hc, wc, "input V")
    yo, yso = _flat(y_out, 2 * hc, 2 * wc, "output Y", output=True)
    uo, uso = _flat(u_out, hc, wc, "output U", output=True)
    vo, vso = _flat(v_out, hc, wc, "output V", output=True)
    _apply_420(yi, ys, ui, us, vi, vs, yo, yso, uo, uso, vo, vso, hc, wc, lut.y_curve,
               lut.fine_table)


def compile_kernels() -> None:
    """Compile the kernels now (numba caches them on disk beside this module, so this is done
    once per install, not per process): ``make install`` calls it, so a user's first recolour
    does not spend ~20 s compiling, and benchmarks do not time the compiler."""
    y = np.zeros((2, 2), np.uint8)
    c = np.zeros((1, 1), np.uint8)
    shifted = YuvLut(_IDENTITY.y_curve, _IDENTITY.chroma_delta + 1)
    apply_yuv420_copy(y, c, c, mix([_IDENTITY, shifted], [0.5, 0.5]))


def apply_yuv420_copy(y: np.ndarray, u: np.ndarray, v: np.ndarray, lut: YuvLut
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convenience: new (even-cropped) planes with ``lut`` applied."""
    hc, wc = y.shape[0] // 2, y.shape[1] // 2
    out = (np.empty((2 * hc, 2 * wc), np.uint8), np.empty((hc, wc), np.uint8),
           np.empty((hc, wc), np.uint8))
    apply_yuv420((y, u, v), out, lut)
    return out
