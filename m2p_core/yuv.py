"""The video's colour encoding: Y'CbCr matrix (BT.601/709/2020) and range (limited/full).

Conversions are colour-science's ``YCbCr_to_RGB`` / ``RGB_to_YCbCr`` (8-bit code values in,
R'G'B' in [0, 1] out, and back) written out in numpy; code values are floats on the 8-bit scale
(0..255). The transfer function is taken as sRGB (BT.709's OETF
differs by little, and both are displayed on sRGB-like screens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (Kr, Kb) luma weights, as colour-science's ``WEIGHTS_YCBCR``
WEIGHTS = {"ITU-R BT.709": (0.2126, 0.0722), "ITU-R BT.601": (0.299, 0.114),
           "ITU-R BT.2020": (0.2627, 0.0593), "SMPTE-240M": (0.2122, 0.0865)}
#: FFmpeg AVColorSpace values -> weights names.
_AVCOL_SPC = {1: "ITU-R BT.709", 5: "ITU-R BT.601", 6: "ITU-R BT.601", 9: "ITU-R BT.2020",
              10: "ITU-R BT.2020", 7: "SMPTE-240M"}
AVCOL_RANGE_MPEG = 1  # limited (16..235)
AVCOL_RANGE_JPEG = 2  # full (0..255)


@dataclass(frozen=True)
class YuvSpec:
    matrix: str = "ITU-R BT.709"
    full_range: bool = False

    @staticmethod
    def from_av(colorspace: int | None, color_range: int | None, height: int,
                pix_fmt: str = "yuv420p") -> YuvSpec:
        """From a decoded frame's tags; unspecified values follow FFmpeg/player defaults
        (BT.709 from 720 lines up, else BT.601; limited range unless a ``yuvj`` format)."""
        matrix = _AVCOL_SPC.get(int(colorspace or 0))
        if matrix is None:
            matrix = "ITU-R BT.709" if height >= 720 else "ITU-R BT.601"
        if color_range in (AVCOL_RANGE_MPEG, AVCOL_RANGE_JPEG):
            full = color_range == AVCOL_RANGE_JPEG
        else:
            full = pix_fmt.startswith("yuvj")
        return YuvSpec(matrix, full)

    @property
    def av_colorspace(self) -> int:
        return {"ITU-R BT.709": 1, "ITU-R BT.601": 6, "ITU-R BT.2020": 9, "SMPTE-240M": 7}[
            self.matrix]

    @property
    def av_color_range(self) -> int:
        return AVCOL_RANGE_JPEG if self.full_range else AVCOL_RANGE_MPEG

    def _ranges(self) -> tuple[float, float, float, float]:
        """(Y offset, Y scale, C centre, C scale) of the 8-bit code values."""
        if self.full_range:
            return 0.0, 255.0, 128.0, 255.0
        return 16.0, 219.0, 128.0, 224.0

    def to_srgb01(self, codes: np.ndarray) -> np.ndarray:
        """(..., 3) Y'CbCr code values (0..255 floats) -> R'G'B' in [0, 1] (unclipped)."""
        codes = np.asarray(codes, dtype=np.float64)
        y0, ys, c0, cs = self._ranges()
        kr, kb = WEIGHTS[self.matrix]
        y = (codes[..., 0] - y0) * (1 / ys)
        cb = (codes[..., 1] - c0) * (1 / cs)
        cr = (codes[..., 2] - c0) * (1 / cs)
        r = y + (2 - 2 * kr) * cr
        b = y + (2 - 2 * kb) * cb
        g = (y - kr * r - kb * b) / (1 - kr - kb)
        return np.stack([r, g, b], axis=-1)

    def from_srgb01(self, rgb01: np.ndarray) -> np.ndarray:
        """(..., 3) non-linear R'G'B' -> Y'CbCr code values (0..255 floats, unrounded)."""
        rgb01 = np.asarray(rgb01, dtype=np.float64)
        y0, ys, c0, cs = self._ranges()
        kr, kb = WEIGHTS[self.matrix]
        r, g, b = rgb01[..., 0], rgb01[..., 1], rgb01[..., 2]
        y = kr * r + (1 - kr - kb) * g + kb * b
        cb = 0.5 * (b - y) / (1 - kb)
        cr = 0.5 * (r - y) / (1 - kr)
        return np.stack([y * ys + y0, cb * cs + c0, cr * cs + c0], axis=-1)
