"""Palettes in the formats designers' and colourists' tools read.

One :class:`NamedPalette` per media (its representative palette) and one per section
(:mod:`m2p_core.palette.sections`), written as:

- ``cube``: Adobe/Resolve 3D LUT (``LUT_3D_SIZE``, red fastest), loadable by FFmpeg's ``lut3d``,
  DaVinci Resolve, Premiere/After Effects (Lumetri), OBS. The grade is the project's palette
  transfer (:class:`m2p_core.recolor.transfer.PaletteTransfer`, Chang et al. 2015) baked by
  :func:`m2p_core.recolor.lut.bake_rgb_lut`. A LUT is applied to footage the exporter has never
  seen, so
  the *source* palette is a neutral tonal ladder (:func:`neutral_source`): K greys at the
  lightness quantiles given by the target's weights. Shadows take on the darkest music colour,
  highlights the lightest, midtones those between; skin tones are protected and black/white stay.
- ``gpl``: GIMP / Inkscape / Krita palette (text).
- ``ase``: Adobe Swatch Exchange (binary; Illustrator, Photoshop, InDesign, Affinity): one group
  per palette, colours as RGB floats.
- ``css``: custom properties (``--m2p-color-1`` … and ``--m2p-weight-1`` …) on ``:root``, with
  the same properties overridden per section on ``[data-m2p-section="N"]``.
- ``json``: everything (hex, CIELAB, weights, times, valence/arousal).
- ``mpl``: a small JSON colormap description; :func:`load_mpl_colormap` turns it into a
  matplotlib colormap ready for ``matplotlib.colormaps.register``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from m2p_core.colour.space import lab_to_hex, lab_to_srgb01
from m2p_core.palette.sections import Section

FORMATS = ("cube", "gpl", "ase", "css", "json", "mpl")
LUT_SIZE = 33


@dataclass(frozen=True)
class NamedPalette:
    name: str
    palette_lab: np.ndarray  # (K, 3)
    weights: np.ndarray  # (K,)
    start_s: float = 0.0
    end_s: float = 0.0
    valence: float = 0.0
    arousal: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def hex(self) -> list[str]:
        return lab_to_hex(self.palette_lab)

    @property
    def rgb01(self) -> np.ndarray:
        return np.clip(lab_to_srgb01(self.palette_lab), 0.0, 1.0)

    @property
    def rgb255(self) -> np.ndarray:
        return np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in self.hex])

    @staticmethod
    def of_section(s: Section, name: str) -> NamedPalette:
        return NamedPalette(name, np.asarray(s.palette_lab, dtype=np.float64),
                            np.asarray(s.weights, dtype=np.float64), s.start_s, s.end_s,
                            s.valence, s.arousal, {"section": s.index + 1,
                                                   "windows": len(s.window_indices)})


def _fmt_time(s: float) -> str:
    m, sec = divmod(max(0.0, s), 60.0)
    return f"{int(m)}:{sec:04.1f}"


def describe(p: NamedPalette) -> str:
    return f"{p.name} ({_fmt_time(p.start_s)}-{_fmt_time(p.end_s)})"


# ----------------------------------------------------------------------------------- LUT (.cube)

def neutral_source(target_lab: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The neutral reference palette a target is graded from: K greys (a* = b* = 0) whose
    lightnesses split [0, 100] in proportion to the target's weights, assigned in lightness
    order (so a colour with more weight covers a wider tonal range)."""
    target_lab = np.asarray(target_lab, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    order = np.argsort(target_lab[:, 0], kind="stable")
    w = 0.5 / len(w) + 0.5 * w[order] / max(w.sum(), 1e-12)  # no tonal range collapses
    w = w / w.sum()
    centres = 100.0 * (np.cumsum(w) - 0.5 * w)
    src = np.zeros_like(target_lab)
    src[order, 0] = 8.0 + 0.84 * centres  # keep knots off pure black/white
    return src


def bake_lut(target_lab: np.ndarray, weights: np.ndarray, size: int = LUT_SIZE,
             strength: float = 1.0) -> np.ndarray:
    """(size, size, size, 3) float32 sRGB in [0, 1], indexed [r, g, b]: the palette grade."""
    from m2p_core.recolor.lut import bake_rgb_lut
    from m2p_core.recolor.transfer import PaletteTransfer, TransferParams

    transfer = PaletteTransfer(neutral_source(target_lab, weights), target_lab,
                               TransferParams(strength=strength))
    return bake_rgb_lut(transfer, size)


def cube_text(lut: np.ndarray, title: str) -> str:
    """A .cube file (Adobe Cube LUT spec 1.0): header, then size³ rows "r g b", red fastest."""
    n = lut.shape[0]
    if lut.shape != (n, n, n, 3):
        raise ValueError(f"LUT must be (N, N, N, 3), got {lut.shape}")
    safe = title.replace('"', "'").replace("\n", " ")
    lines = [f'TITLE "{safe}"', "# music2palette palette grade (Chang et al. 2015 transfer)",
             f"LUT_3D_SIZE {n}", "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    flat = np.clip(lut, 0.0, 1.0).transpose(2, 1, 0, 3).reshape(-1, 3)  # b, g, r: red fastest
    lines.extend(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in flat)
    return "\n".join(lines) + "\n"


def read_cube(text: str) -> np.ndarray:
    """Parse a .cube 3D LUT back into (N, N, N, 3) indexed [r, g, b]."""
    size, values = None, []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head = line.split()[0]
        if head == "LUT_3D_SIZE":
            size = int(line.split()[1])
        elif head[0].isdigit() or head[0] in "-.":
            values.append([float(v) for v in line.split()[:3]])
    if size is None or len(values) != size ** 3:
        raise ValueError("not a complete 3D .cube file")
    return np.asarray(values, dtype=np.float32).reshape(size, size, size, 3).transpose(2, 1, 0, 3)


def apply_lut_trilinear(image: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Trilinear lookup of an (H, W, 3) uint8 sRGB image (the convention of FFmpeg's
    ``lut3d=interp=trilinear`` and of :func:`m2p_core.recolor.lut.apply_rgb_lut`), rounded to
    uint8."""
    from m2p_core.recolor.lut import apply_rgb_lut

    return apply_rgb_lut(image, lut)


# ----------------------------------------------------------------------------------- GPL

def gpl_text(palettes: Sequence[NamedPalette], title: str, columns: int = 5) -> str:
    """A GIMP palette: all ``palettes`` one after the other, colours named by palette."""
    safe = " ".join(title.split())
    lines = ["GIMP Palette", f"Name: {safe}", f"Columns: {columns}", "#",
             "# music2palette: emotion-aligned palettes from music"]
    for p in palettes:
        lines.append(f"# {describe(p)}: valence {p.valence:+.2f}, arousal {p.arousal:+.2f}")
        for i, (rgb, hx, w) in enumerate(zip(p.rgb255, p.hex, p.weights, strict=True)):
            lines.append(f"{rgb[0]:3d} {rgb[1]:3d} {rgb[2]:3d}\t{p.name} {i + 1} {hx} "
                         f"({100 * w:.0f}%)")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------- ASE

_ASE_GROUP_START = 0xC001
_ASE_GROUP_END = 0xC002
_ASE_COLOUR = 0x0001
_ASE_GLOBAL = 0


def _ase_name(name: str) -> bytes:
    encoded = (name + "\0").encode("utf-16-be")
    return struct.pack(">H", len(encoded) // 2) + encoded


def _ase_block(kind: int, body: bytes) -> bytes:
    return struct.pack(">HI", kind, len(body)) + body


def ase_bytes(palettes: Sequence[NamedPalette]) -> bytes:
    """Adobe Swatch Exchange 1.0: 'ASEF', version 1.0, block count, then per palette a group
    start block, one colour entry per colour (UTF-16BE name, 'RGB ', 3 big-endian float32, type
    global), and a group end block."""
    blocks = []
    for p in palettes:
        blocks.append(_ase_block(_ASE_GROUP_START, _ase_name(describe(p))))
        for i, (rgb, hx) in enumerate(zip(p.rgb255, p.hex, strict=True)):
            body = (_ase_name(f"{p.name} {i + 1} {hx}") + b"RGB "
                    + struct.pack(">3f", *(rgb / 255.0)) + struct.pack(">H", _ASE_GLOBAL))
            blocks.append(_ase_block(_ASE_COLOUR, body))
        blocks.append(_ase_block(_ASE_GROUP_END, b""))
    return b"ASEF" + struct.pack(">HHI", 1, 0, len(blocks)) + b"".join(blocks)


# ----------------------------------------------------------------------------------- CSS / JSON

def _css_block(selector: str, p: NamedPalette, comment: str) -> list[str]:
    lines = [f"/* {comment} */", f"{selector} {{"]
    for i, hx in enumerate(p.hex):
        lines.append(f"  --m2p-color-{i + 1}: {hx};")
    for i, w in enumerate(p.weights):
        lines.append(f"  --m2p-weight-{i + 1}: {w:.4f};")
    lines.append(f"  --m2p-valence: {p.valence:.3f};")
    lines.append(f"  --m2p-arousal: {p.arousal:.3f};")
    lines.append("}")
    return lines


def css_text(media: NamedPalette, sections: Sequence[NamedPalette], title: str) -> str:
    safe = title.replace("*/", "* /")
    lines = [f"/* music2palette: {safe} */"]
    lines += _css_block(":root", media, "whole " + describe(media).replace("*/", ""))
    for p in sections:
        n = p.extra.get("section", 0)
        lines += _css_block(f'[data-m2p-section="{n}"]', p, describe(p).replace("*/", ""))
    return "\n".join(lines) + "\n"


def palette_json(p: NamedPalette) -> dict:
    return {"name": p.name, "start_s": round(p.start_s, 3), "end_s": round(p.end_s, 3),
            "valence": round(p.valence, 4), "arousal": round(p.arousal, 4),
            "hex": p.hex, "lab": np.round(p.palette_lab, 3).tolist(),
            "weights": np.round(p.weights, 5).tolist(), **p.extra}


def export_json(media: NamedPalette, sections: Sequence[NamedPalette], meta: dict) -> str:
    doc = {"format": "music2palette-palettes", "version": 1, **meta,
           "media": palette_json(media), "sections": [palette_json(s) for s in sections]}
    return json.dumps(doc, indent=2) + "\n"


# ----------------------------------------------------------------------------------- matplotlib

def mpl_json(media: NamedPalette, sections: Sequence[NamedPalette], name: str) -> str:
    """Colormap description: colours ordered dark to light (a sequential map reads well)."""
    def entry(p: NamedPalette) -> dict:
        order = np.argsort(p.palette_lab[:, 0], kind="stable")
        return {"name": p.name, "colors": [p.hex[i] for i in order],
                "weights": [round(float(p.weights[i]), 5) for i in order]}

    top = entry(media)
    doc = {"format": "music2palette-mpl-colormap", "version": 1, "name": name,
           "colors": top["colors"], "weights": top["weights"],
           "sections": [entry(s) for s in sections]}
    return json.dumps(doc, indent=2) + "\n"


def load_mpl_colormap(path: str, section: int | None = None, continuous: bool = True,
                      name: str | None = None):
    """A matplotlib colormap from an ``mpl`` export: the media's palette, or section
    ``section`` (1-based). ``continuous``: a LinearSegmentedColormap through the colours (dark to
    light), else a ListedColormap of exactly the K colours. Register it with
    ``matplotlib.colormaps.register(cmap)``."""
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap

    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != "music2palette-mpl-colormap":
        raise ValueError(f"{path} is not a music2palette colormap export")
    entry = doc if section is None else doc["sections"][section - 1]
    cmap_name = name or (doc["name"] if section is None else f"{doc['name']}_s{section:02d}")
    if continuous:
        return LinearSegmentedColormap.from_list(cmap_name, entry["colors"])
    return ListedColormap(entry["colors"], name=cmap_name)
