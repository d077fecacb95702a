"""The video's colour encoding: Y'CbCr matrix (BT.601/709/2020) and range (limited/full).

Conversions go through colour-science (``colour.YCbCr_to_RGB`` / ``RGB_to_YCbCr``); code values
are floats on the 8-bit scale (0..255). The transfer function is taken as sRGB (BT.709's OETF
differs by little, and both are displayed on sRGB-like screens). colour-science is imported on
the first conversion: the transcode reads a stream's :class:`YuvSpec` without converting
anything, and the import (~0.7 s CPU) was most of a plain transcode's start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: FFmpeg AVColorSpace values -> colour-science weights names.
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

    def to_srgb01(self, codes: np.ndarray) -> np.ndarray:
        """(..., 3) Y'CbCr code values (0..255 floats) -> R'G'B' in [0, 1] (unclipped)."""
        from m2p_core.colour.lib import colour

        # in_int: code values (offsets 16/128 or 0/128 applied by colour-science; floats fine)
        return colour.YCbCr_to_RGB(np.asarray(codes, dtype=np.float64),
                                   K=colour.WEIGHTS_YCBCR[self.matrix], in_bits=8,
                                   in_legal=not self.full_range, in_int=True)

    def from_srgb01(self, rgb01: np.ndarray) -> np.ndarray:
        """(..., 3) non-linear R'G'B' -> Y'CbCr code values (0..255 floats, unrounded)."""
        from m2p_core.colour.lib import colour

        out = colour.RGB_to_YCbCr(np.asarray(rgb01, dtype=np.float64),
                                  K=colour.WEIGHTS_YCBCR[self.matrix], out_bits=8,
                                  out_legal=not self.full_range, out_int=False)
        out = out * 255.0  # legal range: code / 255; full range: Cb/Cr centred on 0
        if self.full_range:
            out[..., 1:] += 128.0
        return out
