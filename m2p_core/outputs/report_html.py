"""The run report: one HTML page (inline CSS and SVG, no script, no network) to look at
instead of Parquet, small enough for a thousand tracks.

Per track, one time axis: the palette strip (each window's colours stacked by weight, a tiny
PNG stretched to the plot's width) above the valence and arousal curves (an SVG stretched to
the same width), so a colour sits exactly above the emotion that produced it; then the path on
Russell's valence/arousal plane, the sections, players and stills. Media files are *linked*
(relative links: the page lives in the run folder), never copied into the page, except audio
smaller than a cap. Nothing is drawn with matplotlib: a track costs a few kilobytes and
milliseconds.

Everything that comes from the outside world (file names, URIs, error messages) is escaped with
:func:`html.escape`; links are percent-encoded relative paths.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from m2p_core.model.russell import QUADRANT_NAMES
from m2p_core.outputs.failures import FailedInput
from m2p_core.palette.sections import Section

#: Russell quadrants: (name, colour) for badges and the plane's tints
QUADRANT_COLOURS = {"Q1": "#c99a00", "Q2": "#d7301f", "Q3": "#2c62c6", "Q4": "#2ca25f"}
VALENCE_COLOUR = "#111111"
AROUSAL_COLOUR = "#8e24aa"
EXPLANATION = ("Valence: how positive the music sounds (−1 sad or tense … +1 happy or calm). "
               "Arousal: how energetic it is (−1 calm or sad … +1 excited or tense).")
STRIP_HEIGHT_PX = 24
STRIP_MAX_COLUMNS = 480


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
    label: str  # e.g. "0:05"
    before_src: str
    after_src: str
    after_look: str | None = None  # the look the "after" was made with, when known
    looks: tuple[tuple[str, str], ...] = ()  # (look, src): the same moment under other looks


@dataclass(frozen=True)
class Link:
    label: str
    href: str  # relative, percent-encoded


@dataclass
class MediaEntry:
    title: str
    source_uri: str
    media_id: str
    model_version: str
    duration_s: float
    windows: int
    valence: float  # means over the windows
    arousal: float
    sections: list[Section]
    timeline: Timeline
    players: list[Player] = field(default_factory=list)
    stills: list[Still] = field(default_factory=list)
    exports: list[Link] = field(default_factory=list)
    anchor: str = ""


@dataclass(frozen=True)
class RunFacts:
    output: str
    media: int
    windows: int
    audio_s: float
    generated_videos: int
    recoloured: int
    failures: int  # failed inputs
    model_versions: list[str]
    generated_at: str
    exports_href: str | None = None  # the exports folder, when there is one


# ------------------------------------------------------------------------------ the timeline

@dataclass(frozen=True)
class Timeline:
    """What the time-axis plot needs from one track's rows (window order)."""

    start_s: np.ndarray
    end_s: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray
    palettes: list[list[str]]  # hex per window
    weights: list[np.ndarray]

    @classmethod
    def of_rows(cls, rows: Sequence[Mapping[str, Any]]) -> Timeline:
        rows = sorted(rows, key=lambda r: int(r["window_index"]))
        weights = []
        for r in rows:
            w = np.clip(np.asarray(r.get("weights") or [1.0] * len(r["palette_hex"]),
                                   dtype=np.float64), 0.0, None)
            weights.append(w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w)))
        return cls(
            start_s=np.array([float(r["start_s"]) for r in rows]),
            end_s=np.array([float(r["end_s"]) for r in rows]),
            valence=np.clip([float(r["valence"]) for r in rows], -1.0, 1.0),
            arousal=np.clip([float(r["arousal"]) for r in rows], -1.0, 1.0),
            palettes=[list(r["palette_hex"]) for r in rows],
            weights=weights,
        )

    @property
    def span(self) -> tuple[float, float]:
        lo = float(self.start_s.min()) if len(self.start_s) else 0.0
        hi = float(self.end_s.max()) if len(self.end_s) else 1.0
        return lo, hi if hi > lo else lo + 1.0

    @property
    def centres_s(self) -> np.ndarray:
        return 0.5 * (self.start_s + self.end_s)

    def cell_edges(self) -> np.ndarray:
        """Non-overlapping cells (n+1 edges): midpoints between window centres, so overlapping
        windows tile the time axis and each window owns the time around its centre."""
        lo, hi = self.span
        c = self.centres_s
        edges = np.concatenate([[lo], 0.5 * (c[:-1] + c[1:]), [hi]])
        return np.maximum.accumulate(edges)


