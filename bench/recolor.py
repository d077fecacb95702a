"""Recolour speed and quality (docs/ARCHITECTURE.md "Recolouring").

A generated 60-s 1080p30 clip (landscape pan with a face, film grain) with a generated music
soundtrack (calm, then angry). In one session, alternating, ``--repeat`` times:
  (a) a plain decode + encode of the clip (same libx264 settings, audio copied), and
  (b) ``m2p recolor CLIP --output DIR --force`` end to end (a fresh process: imports, Beam,
      audio analysis, model inference, decode -> LUT -> encode),
both as subprocesses; prints the medians and the ratio b/a (target <= 1.15), and the CPU time
(user + system, all threads) of both: on a shared machine the wall times move with the other
load, the CPU times much less. Then the same for a
10-s 4K clip, the LUT kernel alone in ms per megapixel, and the quality checks (identity at
strength 0, SSIM of L*, palette movement, temporal stability on a static shot).

    python bench/recolor.py [--repeat 3] [--seconds 60] [--skip-4k]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m2p_core.colour.space import hex_to_lab, srgb01_to_lab  # noqa: E402
from m2p_core.colour.yuv import YuvSpec  # noqa: E402
from m2p_core.palette.extract import extract_palette_rgb  # noqa: E402
from m2p_core.palette.track import Keyframe, PaletteTrack  # noqa: E402
from m2p_core.recolor.lut import bake_yuv_lut  # noqa: E402
from m2p_core.recolor.lut_kernel import apply_yuv420  # noqa: E402
from m2p_core.recolor.metrics import palette_reduction, ssim  # noqa: E402
from m2p_core.recolor.transfer import PaletteTransfer, TransferParams  # noqa: E402
from m2p_core.recolor.video import RecolorParams, recolor_video  # noqa: E402
from m2p_core.synth.music import PRESETS, splice, synthesize_music  # noqa: E402
from m2p_core.synth.writers import write_video  # noqa: E402
from m2p_core.video.transcode import plane_views  # noqa: E402

OUT = ROOT / "out" / "bench" / "recolor"
SR = 22050
PLAIN = (
    "import sys; from m2p_core.video.transcode import transcode, EncodeParams; "
    "transcode(sys.argv[1], sys.argv[2], None, EncodeParams(crf=int(sys.argv[3]), "
    "preset=sys.argv[4]))"
)


# The same two encodes inside one process, without start-up: the per-frame part of the ratio.
IN_PROCESS = r"""
import json, resource, sys, time
import pyarrow.dataset as ds
from m2p_core.palette.track import PaletteTrack
from m2p_core.recolor.video import RecolorParams, recolor_video
from m2p_core.video.transcode import transcode
clip, out_dir, crf, preset, timelines = sys.argv[1:6]
rows = [r for r in ds.dataset(timelines).to_table().to_pylist() if r["source_uri"] == clip]
track = PaletteTrack.of_sections(rows)
params = RecolorParams(crf=int(crf), preset=preset)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
res = {}
for name in ("plain", "recolor"):
    c0, t0 = cpu(), time.perf_counter()
    if name == "plain":
        transcode(clip, out_dir + "/inproc-plain.mp4", None, params.encode())
    else:
        recolor_video(clip, out_dir + "/inproc-recolor.mp4", track, params)
    res[name] = (time.perf_counter() - t0, cpu() - c0)
