"""Training manifests: a CSV of audio paths with emotion labels.

Required columns: ``path`` (absolute, or relative to the manifest's folder) and either
``quadrant`` (Q1..Q4, Russell plane) or both ``valence`` and ``arousal`` (numbers in [-1, 1]).
Optional: ``artist`` (used for artist-disjoint splits; missing -> each row its own group),
``weight`` or ``quadrant_tag_ratio`` (per-example loss weight, default 1), ``clip_id``.
``../shared/data/emotion4q/labels.csv`` is such a manifest.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from m2p_core.model.russell import QUADRANT_SIGNS, quadrant_of


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class ManifestRow:
    clip_id: str
    path: str
    valence: float  # target in [-1, 1]
    arousal: float
    artist: str
    weight: float

    @property
    def quadrant(self) -> str:
        return quadrant_of(self.valence, self.arousal)


def read_manifest(manifest_path: str | os.PathLike) -> list[ManifestRow]:
    base = Path(manifest_path).resolve().parent
    rows: list[ManifestRow] = []
    with open(manifest_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or [])
        if "path" not in cols:
            raise ManifestError(f"{manifest_path}: needs a 'path' column")
        if "quadrant" not in cols and not {"valence", "arousal"} <= cols:
            raise ManifestError(f"{manifest_path}: needs 'quadrant' or 'valence'+'arousal'")
        for i, r in enumerate(reader):
            if "quadrant" in cols and r.get("quadrant"):
                q = r["quadrant"].strip().upper()
                if q not in QUADRANT_SIGNS:
                    raise ManifestError(f"{manifest_path} row {i + 2}: bad quadrant {q!r}")
                v, a = (float(s) for s in QUADRANT_SIGNS[q])
            elif {"valence", "arousal"} <= cols:
                v, a = float(r["valence"]), float(r["arousal"])
            else:
                raise ManifestError(f"{manifest_path} row {i + 2}: empty quadrant")
            p = Path(r["path"])
            path = str(p if p.is_absolute() else base / p)
            w = r.get("weight") or r.get("quadrant_tag_ratio") or "1"
            rows.append(
                ManifestRow(
                    clip_id=r.get("clip_id") or f"row{i}",
                    path=path,
                    valence=v,
                    arousal=a,
                    artist=(r.get("artist") or "").strip() or f"__row{i}",
                    weight=float(w),
                )
            )
    if not rows:
        raise ManifestError(f"{manifest_path}: no rows")
    return rows