def _hex_rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def strip_png(tl: Timeline, height: int = STRIP_HEIGHT_PX) -> bytes:
    """The palette strip: one pixel column per time step over the track, each window's colours
    stacked top to bottom with heights by weight. Shown stretched (pixelated) to the plot's
    width, it lies on the same time axis as the curves."""
    from PIL import Image

    lo, hi = tl.span
    edges = tl.cell_edges()
    n = len(tl.palettes)
    columns = int(min(STRIP_MAX_COLUMNS, max(n * 4, 8)))
    t = lo + (np.arange(columns) + 0.5) * (hi - lo) / columns
    cell = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, n - 1)
    stacks = np.zeros((n, height, 3), np.uint8)
    rows = np.arange(height) + 0.5
    for i, (hexes, w) in enumerate(zip(tl.palettes, tl.weights, strict=True)):
        bounds = np.cumsum(w) * height
        k = np.minimum(np.searchsorted(bounds, rows, side="right"), len(hexes) - 1)
        stacks[i] = np.array([_hex_rgb(h) for h in hexes], np.uint8)[k]
    image = np.ascontiguousarray(stacks[cell].transpose(1, 0, 2))  # (height, columns, 3)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _nice_step(span: float, most: int = 8) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if span / step <= most:
            return float(step)
    return 3600.0 * math.ceil(span / 3600.0 / most)


def _fmt_t(s: float) -> str:
    total = int(round(max(0.0, float(s))))
    h, rem = divmod(total, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _points(x: np.ndarray, y: np.ndarray) -> str:
    return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))


def timeline_html(tl: Timeline, sections: Sequence[Section] = ()) -> str:
    """The track's time axis: palette strip over valence/arousal curves over time ticks."""
    lo, hi = tl.span
    width, height = 1000.0, 100.0

    def x(t):
        return (np.asarray(t, dtype=np.float64) - lo) / (hi - lo) * width

    def y(v):
        return (1.0 - (np.asarray(v, dtype=np.float64) + 1.0) / 2.0) * height

    edges = tl.cell_edges()
    c = np.concatenate([[edges[0]], tl.centres_s, [edges[-1]]])  # held flat to the edges
    val = np.concatenate([tl.valence[:1], tl.valence, tl.valence[-1:]])
    aro = np.concatenate([tl.arousal[:1], tl.arousal, tl.arousal[-1:]])
    bounds = "".join(
        f'<line x1="{x(s.start_s):.1f}" y1="0" x2="{x(s.start_s):.1f}" y2="{height:g}" '
        'class="sb"/>' for s in list(sections)[1:])
    svg = (f'<svg class="curves" viewBox="0 0 {width:g} {height:g}" preserveAspectRatio="none" '
           'role="img" aria-label="valence and arousal over time">'
           f'<rect x="0" y="0" width="{width:g}" height="{height / 2:g}" class="pos"/>'
           f'<line x1="0" y1="{height / 2:g}" x2="{width:g}" y2="{height / 2:g}" class="zero"/>'
           f"{bounds}"
           f'<polyline points="{_points(x(c), y(val))}" class="val"/>'
           f'<polyline points="{_points(x(c), y(aro))}" class="aro"/></svg>')
    step = _nice_step(hi - lo)
    ticks = []
    t = math.ceil(lo / step) * step
    last = lo
    while t <= hi + 1e-9:
        pct = (t - lo) / (hi - lo) * 100.0
        if pct <= 92.0 or t == lo:
            ticks.append(f'<span style="left:{pct:.2f}%">{_fmt_t(t)}</span>')
            last = t
        t += step
    if (hi - last) / (hi - lo) > 0.08:  # the end, right-aligned
        ticks.append(f'<span class="end">{_fmt_t(hi)}</span>')
    strip = data_uri(strip_png(tl), "image/png")
    return ('<div class="tl">'
            '<div class="yl">palette</div>'
            f'<img class="strip" alt="palette over time" src="{strip}">'
            '<div class="yl va"><span>+1</span><span>0</span><span>−1</span></div>'
            f"{svg}"
            '<div class="yl">time</div>'
            f'<div class="ticks">{"".join(ticks)}</div></div>'
            '<div class="legend"><span class="lv"></span>valence <span class="la"></span>'
            "arousal" + (' <span class="ls"></span>section start' if len(sections) > 1
                         else "") + "</div>")


