"""Moving RGB test patterns for generated videos: colour bars, a gradient, and a "natural"
landscape pan with a face (skin tones, foliage, sky) for judging a grade by eye."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["PATTERNS", "pattern_frames"]


PATTERNS = ("bars", "gradient", "natural")  # natural: landscape pan with a face (skin tones)


def pattern_frames(kind: str, width: int, height: int) -> Iterator[np.ndarray]:
    """Infinite stream of moving RGB24 test frames (height, width, 3) uint8."""
    scene = None
    x = np.arange(width, dtype=np.float32) / width
    y = np.arange(height, dtype=np.float32)[:, None] / height
    bars = np.array([[255, 255, 255], [255, 255, 0], [0, 255, 255], [0, 255, 0],
                     [255, 0, 255], [255, 0, 0], [0, 0, 255], [16, 16, 16]], dtype=np.uint8)
    i = 0
    while True:
        t = i / 50.0
        if kind == "bars":
            col = ((x + t * 0.2) % 1.0 * len(bars)).astype(np.int64)
            row = bars[col][None, :, :]  # (1, W, 3)
            shade = (0.55 + 0.45 * np.cos(2 * np.pi * (y + t * 0.1)))[:, :, None]  # (H, 1, 1)
            frame = (row * shade).astype(np.uint8)
        elif kind == "gradient":
            hue = (x[None, :] + 0.5 * y + t * 0.1) % 1.0
            rgb = 0.5 + 0.5 * np.cos(2 * np.pi * (hue[:, :, None] - np.array([0.0, 1 / 3, 2 / 3])))
            light = 0.35 + 0.65 * (1.0 - y[:, :, None])
            frame = (255.0 * rgb * light).astype(np.uint8)
        elif kind == "natural":
            if scene is None:
                scene = _natural_scene(width, height)
            frame = _natural_frame(scene, i, width, height)
        else:
            raise ValueError(f"unknown pattern {kind!r}; use one of {PATTERNS}")
        yield np.ascontiguousarray(frame)
        i += 1


def _natural_scene(width: int, height: int) -> dict:
    """A landscape canvas wider than the frame (sky, sun, hills, foliage, water) and a face."""
    rng = np.random.default_rng(7)
    cw = width + width // 2
    x = np.arange(cw, dtype=np.float32)[None, :] / width
    y = np.arange(height, dtype=np.float32)[:, None] / height
    sky = np.array([70, 130, 205], np.float32) * (1 - y[..., None]) + np.array(
        [235, 200, 160], np.float32) * y[..., None]
    img = np.broadcast_to(sky, (height, cw, 3)).copy()
    sun = np.exp(-(((x - 0.8) * 1.0) ** 2 + ((y - 0.18) * 1.6) ** 2) / 0.004)[..., None]
    img = img * (1 - sun) + np.array([255, 240, 190], np.float32) * sun
    ridge = 0.55 + 0.06 * np.sin(x * 7.0) + 0.03 * np.sin(x * 23.0 + 1.0)
    hill = np.clip((y - ridge) * height / 3.0, 0, 1)[..., None]
    tex = rng.normal(0, 1, (height // 4 + 1, cw // 4 + 1)).astype(np.float32)
    tex = np.kron(tex, np.ones((4, 4), np.float32))[:height, :cw, None]
    green = np.array([60, 120, 45], np.float32) * (1.0 - 0.5 * y[..., None]) + 18 * tex
    img = img * (1 - hill) + green * hill
    water = np.clip((y - 0.82) * height / 2.0, 0, 1)[..., None]
    img = img * (1 - water) + (np.array([40, 90, 120], np.float32) + 10 * tex) * water
    # a face: skin ellipse with shading, dark hair, red shirt
    fh = max(8, height // 3)
    fy, fx = np.mgrid[0:fh, 0:fh].astype(np.float32) / fh - 0.5
    face = ((fx / 0.32) ** 2 + (fy / 0.42) ** 2) < 1.0
    hair = (((fx / 0.36) ** 2 + ((fy + 0.1) / 0.42) ** 2) < 1.0) & (fy < -0.18)
    skin = np.array([224, 172, 140], np.float32) * (1.0 - 0.35 * (fx + 0.5))[..., None]
    sprite = np.zeros((fh, fh, 3), np.float32)
    sprite[face] = skin[face]
    sprite[hair] = [55, 35, 25]
    mask = (face | hair).astype(np.float32)[..., None]
    grain = np.clip(rng.normal(0, 3.0, (8, height, width, 1)), -127, 127).astype(np.int16)
    return {"canvas": np.clip(img, 0, 255).astype(np.uint8), "sprite": sprite.astype(np.uint8),
            "mask": mask[..., 0] > 0, "grain": grain}


def _natural_frame(scene: dict, i: int, width: int, height: int) -> np.ndarray:
    cw = scene["canvas"].shape[1]
    off = int((cw - width) * (0.5 + 0.5 * np.sin(i / 120.0)))
    frame = scene["canvas"][:, off : off + width].astype(np.int16)
    sp, m = scene["sprite"], scene["mask"]
    fh = sp.shape[0]
    if fh < width and fh < height:
        x0 = int((width - fh) * (0.3 + 0.2 * np.sin(i / 45.0)))
        y0 = int((height - fh) * 0.55)
        frame[y0 : y0 + fh, x0 : x0 + fh][m] = sp[m]
        frame[y0 + fh : y0 + fh + fh // 2, x0 + fh // 6 : x0 + fh - fh // 6] = [170, 30, 40]
    frame += scene["grain"][i % len(scene["grain"])]
    return np.clip(frame, 0, 255).astype(np.uint8)
