"""The run report: one self-contained HTML page (inline CSS, images as data: URIs, no script,
no network) to look at instead of Parquet.

Everything that comes from the outside world (file names, URIs, error messages) is escaped with
:func:`html.escape`; links are percent-encoded relative paths.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from m2p_core.model.russell import QUADRANT_NAMES
from m2p_core.outputs.plots import QUADRANT_STYLE
from m2p_core.palette.sections import Section


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass(frozen=True)
class Player:
    kind: str  # "audio" | "video"
    label: str
    src: str  # data: URI or a relative, percent-encoded link
    mime: str
    inline: bool  # src is a data: URI


@dataclass(frozen=True)
class Still:
    label: str
    before_src: str
    after_src: str


@dataclass
class MediaEntry:
    title: str
    source_uri: str
    media_id: str
    model_version: str
    duration_s: float
    windows: int
    valence: float
    arousal: float
    sections: list[Section]
    timeline_png: bytes | None
    va_png: bytes | None
    players: list[Player] = field(default_factory=list)
    stills: list[Still] = field(default_factory=list)
    anchor: str = ""


@dataclass(frozen=True)
class RunFacts:
    output: str
    media: int
    windows: int
    audio_s: float
    generated_videos: int
    recoloured: int
    failures: int
    model_versions: list[str]
    generated_at: str


def va_plot_png(rows: Sequence[Mapping[str, Any]], dpi: int = 90) -> bytes:
    """The media's path on Russell's plane: windows in time order, from light to dark dots."""
    rows = sorted(rows, key=lambda r: int(r["window_index"]))
    v = np.array([float(r["valence"]) for r in rows])
    a = np.array([float(r["arousal"]) for r in rows])
    fig = Figure(figsize=(3.6, 3.6), dpi=dpi, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for q, (x0, y0) in {"Q1": (0, 0), "Q2": (-1, 0), "Q3": (-1, -1), "Q4": (0, -1)}.items():
        ax.add_patch(_rect(x0, y0, QUADRANT_STYLE[q][1]))
        ax.text(x0 + 0.5, y0 + 0.9 if y0 == 0 else y0 + 0.1, f"{q} {QUADRANT_NAMES[q]}",
                ha="center", va="center", fontsize=8, color="#444444")
    ax.axhline(0, color="#888888", lw=0.7)
    ax.axvline(0, color="#888888", lw=0.7)
    ax.plot(v, a, color="#555555", lw=1.0, zorder=2)
    t = np.linspace(0.25, 1.0, len(v))
    ax.scatter(v, a, c=t, cmap="Greys", vmin=0, vmax=1, s=26, edgecolors="#222222",
               linewidths=0.6, zorder=3)
    if len(v):
        ax.annotate("start", (v[0], a[0]), textcoords="offset points", xytext=(5, 5), fontsize=7)
        ax.annotate("end", (v[-1], a[-1]), textcoords="offset points", xytext=(5, -10),
                    fontsize=7)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("valence")
    ax.set_ylabel("arousal")
    ax.set_title("valence / arousal path", fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    fig.clear()
    return buf.getvalue()


def _rect(x0: float, y0: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x0, y0), 1, 1, facecolor=colour, alpha=0.13, edgecolor="none", zorder=0)


# ----------------------------------------------------------------------------------- HTML

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
background:#f4f4f6}
header{background:#17171c;color:#fafafa;padding:22px 32px}
header h1{margin:0 0 4px;font-size:24px;font-weight:650}
header p{margin:0;color:#b8b8c4;font-size:13px}
main{max-width:1240px;margin:0 auto;padding:20px 24px 60px}
.facts{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 18px}
.fact{background:#fff;border-radius:10px;padding:10px 16px;min-width:120px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.fact b{display:block;font-size:22px}
.fact span{font-size:12px;color:#666;text-transform:uppercase;letter-spacing:.04em}
.fact.bad b{color:#b3261e}
nav{background:#fff;border-radius:10px;padding:10px 16px;margin-bottom:18px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
nav a{display:inline-flex;align-items:center;gap:6px;margin:3px 14px 3px 0;color:#1d1d1f;
text-decoration:none;font-size:14px}
nav a:hover{text-decoration:underline}
section.media{background:#fff;border-radius:12px;padding:18px 22px;margin:0 0 22px;
box-shadow:0 1px 3px rgba(0,0,0,.1)}
section.media h2{margin:0 0 2px;font-size:19px;word-break:break-all}
.meta{color:#666;font-size:12.5px;margin-bottom:10px;word-break:break-all}
.strip{display:flex;height:38px;border-radius:6px;overflow:hidden;margin:8px 0 14px}
.strip div{flex:1 1 0}
.grid{display:grid;grid-template-columns:minmax(0,1fr) 330px;gap:16px;align-items:start}
img.plot{width:100%;height:auto;border:1px solid #eee;border-radius:6px}
h3{font-size:14px;margin:16px 0 6px;color:#333;text-transform:uppercase;letter-spacing:.05em}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee;vertical-align:middle}
th{color:#666;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.sw{display:flex;height:22px;min-width:180px;border-radius:4px;overflow:hidden}
.sw div{height:100%}
.hex{font:12px ui-monospace,Menlo,Consolas,monospace;color:#555}
.q{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.players{display:flex;flex-wrap:wrap;gap:14px}
.players figure{margin:0}
.players figcaption{font-size:12px;color:#666;margin-bottom:4px;word-break:break-all}
video{max-width:480px;width:100%;border-radius:6px;background:#000}
audio{width:360px}
.stills{display:grid;grid-template-columns:1fr 1fr;gap:10px;max-width:820px}
.stills img{width:100%;border-radius:6px}
.muted{color:#888;font-size:13px}
table.failures td{word-break:break-all}
footer{color:#888;font-size:12px;text-align:center;margin-top:30px}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _swatches(hexes: Sequence[str], weights: Sequence[float] | None = None,
              cls: str = "sw") -> str:
    weights = list(weights) if weights is not None else [1.0] * len(hexes)
    cells = "".join(
        f'<div style="flex:{max(float(w), 0.02):.4f} 1 0;background:{_e(h)}" title="{_e(h)}">'
        "</div>" for h, w in zip(hexes, weights, strict=True))
    return f'<div class="{cls}">{cells}</div>'


def _quadrant_badge(q: str) -> str:
    colour = QUADRANT_STYLE.get(q, ("", "#999999"))[1]
    return (f'<span class="q" style="background:{colour}22;color:{colour};'
            f'border:1px solid {colour}66">{_e(q)} {_e(QUADRANT_NAMES.get(q, ""))}</span>')


def _fmt_t(s: float) -> str:
    m, sec = divmod(max(0.0, float(s)), 60.0)
    return f"{int(m)}:{sec:04.1f}"


def _media_html(m: MediaEntry) -> str:
    parts = [f'<section class="media" id="{_e(m.anchor)}">',
             f"<h2>{_e(m.title)}</h2>",
             f'<div class="meta">{_e(m.source_uri)} · {m.duration_s:.1f} s · {m.windows} windows'
             f" · model {_e(m.model_version)} · media id {_e(m.media_id[:12])}…</div>"]
    if m.sections:
        strip = "".join(
            f'<div style="flex:{max(s.end_s - s.start_s, 0.1):.3f} 1 0;display:flex">'
            + "".join(f'<div style="flex:{w:.4f} 1 0;background:{_e(h)}"></div>'
                      for h, w in zip(s.palette_hex, s.weights, strict=True))
            + "</div>" for s in m.sections)
        parts.append(f'<div class="strip" title="sections over time">{strip}</div>')
    parts.append('<div class="grid"><div>')
    if m.timeline_png:
        parts.append(f'<img class="plot" alt="palette timeline of {_e(m.title)}" '
                     f'src="{data_uri(m.timeline_png, "image/png")}">')
    parts.append("</div><div>")
    if m.va_png:
        parts.append(f'<img class="plot" alt="valence/arousal path of {_e(m.title)}" '
                     f'src="{data_uri(m.va_png, "image/png")}">')
    parts.append("</div></div>")

    parts.append("<h3>Sections</h3><table><tr><th>#</th><th>time</th><th>palette</th>"
                 "<th>colours</th><th>mood</th><th>valence</th><th>arousal</th></tr>")
    for s in m.sections:
        hexes = s.palette_hex
        parts.append(
            f"<tr><td>{s.index + 1}</td><td>{_fmt_t(s.start_s)}–{_fmt_t(s.end_s)}</td>"
            f"<td>{_swatches(hexes, s.weights)}</td>"
            f'<td class="hex">{_e(" ".join(hexes))}</td><td>{_quadrant_badge(s.quadrant)}</td>'
            f"<td>{s.valence:+.2f}</td><td>{s.arousal:+.2f}</td></tr>")
    parts.append("</table>")

    if m.players:
        parts.append('<h3>Listen &amp; watch</h3><div class="players">')
        for p in m.players:
            if p.inline or p.kind in ("audio", "video"):
                tag = "video" if p.kind == "video" else "audio"
                parts.append(
                    f"<figure><figcaption>{_e(p.label)}</figcaption>"
                    f'<{tag} controls preload="metadata"><source src="{_e(p.src)}" '
                    f'type="{_e(p.mime)}">'
                    f'<a href="{_e(p.src)}">{_e(p.label)}</a></{tag}>'
                    + ("" if p.inline else f' <a class="muted" href="{_e(p.src)}">open file</a>')
                    + "</figure>")
        parts.append("</div>")
    if m.stills:
        parts.append("<h3>Before / after</h3>")
        for st in m.stills:
            parts.append(
                f'<div class="stills"><figure><figcaption class="muted">before · {_e(st.label)}'
                f'</figcaption><img alt="before" src="{_e(st.before_src)}"></figure>'
                f'<figure><figcaption class="muted">after · {_e(st.label)}</figcaption>'
                f'<img alt="after" src="{_e(st.after_src)}"></figure></div>')
    parts.append("</section>")
    return "\n".join(parts)


def _failures_html(failures: Sequence[Mapping[str, Any]]) -> str:
    if not failures:
        return '<p class="muted">No failures.</p>'
    rows = ["<table class=\"failures\"><tr><th>input</th><th>stage</th><th>error</th>"
            "<th>message</th><th>run</th></tr>"]
    for f in failures:
        rows.append(f"<tr><td>{_e(f.get('source_uri', ''))}</td><td>{_e(f.get('stage', ''))}</td>"
                    f"<td>{_e(f.get('error_type', ''))}</td><td>{_e(f.get('message', ''))}</td>"
                    f"<td>{_e(f.get('run_id', ''))}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def render_report(entries: Sequence[MediaEntry], facts: RunFacts,
                  failures: Sequence[Mapping[str, Any]]) -> str:
    fact_cells = [
        ("media", facts.media), ("windows", facts.windows),
        ("audio", f"{facts.audio_s / 60:.1f} min" if facts.audio_s >= 120
         else f"{facts.audio_s:.0f} s"),
        ("generated videos", facts.generated_videos), ("recoloured", facts.recoloured),
    ]
    facts_html = "".join(f'<div class="fact"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
                         for k, v in fact_cells)
    bad = " bad" if facts.failures else ""
    facts_html += (f'<div class="fact{bad}"><b>{facts.failures}</b><span>failures</span></div>')
    nav = "".join(
        f'<a href="#{_e(m.anchor)}">'
        + (_swatches(m.sections[0].palette_hex, None, "sw") if m.sections else "")
        .replace('class="sw"', 'class="sw" style="min-width:60px;height:14px"')
        + f"{_e(m.title)}</a>" for m in entries)
    body = "\n".join(_media_html(m) for m in entries) or '<p class="muted">No timelines.</p>'
    models = ", ".join(facts.model_versions) or "—"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; \
media-src data: file: 'self'; style-src 'unsafe-inline'">
<title>music2palette report</title><style>{_CSS}</style></head>
<body><header><h1>music2palette report</h1>
<p>{_e(facts.output)} · generated {_e(facts.generated_at)} · model {_e(models)}</p></header>
<main><div class="facts">{facts_html}</div>
<nav>{nav}</nav>
{body}
<section class="media" id="failures"><h2>Failures</h2>{_failures_html(failures)}</section>
<footer>music2palette · palettes after Hu et al., Music2Palette (ACM MM 2025)</footer>
</main></body></html>
"""
