"""What a run writes: timeline/failure rows, exports, plots, the HTML report, names, progress.

:mod:`.exports` — Palettes in the formats designers' and colourists' tools read
    FORMATS, LUT_SIZE, NamedPalette, describe, neutral_source, bake_lut, cube_text, read_cube,
    apply_lut_trilinear, gpl_text, ase_bytes, css_text, palette_json, export_json, mpl_json,
    load_mpl_colormap
:mod:`.naming` — Output file names derived from input URIs: readable, unique, and confined to
    one folder
    output_stem
:mod:`.plots` — Static timeline plots: palettes and valence/arousal over a media item's time axis
    QUADRANT_STYLE, quadrant_of, render_timeline_png
:mod:`.progress` — Throttled progress lines for long local runs: counts (files, windows,
    frames, ...) printed
    Progress, PROGRESS
:mod:`.report_html` — The run report: one self-contained HTML page (inline CSS, images as data:
    URIs, no script,
    data_uri, Player, Still, MediaEntry, RunFacts, va_plot_png, render_report
:mod:`.timeline` — Timeline rows and failure rows: the Parquet contracts of docs/ARCHITECTURE.md
"Contracts"
    TIMELINE_SCHEMA, FAILURE_SCHEMA, TimelineParams, timeline_row, timeline_parquet_bytes,
    read_timeline_metadata, is_complete_for, failures_parquet_bytes, safe_text, failure_row

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

_MODULES = {
    "FAILURE_SCHEMA": "timeline",
    "FORMATS": "exports",
    "LUT_SIZE": "exports",
    "MediaEntry": "report_html",
    "NamedPalette": "exports",
    "PROGRESS": "progress",
    "Player": "report_html",
    "Progress": "progress",
    "QUADRANT_STYLE": "plots",
    "RunFacts": "report_html",
    "Still": "report_html",
    "TIMELINE_SCHEMA": "timeline",
    "TimelineParams": "timeline",
    "apply_lut_trilinear": "exports",
    "ase_bytes": "exports",
    "bake_lut": "exports",
    "css_text": "exports",
    "cube_text": "exports",
    "data_uri": "report_html",
    "describe": "exports",
    "export_json": "exports",
    "failure_row": "timeline",
    "failures_parquet_bytes": "timeline",
    "gpl_text": "exports",
    "is_complete_for": "timeline",
    "load_mpl_colormap": "exports",
    "mpl_json": "exports",
    "neutral_source": "exports",
    "output_stem": "naming",
    "palette_json": "exports",
    "quadrant_of": "plots",
    "read_cube": "exports",
    "read_timeline_metadata": "timeline",
    "render_report": "report_html",
    "render_timeline_png": "plots",
    "safe_text": "timeline",
    "timeline_parquet_bytes": "timeline",
    "timeline_row": "timeline",
    "va_plot_png": "report_html",
}
__all__ = sorted(_MODULES)
__getattr__, __dir__ = lazy_exports(__name__, _MODULES)
