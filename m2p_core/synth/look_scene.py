"""A small procedural frame for judging recolouring looks (issue 15): the subjects a look tears.

:func:`look_test_frame` paints, in CIELAB, a scene of the kinds of content on which a colour
transfer that is not smooth in colour space breaks up:

- ``sky``: a blue gradient with a little noise (smooth gradients band or split),
- ``foliage``: a tree crown and grass of blade-like texture, many greens of close hue with
  noise (turned into interleaved blades of two palette colours by a tearing transfer),
- ``ramp``: a grey ramp L* 5 -> 95 (a "grey card" strip: hue flips along it are visible),
- ``grey``: a grey character — neutral clothing with shading and noise, C* < 3,
- ``skin``: the character's face, a shaded skin tone,
- ``car``: near-grey car paint, C* ≈ 3 with metallic-flake noise (its hue is noise),
- ``hills``: hazy distant hills, a muted blue-green.

Everything is deterministic for a given seed. The frame is (H, W, 3) uint8 sRGB.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from m2p_core.colour.space import gamut_map_lab, lab_to_srgb01

REGIONS = ("sky", "hills", "foliage", "ramp", "grey", "skin", "car")


def _unit_noise(rng: np.random.Generator, shape: tuple[int, int],
                sigma: tuple[float, float]) -> np.ndarray:
    """Gaussian-filtered white noise rescaled to unit standard deviation, (H, W)."""
    n = gaussian_filter(rng.normal(0.0, 1.0, shape), sigma, mode="wrap")
    return n / max(float(n.std()), 1e-9)


def _lch(l_star: np.ndarray, c: np.ndarray, h_deg: np.ndarray) -> np.ndarray:
    h = np.radians(h_deg)
    return np.stack(np.broadcast_arrays(l_star, c * np.cos(h), c * np.sin(h)), axis=-1)


def look_test_frame(width: int = 192, height: int = 128, seed: int = 0
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The look test frame and its regions.

    Parameters
    ----------
    width, height : int
        Frame size in pixels (the layout scales; 192 x 128 is the test size).
    seed : int
        Seed of the textures and noise.

    Returns
    -------
    rgb : np.ndarray
        (height, width, 3) uint8 sRGB.
    masks : dict[str, np.ndarray]
        Region name (:data:`REGIONS`) -> (height, width) bool mask; the masks do not overlap.
    """
    rng = np.random.default_rng(seed)
    h, w = height, width
    y = (np.arange(h, dtype=np.float64)[:, None] + 0.5) / h  # 0 top .. 1 bottom
    x = (np.arange(w, dtype=np.float64)[None, :] + 0.5) / w
    y, x = np.broadcast_arrays(y, x)
    lab = np.zeros((h, w, 3))
    region = np.full((h, w), "", dtype=object)

    # sky: deeper blue at the top, paler toward the horizon
    t = np.clip(y / 0.36, 0, 1)
    sky = np.stack([58 + 22 * t, -3 - 2 * t, -33 + 19 * t], axis=-1)
    sky += 0.6 * rng.normal(0, 1, (h, w, 3))
    lab[:] = sky
    region[:] = "sky"

    # hazy hills on the horizon
    ridge = 0.30 + 0.04 * np.sin(9.0 * x) + 0.02 * np.sin(23.0 * x + 1.0)
    hills = y > ridge
    haze = np.clip((y - ridge) / 0.15, 0, 1)
    lab[hills] = np.stack([62 - 10 * haze, -9 - 3 * haze, 2 + 4 * haze], axis=-1)[hills]
    lab[hills] += 0.8 * rng.normal(0, 1, (int(hills.sum()), 3))
    region[hills] = "hills"

    # foliage: grass (lower left) and a tree crown (upper left); blade texture: noise
    # stretched vertically, many greens of close hue
    blades = _unit_noise(rng, (h, w), (3.5, 0.6))
    clumps = _unit_noise(rng, (h, w), (6.0, 6.0))
    fine = _unit_noise(rng, (h, w), (0.7, 0.7))
    grass = y > 0.52 + 0.03 * np.sin(13 * x)
    crown = ((x - 0.17) / 0.18) ** 2 + ((y - 0.20) / 0.24) ** 2 < 1.0
    trunk = (np.abs(x - 0.16) < 0.015) & (y > 0.35) & (y <= 0.60)
    foliage = grass | crown
    sun = np.where(crown, 0.5 - (y - 0.2) / 0.5, 0.7 - (y - 0.52) / 0.48 + 0.5 * (x - 0.5))
    green = _lch(47 + 12 * sun + 8 * blades + 3 * clumps + 1.2 * fine,
                 34 + 5 * clumps + 3 * blades,
                 128 + 6 * clumps + 3 * blades)
    lab[foliage] = green[foliage]
    region[foliage] = "foliage"
    lab[trunk] = [30.0, 8.0, 14.0]
    region[trunk] = "hills"  # bark: counted with the background

    # a grey ramp strip (a grey card), L* 5 -> 95 left to right
    ramp = (y > 0.40) & (y < 0.48)
    lab[ramp] = np.stack([5 + 90 * x, 0 * x, 0 * x], axis=-1)[ramp]
    region[ramp] = "ramp"

    # near-grey car paint, lower right: shaded body, highlight streak, flake noise
    car = (x > 0.62) & (y > 0.74) & (((x - 0.81) / 0.21) ** 2 + ((y - 1.0) / 0.27) ** 2 < 1.0)
    flake = rng.normal(0, 1, (h, w, 2))
    streak = np.exp(-(((y - 0.80) - 0.1 * (x - 0.8)) / 0.03) ** 2)
    paint = np.stack([46 + 14 * (1 - y) / 0.26 + 22 * streak,
                      1.0 + 1.2 * flake[..., 0], 2.5 + 1.2 * flake[..., 1]], axis=-1)
    lab[car] = paint[car]
    region[car] = "car"

    # a character: neutral grey clothing (shaded, noisy) and a face of skin tone
    body = ((x - 0.75) / 0.09) ** 2 + ((y - 0.66) / 0.16) ** 2 < 1.0
    body &= ~car
    cloth = np.stack([58 - 14 * (x - 0.66) / 0.18 + 2.0 * _unit_noise(rng, (h, w), (1.0, 1.0)),
                      0.8 * rng.normal(0, 1, (h, w)), 0.8 * rng.normal(0, 1, (h, w))], axis=-1)
    lab[body] = cloth[body]
    region[body] = "grey"
    face = ((x - 0.75) / 0.045) ** 2 + ((y - 0.44) / 0.07) ** 2 < 1.0
    skin = np.stack([72 - 14 * (x - 0.705) / 0.09 + 0.8 * rng.normal(0, 1, (h, w)),
                     14 + 0.8 * rng.normal(0, 1, (h, w)), 19 + 0.8 * rng.normal(0, 1, (h, w))],
                    axis=-1)
    lab[face] = skin[face]
    region[face] = "skin"

    rgb01 = np.clip(lab_to_srgb01(gamut_map_lab(lab)), 0.0, 1.0)
    rgb = np.rint(rgb01 * 255.0).astype(np.uint8)
    masks = {name: region == name for name in REGIONS}
    return rgb, masks


#: mood -> (hex colours, weights): a plausible palette of each Russell quadrant, to grade the
#: test scene with. Tense and happy each hold a small vivid accent (the 5% cyan, index 0, and
#: the 5% teal, index 3) — the colours the old transfer let claim large parts of a frame.
MOOD_PALETTES = {
    "happy": (["#ffd23f", "#ff9f1c", "#7bc950", "#2ec4b6", "#fff3b0"],
              [0.30, 0.25, 0.25, 0.05, 0.15]),
    "tense": (["#1bb9d8", "#510d05", "#c01201", "#fed1ae", "#dd4901"],
              [0.05, 0.18, 0.35, 0.05, 0.37]),
    "sad": (["#1f2a3a", "#3e5068", "#6b7b8c", "#a3adb8", "#c9b79c"],
            [0.30, 0.25, 0.20, 0.15, 0.10]),
    "calm": (["#2f4f4f", "#5f9e8f", "#a8c5b5", "#e8e4d8", "#d9a5a0"],
             [0.15, 0.25, 0.25, 0.25, 0.10]),
}