print(json.dumps(res))
"""


def make_clip(path: Path, size: tuple[int, int], seconds: float) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    half = seconds / 2
    audio = splice(synthesize_music(replace(PRESETS["calm"], seed=3), half, SR),
                   synthesize_music(replace(PRESETS["angry"], seed=4), seconds - half, SR), SR)
    tmp = path.with_name("." + path.name)
    t0 = time.perf_counter()
    write_video(tmp, size, 30, seconds, audio=audio, sample_rate=SR, pattern="natural")
    os.replace(tmp, path)
    print(f"  generated {path.name} in {time.perf_counter() - t0:.0f} s")
    return path


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds (user + system, all threads)) of a subprocess."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def speed(clip: Path, label: str, repeat: int, crf: int, preset: str,
          extra: list[str]) -> float:
    py = sys.executable
    m2p = [py, "-m", "commands.main", "recolor"]
    plain_out = OUT / f"plain-{clip.stem}.mp4"
    rec_dir = OUT / f"run-{clip.stem}"
    a, b, ca, cb = [], [], [], []
    for _ in range(repeat):
        wall, cpu = timed([py, "-c", PLAIN, str(clip), str(plain_out), str(crf), preset])
        a.append(wall)
        ca.append(cpu)
        wall, cpu = timed([*m2p, str(clip), "--output", str(rec_dir), "--force", "--crf",
                           str(crf), "--preset", preset, *extra])
        b.append(wall)
        cb.append(cpu)
    ma, mb = statistics.median(a), statistics.median(b)
    frames = av.open(str(clip)).streams.video[0].frames
    ratios = [y / x for x, y in zip(a, b, strict=True)]
    print(f"{label}: plain transcode {ma:.2f} s ({1000 * ma / frames:.1f} ms/frame), "
          f"m2p recolor {mb:.2f} s; ratio b/a = {mb / ma:.3f}  "
          f"(runs a={[round(x, 2) for x in a]}, b={[round(x, 2) for x in b]}, "
          f"per-pair ratios {min(ratios):.2f}-{max(ratios):.2f})")
    # CPU time (all threads) depends much less than wall time on what else the machine runs
    mca, mcb = statistics.median(ca), statistics.median(cb)
    print(f"  CPU time (user+sys): plain {mca:.1f} s, m2p recolor {mcb:.1f} s; "
          f"ratio {mcb / mca:.3f}"
          f"  (load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    # where the difference goes: the per-frame part (both encodes in one warm process, the
    # palette track read from the timelines the runs above wrote) and the rest
    pa, pb = [], []
    for _ in range(repeat):
        out = subprocess.run([py, "-c", IN_PROCESS, str(clip), str(OUT), str(crf), preset,
                              str(rec_dir / "timelines")], check=True, cwd=ROOT,
                             capture_output=True, text=True).stdout
        res = json.loads(out.strip().splitlines()[-1])
        pa.append(res["plain"])
        pb.append(res["recolor"])
    wa, wb = (statistics.median(w for w, _ in x) for x in (pa, pb))
    qa, qb = (statistics.median(c for _, c in x) for x in (pa, pb))
    print(f"  in one process, no start-up (transcode() vs recolor_video(), the music's palette "
          f"track given): plain {wa:.2f} s, recolour {wb:.2f} s; ratio {wb / wa:.3f} "
          f"(CPU {qa:.1f} vs {qb:.1f} s, ratio {qb / qa:.3f})")
    print(f"  so of m2p recolor's {mb - ma:+.2f} s over the plain transcode, {wb - wa:+.2f} s "
          f"is per-frame work (LUT kernel, shot/palette analysis, extra encoder bits) and "
          f"{(mb - ma) - (wb - wa):+.2f} s is the m2p command's fixed cost beyond the plain one's "
          f"(imports of Beam, torch, scikit-learn, numba; the Beam pipeline; audio decode and "
          f"inference)")
    return mb / ma


def kernel_ms_per_mp(clip: Path, repeat: int = 20) -> float:
    with av.open(str(clip)) as c:
        frame = next(c.decode(video=0))
    spec = YuvSpec.from_av(frame.colorspace, frame.color_range, frame.height)
    lut = bake_yuv_lut(PaletteTransfer(hex_to_lab(["#202040", "#406080", "#80a060", "#c0a080",
                                                   "#f0e0d0"]), SUNSET, TransferParams()), spec)
    planes = plane_views(frame)
    out = av.VideoFrame(frame.width, frame.height, "yuv420p")
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        apply_yuv420(planes, plane_views(out), lut)
        ts.append(time.perf_counter() - t0)
    ms = 1000 * statistics.median(ts)
    mp = frame.width * frame.height / 1e6
    print(f"  LUT apply {frame.width}x{frame.height}: {ms:.2f} ms/frame = "
          f"{ms / mp:.2f} ms per megapixel (median of {repeat})")
    return ms / mp


SUNSET = hex_to_lab(["#1b1f3a", "#53354a", "#a64942", "#ff7844", "#ffd56b"])
TEAL = hex_to_lab(["#0b2f3a", "#1d5c63", "#417d7a", "#9fc9c3", "#ede6db"])


def rgb_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def quality() -> None:
    q = OUT / "quality"
    q.mkdir(parents=True, exist_ok=True)
    src = q / "nat.mp4"
    write_video(src, (640, 360), 30, 2.0, pattern="natural")
    ident = q / "ident.mp4"
    recolor_video(src, ident, PaletteTrack.constant(SUNSET),
                  RecolorParams(strength=0.0, crf=0, preset="ultrafast"))
    same = all(np.array_equal(a, b) for a, b in zip(_yuv(src), _yuv(ident), strict=True))
    print(f"  strength 0 (lossless encode): decoded frames identical = {same}")
    for name, target in (("sunset", SUNSET), ("teal", TEAL)):
        out = q / f"{name}.mp4"
        recolor_video(src, out, PaletteTrack.constant(target),
                      RecolorParams(strength=1.0, crf=12))
        before, after = rgb_frames(src)[30], rgb_frames(out)[30]
        l0 = srgb01_to_lab(before / 255.0)[..., 0]
        l1 = srgb01_to_lab(after / 255.0)[..., 0]
        p0, _ = extract_palette_rgb(before)
        p1, _ = extract_palette_rgb(after)
        print(f"  strength 1 -> {name}: SSIM(L*) = {ssim(l0, l1):.3f} (>= 0.9), palette "
              f"CIEDE2000 to target reduced by {100 * palette_reduction(p0, p1, target):.0f}% "
              f"(>= 50%)")
    still = rgb_frames(src)[0]
    from PIL import Image

    static = q / "static.mp4"
    _still_video(static, still, 150)
    out = q / "static-out.mp4"
    track = PaletteTrack([Keyframe(0.0, 1.0, SUNSET), Keyframe(4.0, 5.0, TEAL)], transition_s=3.0)
    recolor_video(static, out, track, RecolorParams(strength=1.0, crf=12))

    def steps(frames):
        labs = [srgb01_to_lab(f / 255.0) for f in frames]
        return np.array([np.abs(b - a).mean() for a, b in zip(labs, labs[1:], strict=False)])

    s_in, s_out = steps(rgb_frames(static)), steps(rgb_frames(out))
    print(f"  static shot across a palette change (3-s transition at 30 fps): max frame-to-frame "
          f"mean |ΔLab| input {s_in.max():.3f}, output {s_out.max():.3f} "
          f"(total change {s_out.sum():.1f}; max step = {100 * s_out.max() / s_out.sum():.1f}% "
          f"of it)")
    Image.fromarray(np.concatenate([rgb_frames(src)[30], rgb_frames(q / "sunset.mp4")[30]],
                                   axis=1)).save(q / "before_after.png")
    print(f"  before/after still: {q / 'before_after.png'}")


def _yuv(path: Path):
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            yield np.concatenate([p.ravel() for p in plane_views(f)])


def _still_video(path: Path, rgb: np.ndarray, n: int) -> None:
    from fractions import Fraction

    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
        vs.options = {"crf": "12", "preset": "ultrafast"}
        base = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        for i in range(n):
            f = base.reformat(format="yuv420p")
            f.pts, f.time_base = i, Fraction(1, 30)
            c.mux(vs.encode(f))
        c.mux(vs.encode(None))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--crf", type=int, default=RecolorParams.crf)
    ap.add_argument("--preset", default=RecolorParams.preset)
    ap.add_argument("--skip-4k", action="store_true")
    ap.add_argument("--model", default=None, help="checkpoint for m2p recolor (default: shipped)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"recolor bench ({os.cpu_count()} cores; libx264 {args.preset} crf {args.crf})")
    clip = make_clip(OUT / f"natural_1080p_{int(args.seconds)}s.mp4", (1920, 1080), args.seconds)
    extra = ["--model", args.model] if args.model else []
    speed(clip, f"1080p30 {args.seconds:.0f} s", args.repeat, args.crf, args.preset, extra)
    kernel_ms_per_mp(clip)
    if not args.skip_4k:
        clip4k = make_clip(OUT / "natural_2160p_10s.mp4", (3840, 2160), 10.0)
        speed(clip4k, "2160p30 10 s", args.repeat, args.crf, args.preset, extra)
        kernel_ms_per_mp(clip4k)
    print("quality:")
    quality()
    return 0


if __name__ == "__main__":
    sys.exit(main())