def plane_svg(tl: Timeline) -> str:
    """The track's path on Russell's plane (window order), start and end marked. The quadrant
    names and axis names sit outside the square, so no point can cover them."""
    size, side, band = 200.0, 8.0, 22.0  # the square, its side margins, label bands
    half = size / 2
    x0, y0 = side, band
    full_w, full_h = size + 2 * side, size + 2 * band

    def px(v):
        return x0 + (np.asarray(v) + 1.0) / 2.0 * size

    def py(a):
        return y0 + (1.0 - (np.asarray(a) + 1.0) / 2.0) * size

    quads = {"Q1": (half, 0), "Q2": (0, 0), "Q3": (0, half), "Q4": (half, half)}
    tints = "".join(
        f'<rect x="{x0 + qx:g}" y="{y0 + qy:g}" width="{half:g}" height="{half:g}" '
        f'fill="{QUADRANT_COLOURS[q]}" fill-opacity="0.12"/>' for q, (qx, qy) in quads.items())
    top, bottom = y0 - 9, y0 + size + 14
    names = {"Q2": (x0, top, "start"), "Q1": (x0 + size, top, "end"),
             "Q3": (x0, bottom, "start"), "Q4": (x0 + size, bottom, "end")}
    labels = "".join(
        f'<text x="{cx:g}" y="{cy:g}" text-anchor="{anchor}" fill="{QUADRANT_COLOURS[q]}">'
        f"{q} {html.escape(QUADRANT_NAMES[q])}</text>" for q, (cx, cy, anchor) in names.items())
    labels += (f'<text x="{x0 + half:g}" y="{top:g}" text-anchor="middle" class="an">'
               "arousal ↑</text>"
               f'<text x="{x0 + half:g}" y="{bottom:g}" text-anchor="middle" class="an">'
               "valence →</text>")
    xs, ys = px(tl.valence), py(tl.arousal)
    path = (f'<polyline points="{_points(xs, ys)}" class="path"/>' if len(xs) > 1 else "")
    dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.2" class="dot"/>'
                   for a, b in zip(xs[1:-1], ys[1:-1], strict=True)) if len(xs) <= 200 else ""
    ends = (f'<circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="4.5" class="end"/>'
            f'<circle cx="{xs[0]:.1f}" cy="{ys[0]:.1f}" r="4.5" class="start"/>'
            ) if len(xs) else ""
    return (f'<svg class="plane" viewBox="0 0 {full_w:g} {full_h:g}" role="img" '
            'aria-label="path on the valence/arousal plane">'
            f"{tints}"
            f'<line x1="{x0 + half:g}" y1="{y0:g}" x2="{x0 + half:g}" y2="{y0 + size:g}" '
            'class="axis"/>'
            f'<line x1="{x0:g}" y1="{y0 + half:g}" x2="{x0 + size:g}" y2="{y0 + half:g}" '
            'class="axis"/>'
            f"{labels}{path}{dots}{ends}</svg>")


