"""What a run writes: timeline/failure rows, exports, plots, the HTML report, names, progress.

:mod:`.failures` — Failure rows in words: per failed input, the stage, a one-line reason and the fix
    FailedInput, STAGE_ORDER, PARTIAL, explain, by_input, display_name, console_lines
:mod:`.exports` — Palettes in the formats designers' and colourists' tools read
    FORMATS, LUT_SIZE, NamedPalette, describe, neutral_source, bake_lut, cube_text, read_cube,
    apply_lut_trilinear, gpl_text, ase_bytes, css_text, palette_json, export_json, mpl_json,
    load_mpl_colormap
:mod:`.naming` — Output file names derived from input URIs: readable, unique, and confined to one …
    output_stem
:mod:`.plots` — Static timeline plots: palettes and valence/arousal over a media item's time axis
    QUADRANT_STYLE, quadrant_of, render_timeline_png
:mod:`.progress` — Throttled progress lines for long local runs: counts (files, windows, frames, …
    Progress, Task, PROGRESS
:mod:`.report_html` — The run report: one HTML page (inline CSS and SVG, no script, no network) …
    data_uri, Player, Still, Link, MediaEntry, RunFacts, Timeline, strip_png, timeline_html,
    plane_svg, render_report, EXPLANATION, QUADRANT_COLOURS
:mod:`.timeline` — Timeline rows and failure rows: the Parquet contracts of docs/ARCHITECTURE.md …
    TIMELINE_SCHEMA, FAILURE_SCHEMA, TimelineParams, timeline_row, timeline_parquet_bytes,
    read_timeline_metadata, is_complete_for, failures_parquet_bytes, safe_text, failure_row

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, __doc__)
