"""Recolour still images (PNG/JPEG/WebP) toward a target palette: extract, transfer, RGB 3D LUT."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image, ImageOps

from m2p_core.palette.extract import extract_palette_rgb
from m2p_core.recolor.looks import make_look
from m2p_core.recolor.lut import apply_rgb_lut, bake_rgb_lut
from m2p_core.recolor.transfer import TransferParams

#: input suffix -> (PIL format, save options)
IMAGE_FORMATS = {
    ".png": ("PNG", {}),
    ".jpg": ("JPEG", {"quality": 95}),
    ".jpeg": ("JPEG", {"quality": 95}),
    ".webp": ("WEBP", {"quality": 95}),
}


def recolor_rgb(image: np.ndarray, target: np.ndarray, params: TransferParams,
                target_weights: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> recoloured (H, W, 3) uint8 (strength 0: the input, exactly);
    the look is ``params.look`` (:func:`m2p_core.recolor.looks.make_look`), ``target_weights`` (K,)
    the target palette's weights (uniform if None)."""
    if params.strength == 0.0:
        return image.copy()
    source, source_weights = extract_palette_rgb(image)
    look = make_look(source, target, params, source_weights, target_weights)
    return apply_rgb_lut(image, bake_rgb_lut(look))


def image_format_of(path: str) -> tuple[str, dict]:
    ext = os.path.splitext(path)[1].lower()
    if ext not in IMAGE_FORMATS:
        raise ValueError(f"unsupported image type {ext!r} (PNG, JPEG, WebP)")
    return IMAGE_FORMATS[ext]


def recolor_image_bytes(data: bytes, name: str, target: np.ndarray,
                        params: TransferParams, target_weights: np.ndarray | None = None
                        ) -> bytes:
    """Encoded image in (format by ``name``'s suffix) -> recoloured image, same format."""
    fmt, options = image_format_of(name)
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im)
        alpha = im.getchannel("A") if im.mode in ("RGBA", "LA") else None
        rgb = np.asarray(im.convert("RGB"))
    out = Image.fromarray(recolor_rgb(rgb, target, params, target_weights))
    if alpha is not None and fmt != "JPEG":
        out.putalpha(alpha)
    buf = io.BytesIO()
    out.save(buf, format=fmt, **options)
    return buf.getvalue()