# ----------------------------------------------------------------------------------- HTML

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
background:#f4f4f6}
header{background:#17171c;color:#fafafa;padding:20px 24px}
header h1{margin:0 0 4px;font-size:23px;font-weight:650}
header p{margin:2px 0;color:#b8b8c4;font-size:13px;overflow-wrap:anywhere}
header p.explain{color:#e2e2ea}
main{max-width:1240px;margin:0 auto;padding:18px 16px 60px}
.facts{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 16px}
.fact{background:#fff;border-radius:10px;padding:8px 14px;min-width:104px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.fact b{display:block;font-size:21px}
.fact span{font-size:12px;color:#666;text-transform:uppercase;letter-spacing:.04em}
.fact.bad b{color:#b3261e}
.fact a{color:inherit}
details.nav{background:#fff;border-radius:10px;padding:10px 14px;margin-bottom:16px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
details.nav summary{cursor:pointer;font-weight:600}
.navlist{display:flex;flex-wrap:wrap;gap:2px 14px;margin-top:6px}
.navlist a{display:inline-flex;align-items:center;gap:6px;color:#1d1d1f;text-decoration:none;
font-size:14px;max-width:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.navlist a:hover{text-decoration:underline}
.navlist .sw{min-width:48px;height:12px}
section.media{background:#fff;border-radius:12px;padding:16px 18px;margin:0 0 18px;
box-shadow:0 1px 3px rgba(0,0,0,.1)}
section.media h2{margin:0 0 2px;font-size:19px;overflow-wrap:anywhere}
.meta{color:#666;font-size:12.5px;margin-bottom:10px;overflow-wrap:anywhere}
.plots{display:grid;grid-template-columns:minmax(0,1fr) 216px;gap:18px;align-items:start}
.tl{display:grid;grid-template-columns:58px minmax(0,1fr);row-gap:4px;align-items:stretch}
.yl{font-size:11px;color:#666;text-align:right;padding-right:6px;align-self:center}
.yl.va{display:flex;flex-direction:column;justify-content:space-between;align-self:stretch;
font-variant-numeric:tabular-nums}
img.strip{width:100%;height:44px;image-rendering:pixelated;image-rendering:crisp-edges;
display:block;border-radius:3px}
svg.curves{width:100%;height:150px;display:block;border:1px solid #e4e4e8;border-radius:3px}
svg.curves .pos{fill:#f7f7fa}
svg.curves .zero{stroke:#999;stroke-width:1;vector-effect:non-scaling-stroke}
svg.curves .sb{stroke:#bbb;stroke-width:1;stroke-dasharray:3 3;vector-effect:non-scaling-stroke}
svg.curves polyline{fill:none;stroke-width:2;vector-effect:non-scaling-stroke;
stroke-linejoin:round}
svg.curves .val{stroke:#111}
svg.curves .aro{stroke:#8e24aa;stroke-dasharray:6 4}
.ticks{position:relative;height:16px;font-size:11px;color:#666;
font-variant-numeric:tabular-nums}
.ticks span{position:absolute;top:0;transform:translateX(-50%);white-space:nowrap}
.ticks span:first-child{transform:none}
.ticks span.end{right:0;transform:none}
.legend{font-size:12px;color:#555;margin:2px 0 0 58px}
.legend span{display:inline-block;width:18px;height:0;margin:0 4px 3px 10px;
vertical-align:middle}
.legend .lv{border-top:2px solid #111;margin-left:0}
.legend .la{border-top:2px dashed #8e24aa}
.legend .ls{border-top:1px dashed #999}
figure.planefig{margin:0}
svg.plane{width:100%;max-width:216px;display:block;font-size:10px}
svg.plane .axis{stroke:#999;stroke-width:.8}
svg.plane .path{fill:none;stroke:#555;stroke-width:1.2;stroke-linejoin:round}
svg.plane .dot{fill:#777}
svg.plane .start{fill:#fff;stroke:#111;stroke-width:2}
svg.plane .end{fill:#111}
svg.plane .an{fill:#666}
figcaption{font-size:12px;color:#555;text-align:center;margin-top:2px}
.mk{display:inline-block;width:9px;height:9px;border-radius:50%;border:2px solid #111;
vertical-align:-1px}
.mk.e{background:#111}
h3{font-size:13px;margin:16px 0 6px;color:#333;text-transform:uppercase;letter-spacing:.05em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eee;vertical-align:middle}
th{color:#666;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.sw{display:flex;height:20px;min-width:140px;border-radius:4px;overflow:hidden}
.sw div{height:100%}
.hex{font:12px ui-monospace,Menlo,Consolas,monospace;color:#555}
.q{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
white-space:nowrap}
.players{display:flex;flex-wrap:wrap;gap:12px}
.players figure{margin:0;max-width:100%}
.players figcaption{text-align:left;margin:0 0 3px;overflow-wrap:anywhere}
video{width:420px;max-width:100%;border-radius:6px;background:#000;display:block}
audio{width:340px;max-width:100%;display:block}
.stills{display:grid;grid-template-columns:repeat(var(--n,2),1fr);gap:8px;
 max-width:calc(340px * var(--n,2));margin-bottom:8px}
.stills figure{margin:0}
.stills img{width:100%;border-radius:6px;display:block}
.stills figcaption{text-align:left}
.links a{margin-right:10px;font-size:13px;white-space:nowrap}
.muted{color:#888;font-size:13px}
table.failures td{word-break:break-word}
footer{color:#888;font-size:12px;text-align:center;margin-top:30px}
@media (max-width:720px){
 header{padding:16px}
 main{padding:12px 8px 40px}
 section.media{padding:12px 10px}
 .plots{grid-template-columns:1fr}
 .stills{grid-template-columns:1fr 1fr}
 .tl{grid-template-columns:44px minmax(0,1fr)}
 .legend{margin-left:44px}
 svg.plane{margin:0 auto}
 .hide-narrow{display:none}
 .sw{min-width:90px}
}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _swatches(hexes: Sequence[str], weights: Sequence[float] | None = None,
              cls: str = "sw") -> str:
    weights = list(weights) if weights is not None else [1.0] * len(hexes)
    cells = "".join(
        f'<div style="flex:{max(float(w), 0.02):.3f} 1 0;background:{_e(h)}" title="{_e(h)}">'
        "</div>" for h, w in zip(hexes, weights, strict=True))
    return f'<div class="{cls}">{cells}</div>'


def _quadrant_badge(q: str) -> str:
    colour = QUADRANT_COLOURS.get(q, "#999999")
    return (f'<span class="q" style="background:{colour}22;color:{colour};'
            f'border:1px solid {colour}66">{_e(q)} {_e(QUADRANT_NAMES.get(q, ""))}</span>')


def _mood_summary(m: MediaEntry) -> str:
    if not m.sections:
        return ""
    share: dict[str, float] = {}
    for s in m.sections:
        share[s.quadrant] = share.get(s.quadrant, 0.0) + max(s.end_s - s.start_s, 0.0)
    q = max(share, key=share.get)
    return f" · mostly {_e(q)} {_e(QUADRANT_NAMES.get(q, ''))}"


def _media_html(m: MediaEntry) -> str:
    n_sections = len(m.sections)
    parts = [f'<section class="media" id="{_e(m.anchor)}">',
             f"<h2>{_e(m.title)}</h2>",
             f'<div class="meta">{_e(m.source_uri)} · {_fmt_t(m.duration_s)} · {m.windows} '
             f"windows · {n_sections} section{'s' if n_sections != 1 else ''}"
             f"{_mood_summary(m)} · mean valence {m.valence:+.2f}, arousal {m.arousal:+.2f}"
             f" · model {_e(m.model_version)}</div>",
             '<div class="plots"><div>', timeline_html(m.timeline, m.sections), "</div>",
             '<figure class="planefig">', plane_svg(m.timeline),
             '<figcaption><span class="mk"></span> start &nbsp;<span class="mk e"></span> end'
             "</figcaption></figure></div>"]

    parts.append('<h3>Sections</h3><div class="scroll"><table><tr><th>#</th><th>time</th>'
                 '<th>palette</th><th class="hide-narrow">colours</th><th>mood</th>'
                 '<th class="hide-narrow">valence</th><th class="hide-narrow">arousal</th>'
                 "</tr>")
    for s in m.sections:
        hexes = s.palette_hex
        parts.append(
            f"<tr><td>{s.index + 1}</td><td>{_fmt_t(s.start_s)}–{_fmt_t(s.end_s)}</td>"
            f"<td>{_swatches(hexes, s.weights)}</td>"
            f'<td class="hex hide-narrow">{_e(" ".join(hexes))}</td>'
            f"<td>{_quadrant_badge(s.quadrant)}</td>"
            f'<td class="hide-narrow">{s.valence:+.2f}</td>'
            f'<td class="hide-narrow">{s.arousal:+.2f}</td></tr>')
    parts.append("</table></div>")

    if m.players:
        parts.append('<h3>Listen &amp; watch</h3><div class="players">')
        for p in m.players:
            tag = "video" if p.kind == "video" else "audio"
            open_link = "" if p.inline else f' · <a href="{_e(p.src)}">open file</a>'
            parts.append(
                f"<figure><figcaption class=\"muted\">{_e(p.label)}{open_link}</figcaption>"
                f'<{tag} controls preload="none" src="{_e(p.src)}"></{tag}></figure>')
        parts.append("</div>")
    if m.stills:
        parts.append("<h3>Before / after</h3>")
        for st in m.stills:
            after = f"after · {st.label}" + (f" · {st.after_look} look" if st.after_look else "")
            figures = [(f"before · {st.label}", st.before_src), (after, st.after_src),
                       *((f"{look} look · {st.label}", src) for look, src in st.looks)]
            parts.append(f'<div class="stills" style="--n:{len(figures)}">' + "".join(
                f'<figure><figcaption class="muted">{_e(caption)}</figcaption>'
                f'<img loading="lazy" alt="{_e(caption.replace(" · ", ", "))}" '
                f'src="{_e(src)}"></figure>'
                for caption, src in figures) + "</div>")
    if m.exports:
        parts.append('<h3>Exports</h3><div class="links">' + "".join(
            f'<a href="{_e(link.href)}">{_e(link.label)}</a>' for link in m.exports) + "</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _failures_html(failed: Sequence[FailedInput], names: Mapping[str, str]) -> str:
    if not failed:
        return '<p class="muted">No failures.</p>'
    rows = ['<div class="scroll"><table class="failures"><tr><th>input</th><th>stage</th>'
            "<th>why</th><th>what to do</th></tr>"]
    for f in failed:
        why = f.reason + (" (rows written, flagged)" if f.partial else "")
        rows.append(f'<tr><td title="{_e(f.source_uri)}">'
                    f"{_e(names.get(f.source_uri, f.source_uri))}</td>"
                    f"<td>{_e(f.stage)}</td><td>{_e(why)}</td><td>{_e(f.fix or '')}</td></tr>")
    rows.append("</table></div>")
    return "\n".join(rows)


def render_report(entries: Sequence[MediaEntry], facts: RunFacts,
                  failed: Sequence[FailedInput], failure_names: Mapping[str, str] | None = None,
                  failures_href: str | None = None) -> str:
    fact_cells = [
        ("tracks", facts.media), ("windows", facts.windows),
        ("audio", f"{facts.audio_s / 60:.1f} min" if facts.audio_s >= 120
         else f"{facts.audio_s:.0f} s"),
        ("generated videos", facts.generated_videos), ("recoloured", facts.recoloured),
    ]
    facts_html = "".join(f'<div class="fact"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
                         for k, v in fact_cells)
    bad = " bad" if facts.failures else ""
    facts_html += (f'<div class="fact{bad}"><b><a href="#failures">{facts.failures}</a></b>'
                   "<span>failed inputs</span></div>")
    if facts.exports_href:
        facts_html += (f'<div class="fact"><b><a href="{_e(facts.exports_href)}">exports</a></b>'
                       "<span>LUTs, swatches</span></div>")
    nav = "".join(
        f'<a href="#{_e(m.anchor)}">'
        + (_swatches(m.sections[0].palette_hex, None) if m.sections else "")
        + f"{_e(m.title)}</a>" for m in entries)
    opened = " open" if len(entries) <= 40 else ""
    body = "\n".join(_media_html(m) for m in entries) or '<p class="muted">No timelines.</p>'
    models = ", ".join(facts.model_versions) or "—"
    failures_link = (f' · <a href="{_e(failures_href)}">the failures folder</a> has every row'
                     if failures_href and failed else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: file: \
'self'; media-src data: file: 'self'; style-src 'unsafe-inline'">
<title>music2palette report</title><style>{_CSS}</style></head>
<body><header><h1>music2palette report</h1>
<p class="explain">{_e(EXPLANATION)}</p>
<p>{_e(facts.output)} · generated {_e(facts.generated_at)} · model {_e(models)}</p></header>
<main><div class="facts">{facts_html}</div>
<details class="nav"{opened}><summary>{len(entries)} track{'s' if len(entries) != 1 else ''}\
</summary><div class="navlist">{nav}</div></details>
{body}
<section class="media" id="failures"><h2>Failures</h2>{_failures_html(failed, failure_names or {})}\
{f'<p class="muted">{failures_link[3:]}</p>' if failures_link else ''}</section>
<footer>music2palette · palettes after Hu et al., Music2Palette (ACM MM 2025)</footer>
</main></body></html>
"""
