"""Before/after stills of the recolouring looks (issue 15) and their tearing table.

Two procedural pictures — the look test frame (:mod:`m2p_core.synth.look_scene`: textured foliage,
grey ramp, grey character, skin, near-grey car paint, sky) and the synthetic landscape of the
demo/bench footage (sky gradient, hills, water, a face) — each recoloured toward four mood
palettes (happy, tense, sad, calm; Russell's quadrants) with each look:

- ``rank``: Chang et al.'s lightness-rank transfer (the pre-issue-15 default, for comparison),
- ``transfer``: the default transfer (optimal-transport matching, smooth field),
- ``grade``: the palette-driven colour grade.

Writes out/looks/<picture>_<mood>.png (columns: before, rank, transfer, grade; 2x nearest
upscale) and out/looks/<picture>_<look>_<mood>.png (before | after), and prints, per picture,
mood and look: the tearing stats (p99 of the output/input ΔE76 ratio of adjacent pixel pairs
2–6 ΔE apart, % of pairs > 4x, mean move), the largest output C* of near-neutral input
(C* < 5), and the share of the frame nearest to the palette's smallest colour (and how much of
it the look claimed).

``--figures DIR`` also writes, per picture, the README's figure ``DIR/looks_<picture>.jpg``:
one row per mood (happy, tense, sad, calm), columns before, ``transfer`` (the default look) and
``grade``, each panel 320 pixels wide.

    python bench/look_stills.py [--strength 0.8] [--out out/looks] [--figures docs]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m2p_core.colour.space import hex_to_lab  # noqa: E402
from m2p_core.palette.extract import extract_palette_rgb  # noqa: E402
from m2p_core.recolor.grade_metrics import (  # noqa: E402
    claimed_share,
    neutral_stats,
    palette_share,
    tearing_stats,
)
from m2p_core.recolor.looks import make_look  # noqa: E402
from m2p_core.recolor.lut import apply_rgb_lut, bake_rgb_lut  # noqa: E402
from m2p_core.recolor.transfer import TransferParams  # noqa: E402
from m2p_core.synth.look_scene import MOOD_PALETTES, look_test_frame  # noqa: E402
from m2p_core.synth.patterns import pattern_frames  # noqa: E402

MOODS = MOOD_PALETTES
LOOKS = ("rank", "transfer", "grade")


def pictures() -> dict[str, np.ndarray]:
    frame, _ = look_test_frame(192, 128)
    landscape = next(pattern_frames("natural", 320, 180))
    return {"lookframe": frame, "landscape": landscape}


def params_of(look: str, strength: float) -> TransferParams:
    if look == "rank":
        return TransferParams(strength=strength, match="rank")
    return TransferParams(strength=strength, look=look)


#: the README figures' columns after "before": the product's looks (not the old rank transfer)
FIGURE_LOOKS = ("transfer", "grade")
FIGURE_PANEL_W = 320
FIGURE_GAP = 6


def figure(rows: list[list[np.ndarray]]) -> Image.Image:
    """Panels (H, W, 3) uint8 in rows, each scaled to :data:`FIGURE_PANEL_W` pixels wide, on a
    white ground with :data:`FIGURE_GAP`-pixel gaps."""
    h0, w0 = rows[0][0].shape[:2]
    ph = round(h0 * FIGURE_PANEL_W / w0)
    ncol = max(len(r) for r in rows)
    sheet = Image.new("RGB", (ncol * FIGURE_PANEL_W + (ncol - 1) * FIGURE_GAP,
                              len(rows) * ph + (len(rows) - 1) * FIGURE_GAP), "white")
    for i, row in enumerate(rows):
        for j, panel in enumerate(row):
            tile = Image.fromarray(panel).resize((FIGURE_PANEL_W, ph), Image.LANCZOS)
            sheet.paste(tile, (j * (FIGURE_PANEL_W + FIGURE_GAP), i * (ph + FIGURE_GAP)))
    return sheet


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strength", type=float, default=0.8, help="look strength (pipeline: 0.8)")
    ap.add_argument("--out", default=str(ROOT / "out" / "looks"))
    ap.add_argument("--figures", default=None, metavar="DIR",
                    help="also write DIR/looks_<picture>.jpg (the README's figures)")
    args = ap.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    print(f"strength {args.strength}; tearing bound p99 <= 3, > 4x <= 0.5 %, move >= 4; "
          f"greys (C* < 5) stay below C* 12")
    print(f"{'picture':10} {'mood':6} {'look':9} {'p99':>5} {'>4x %':>6} {'move':>5} "
          f"{'grey C*':>7} {'accent':>6} {'claimed':>7}")
    for pic_name, rgb in pictures().items():
        source, source_w = extract_palette_rgb(rgb)
        figure_rows = []
        for mood, (hexes, weights) in MOODS.items():
            target, w = hex_to_lab(hexes), np.asarray(weights)
            accent = int(np.argmin(w))
            row = [rgb]
            for look in LOOKS:
                lk = make_look(source, target, params_of(look, args.strength), source_w, w)
                out = apply_rgb_lut(rgb, bake_rgb_lut(lk))
                row.append(out)
                ts = tearing_stats(rgb, out)
                ns = neutral_stats(rgb, out)
                share = palette_share(out, target)[accent]
                claim = claimed_share(rgb, out, target)[accent]
                flag = "" if ts.passes() and ns.max_chroma <= 12.0 else "  FAIL"
                print(f"{pic_name:10} {mood:6} {look:9} {ts.p99:5.2f} {100 * ts.frac_over:6.2f} "
                      f"{ts.mean_move:5.1f} {ns.max_chroma:7.1f} {share:6.1%} {claim:7.1%}"
                      f"{flag}")
                pair = np.concatenate([rgb, out], axis=1)
                Image.fromarray(pair).resize((2 * pair.shape[1], 2 * pair.shape[0]),
                                             Image.NEAREST).save(
                    out_dir / f"{pic_name}_{look}_{mood}.png")
            sheet = np.concatenate(row, axis=1)
            Image.fromarray(sheet).resize((2 * sheet.shape[1], 2 * sheet.shape[0]),
                                          Image.NEAREST).save(out_dir / f"{pic_name}_{mood}.png")
            figure_rows.append([row[0], *(row[1 + LOOKS.index(look)] for look in FIGURE_LOOKS)])
        if args.figures:
            path = Path(args.figures) / f"looks_{pic_name}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            figure(figure_rows).save(path, quality=88)
            print(f"figure: {path}")
    print(f"stills in {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
