"""Recolour speed and quality (docs/ARCHITECTURE.md "Recolouring"; issue 15).

A generated 60-s 1080p30 clip (landscape pan with a face, film grain) with a generated music
soundtrack (calm, then angry). In one session, alternating (the order rotated each round),
``--repeat`` times, each a fresh process with the same libx264 settings and the audio copied:
  (a) ``ffmpeg -i CLIP -c:v libx264 -preset P -crf C -c:a copy`` — the FFmpeg command line, the
      media team's reference (apt-get installed when missing, as .ci/run installs Chromium;
      ``$M2P_FFMPEG`` names another binary),
  (b) the project's plain PyAV transcode (``m2p_core.video.transcode``), and
  (c) ``m2p recolor CLIP --output DIR --force`` end to end (imports, Beam, audio analysis,
      model inference, decode -> LUT -> encode);
prints wall and CPU time (user + system, all threads and processes) medians with their ranges
and every ratio, of the medians and per round (issue 15's targets: c/a <= 1.30 for one clip).
On a shared machine the wall times move with the other load, the CPU times much less. Every
output is checked: as many frames as the source, its audio packets copied. Then the same for
a folder of ``--batch`` such clips (hue-turned, mirrored copies) — ``m2p recolor FOLDER`` once
against the command line once per clip (target <= 1.15) and the PyAV transcode of all clips
in one process — a 10-s 4K clip, the LUT kernel alone in ms per megapixel, and the quality
checks (identity at strength 0, SSIM of L*, palette movement, temporal stability on a static
shot).

    python bench/recolor.py [--repeat 3] [--seconds 60] [--batch 5] [--skip-4k] [--crf 23]
                            [--soundtrack AUDIO...]

``--soundtrack`` gives the clips real music instead (issue 15 measures with a real soundtrack;
the palette timeline, hence the number of grades and dissolves, follows the music).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
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

from m2p_core.audio.decode import decode_audio  # noqa: E402
from m2p_core.colour.space import hex_to_lab, srgb01_to_lab  # noqa: E402
from m2p_core.colour.yuv import YuvSpec  # noqa: E402
from m2p_core.files import file_digest  # noqa: E402
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


def soundtrack_audio(files: list[str], seconds: float, sample_rate: int) -> np.ndarray:
    """Real music for a clip: the files decoded (mono) one after the other, the list repeated
    until ``seconds`` are filled, then cut there."""
    tracks = [decode_audio(f, sample_rate) for f in files]
    need = int(round(seconds * sample_rate))
    if not any(len(t) for t in tracks):
        raise SystemExit(f"--soundtrack: no audio in {files}")
    parts, have = [], 0
    while have < need:
        for t in tracks:
            parts.append(t)
            have += len(t)
    return np.concatenate(parts)[:need]


def clip_name(stem: str, soundtrack: list[str] | None) -> str:
    """The bench clip's file name; with a soundtrack, its files' content in the name, so a
    clip made with other music is never reused."""
    if not soundtrack:
        return f"{stem}.mp4"
    digest = hashlib.sha256("".join(file_digest(f) for f in soundtrack).encode()).hexdigest()
    return f"{stem}-music-{digest[:10]}.mp4"


def make_clip(path: Path, size: tuple[int, int], seconds: float,
              soundtrack: list[str] | None = None) -> Path:
    """The generated picture with the generated music (calm, then angry) or, with
    ``soundtrack``, with those real music files (:func:`soundtrack_audio`, 44.1 kHz)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    if soundtrack:
        rate = 44100
        audio = soundtrack_audio(soundtrack, seconds, rate)
    else:
        rate, half = SR, seconds / 2
        audio = splice(synthesize_music(replace(PRESETS["calm"], seed=3), half, SR),
                       synthesize_music(replace(PRESETS["angry"], seed=4), seconds - half, SR),
                       SR)
    tmp = path.with_name("." + path.name)
    t0 = time.perf_counter()
    write_video(tmp, size, 30, seconds, audio=audio, sample_rate=rate, pattern="natural")
    os.replace(tmp, path)
    print(f"  generated {path.name} in {time.perf_counter() - t0:.0f} s")
    return path


def ffmpeg_binary(install: bool = True) -> str | None:
    """The ``ffmpeg`` command line to compare with: ``$M2P_FFMPEG``, else ``ffmpeg`` on PATH,
    else installed with apt-get the way .ci/run installs Chromium (None if that fails)."""
    found = os.environ.get("M2P_FFMPEG") or shutil.which("ffmpeg")
    if found or not install or not shutil.which("apt-get"):
        return found
    sudo = [] if os.geteuid() == 0 or not shutil.which("sudo") else ["sudo"]
    print("  ffmpeg not found: apt-get install -y ffmpeg")
    for cmd in ([*sudo, "apt-get", "update", "-qq"],
                [*sudo, "apt-get", "install", "-y", "-qq", "ffmpeg"]):
        if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
            return None
    return shutil.which("ffmpeg")


def ffmpeg_version(ffmpeg: str) -> str:
    out = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout
    return " ".join(out.split()[:3]) if out else ffmpeg


def timed(*cmds: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds (user + system, all threads and processes)) of subprocesses
    run one after the other."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    for cmd in cmds:
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def interleaved(runs: dict[str, list[list[str]]], repeat: int) -> dict[str, list[tuple]]:
    """Each named run (a list of commands) ``repeat`` times, alternating, the order rotated
    every round: {name: [(wall, cpu), ...]}."""
    names = list(runs)
    out: dict[str, list[tuple]] = {n: [] for n in names}
    for r in range(repeat):
        for n in names[r % len(names):] + names[:r % len(names)]:
            out[n].append(timed(*runs[n]))
    return out


def _med_range(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} s [{min(xs):.2f}-{max(xs):.2f}]"


def print_ratios(label: str, res: dict[str, list[tuple]], frames: int) -> dict[str, float]:
    """Wall and CPU medians (with ranges) per run, and each run's ratio to every earlier one:
    of the medians, and per round (the same minutes). Returns the wall ratios by pair name."""
    print(f"{label} ({len(next(iter(res.values())))} rounds, interleaved):")
    for n, v in res.items():
        w, c = [x[0] for x in v], [x[1] for x in v]
        print(f"  {n:<16} wall {_med_range(w)} ({1000 * statistics.median(w) / frames:.1f} "
              f"ms/frame)   CPU {_med_range(c)}")
    names, ratios = list(res), {}
    for i, b in enumerate(names):
        for a in names[:i]:
            for k, kind in ((0, "wall"), (1, "CPU")):
                ma = statistics.median(x[k] for x in res[a])
                mb = statistics.median(x[k] for x in res[b])
                pairs = [y[k] / x[k] for x, y in zip(res[a], res[b], strict=True)]
                print(f"  {b} / {a}: {kind} {mb / ma:.3f} (per round {min(pairs):.2f}-"
                      f"{max(pairs):.2f})")
                if kind == "wall":
                    ratios[f"{b}/{a}"] = mb / ma
    print(f"  (load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: on "
          f"a shared machine compare the CPU times; the wall times move with the other load)")
    return ratios


def stream_counts(path: Path) -> tuple[int, int]:
    """(video packets, audio packets) of a file: frames and copied audio, without decoding."""
    with av.open(str(path)) as c:
        v = a = 0
        for p in c.demux():
            if p.size:
                v += p.stream.type == "video"
                a += p.stream.type == "audio"
    return v, a


#: output checks that failed (the bench exits with status 1 after printing everything)
MISMATCHES: list[str] = []


def check_outputs(sources: list[Path], outputs: dict[str, list[Path]]) -> None:
    """Every run wrote, for every source, as many video frames as the source has and its audio
    (packet for packet, as all three copy it)."""
    expected = [stream_counts(s) for s in sources]
    for name, paths in outputs.items():
        got = [stream_counts(p) for p in paths]
        same = got == expected
        print(f"  {name}: frames {[g[0] for g in got]} (source {[e[0] for e in expected]}), "
              f"audio packets {[g[1] for g in got]} (source {[e[1] for e in expected]}): "
              f"{'OK' if same else 'MISMATCH'}")
        if not same:
            MISMATCHES.append(name)


def m2p_outputs(out_dir: Path, sources: list[Path]) -> list[Path]:
    """m2p recolor's output for each source (media/<stem>-<id>.mp4)."""
    media = out_dir / "media"
    return [next(media.glob(f"{s.stem}-*.mp4")) for s in sources]


def speed(clip: Path, label: str, repeat: int, crf: int, preset: str,
          extra: list[str], ffmpeg: str | None) -> float:
    """One clip: the ffmpeg command line, the project's plain PyAV transcode and ``m2p recolor``
    (each a fresh process, same libx264 settings, audio copied), interleaved."""
    py = sys.executable
    m2p = [py, "-m", "commands.main", "recolor"]
    plain_out = OUT / f"plain-{clip.stem}.mp4"
    cli_out = OUT / f"ffmpeg-{clip.stem}.mp4"
    rec_dir = OUT / f"run-{clip.stem}"
    runs = {}
    if ffmpeg:
        runs["ffmpeg CLI"] = [ffmpeg_cmd(ffmpeg, clip, cli_out, crf, preset)]
    runs["PyAV transcode"] = [[py, "-c", PLAIN, str(clip), str(plain_out), str(crf), preset]]
    runs["m2p recolor"] = [[*m2p, str(clip), "--output", str(rec_dir), "--force", "--crf",
                            str(crf), "--preset", preset, *extra]]
    res = interleaved(runs, repeat)
    frames = stream_counts(clip)[0]
    ratios = print_ratios(label, res, frames)
    outs = {"PyAV transcode": [plain_out], "m2p recolor": m2p_outputs(rec_dir, [clip])}
    if ffmpeg:
        outs["ffmpeg CLI"] = [cli_out]
    check_outputs([clip], outs)
    # where the difference goes: the per-frame part (both encodes in one warm process, the
    # palette track read from the timelines the runs above wrote) and the rest
    pa, pb = [], []
    for _ in range(repeat):
        out = subprocess.run([py, "-c", IN_PROCESS, str(clip), str(OUT), str(crf), preset,
                              str(rec_dir / "timelines")], check=True, cwd=ROOT,
                             capture_output=True, text=True).stdout
        res1 = json.loads(out.strip().splitlines()[-1])
        pa.append(res1["plain"])
        pb.append(res1["recolor"])
    wa, wb = (statistics.median(w for w, _ in x) for x in (pa, pb))
    qa, qb = (statistics.median(c for _, c in x) for x in (pa, pb))
    ma = statistics.median(w for w, _ in res["PyAV transcode"])
    mb = statistics.median(w for w, _ in res["m2p recolor"])
    print(f"  in one process, no start-up (transcode() vs recolor_video(), the music's palette "
          f"track given): plain {wa:.2f} s, recolour {wb:.2f} s; ratio {wb / wa:.3f} "
          f"(CPU {qa:.1f} vs {qb:.1f} s, ratio {qb / qa:.3f})")
    print(f"  so of m2p recolor's {mb - ma:+.2f} s over the PyAV transcode, {wb - wa:+.2f} s "
          f"is per-frame work (LUT kernel, shot/palette analysis, extra encoder bits) and "
          f"{(mb - ma) - (wb - wa):+.2f} s is the m2p command's fixed cost beyond the plain one's "
          f"(imports of Beam, torch, scikit-learn, numba; the Beam pipeline; audio decode and "
          f"inference)")
    return ratios.get("m2p recolor/ffmpeg CLI", ratios["m2p recolor/PyAV transcode"])


def ffmpeg_cmd(ffmpeg: str, src: Path, dst: Path, crf: int, preset: str) -> list[str]:
    return [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
            "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-c:a", "copy", str(dst)]


#: n clips transcoded in one process (the batch's PyAV reference)
PLAIN_BATCH = (
    "import sys; from m2p_core.video.transcode import transcode, EncodeParams\n"
    "out, crf, preset, *clips = sys.argv[1:]\n"
    "for c in clips:\n"
    "    transcode(c, out + '/' + c.rsplit('/', 1)[-1], None, EncodeParams(int(crf), preset))"
)


def batch_clips(clip: Path, n: int, ffmpeg: str | None) -> list[Path]:
    """``n`` different clips of the same kind as ``clip`` in a folder of their own: with the
    ffmpeg command line, the picture's hue turned by 360/n degrees each and mirrored (re-encoded
    with libx264 CRF 20), the soundtrack copied; else copies of the clip."""
    d = OUT / f"batch{n}-{clip.stem}"
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = d / f"clip{i}.mp4"
        out.append(path)
        if path.exists():
            continue
        tmp = d / f".clip{i}.mp4"
        if ffmpeg and i:
            subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                            "-i", str(clip), "-vf", f"hue=h={i * 360 // n},hflip", "-c:v",
                            "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "copy",
                            "-f", "mp4", str(tmp)], check=True)
        else:
            shutil.copyfile(clip, tmp)
        os.replace(tmp, path)
    return out


def batch_speed(clips: list[Path], label: str, repeat: int, crf: int, preset: str,
                extra: list[str], ffmpeg: str | None) -> float:
    """A folder of clips: ``m2p recolor FOLDER`` (one command) against the ffmpeg command line
    once per clip and the PyAV transcode of all of them in one process, interleaved."""
    py = sys.executable
    folder = clips[0].parent
    cli_dir, plain_dir, rec_dir = (OUT / f"{k}-{folder.name}" for k in ("ffmpeg", "plain", "run"))
    for d in (cli_dir, plain_dir):
        d.mkdir(parents=True, exist_ok=True)
    runs = {}
    if ffmpeg:
        runs[f"ffmpeg CLI x{len(clips)}"] = [ffmpeg_cmd(ffmpeg, c, cli_dir / c.name, crf,
                                                        preset) for c in clips]
    runs["PyAV transcode"] = [[py, "-c", PLAIN_BATCH, str(plain_dir), str(crf), preset,
                               *map(str, clips)]]
    runs["m2p recolor"] = [[py, "-m", "commands.main", "recolor", str(folder), "--output",
                            str(rec_dir), "--force", "--crf", str(crf), "--preset", preset,
                            *extra]]
    res = interleaved(runs, repeat)
    frames = sum(stream_counts(c)[0] for c in clips)
    ratios = print_ratios(label, res, frames)
    outs = {"PyAV transcode": [plain_dir / c.name for c in clips],
            "m2p recolor": m2p_outputs(rec_dir, clips)}
    if ffmpeg:
        outs["ffmpeg CLI"] = [cli_dir / c.name for c in clips]
    check_outputs(clips, outs)
    key = f"m2p recolor/ffmpeg CLI x{len(clips)}"
    return ratios.get(key, ratios["m2p recolor/PyAV transcode"])


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
    ap.add_argument("--crf", type=int, default=23,
                    help="libx264 CRF for all encodes (default %(default)s, issue 15's setting)")
    ap.add_argument("--preset", default=RecolorParams.preset)
    ap.add_argument("--batch", type=int, default=5,
                    help="clips in the folder run (default %(default)s; 0: skip it)")
    ap.add_argument("--batch-repeat", type=int, default=None,
                    help="rounds of the folder run (default: --repeat)")
    ap.add_argument("--no-install", action="store_true",
                    help="do not apt-get install ffmpeg when it is missing")
    ap.add_argument("--skip-4k", action="store_true")
    ap.add_argument("--model", default=None, help="checkpoint for m2p recolor (default: shipped)")
    ap.add_argument("--soundtrack", nargs="+", metavar="AUDIO", default=None,
                    help="real music for the clips' soundtrack, these files in order (repeated "
                         "to fill --seconds), instead of the generated calm-then-angry music")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    ffmpeg = ffmpeg_binary(install=not args.no_install)
    print(f"recolor bench ({os.cpu_count()} cores; libx264 {args.preset} crf {args.crf}; "
          f"ffmpeg CLI: {ffmpeg_version(ffmpeg) if ffmpeg else 'not available'}; "
          f"PyAV {av.__version__} with FFmpeg libavcodec "
          f"{'.'.join(map(str, av.library_versions['libavcodec']))})")
    clip = make_clip(OUT / clip_name(f"natural_1080p_{int(args.seconds)}s", args.soundtrack),
                     (1920, 1080), args.seconds, args.soundtrack)
    if args.soundtrack:
        print(f"  soundtrack: {', '.join(args.soundtrack)}")
    extra = ["--model", args.model] if args.model else []
    # untimed warm-up: numba's kernels compiled and cached, the libraries in the page cache
    warm = make_clip(OUT / "warmup_2s.mp4", (320, 240), 2.0)
    timed([sys.executable, "-m", "commands.main", "recolor", str(warm), "--output",
           str(OUT / "run-warmup"), "--force", *extra])
    speed(clip, f"1080p30 {args.seconds:.0f} s", args.repeat, args.crf, args.preset, extra,
          ffmpeg)
    if args.batch > 0:
        clips = batch_clips(clip, args.batch, ffmpeg)
        batch_speed(clips, f"a folder of {args.batch} x 1080p30 {args.seconds:.0f} s, one "
                    f"command", args.batch_repeat or args.repeat, args.crf, args.preset, extra,
                    ffmpeg)
    kernel_ms_per_mp(clip)
    if not args.skip_4k:
        clip4k = make_clip(OUT / clip_name("natural_2160p_10s", args.soundtrack),
                           (3840, 2160), 10.0, args.soundtrack)
        speed(clip4k, "2160p30 10 s", args.repeat, args.crf, args.preset, extra, ffmpeg)
        kernel_ms_per_mp(clip4k)
    print("quality:")
    quality()
    if MISMATCHES:
        print(f"output checks failed: {', '.join(MISMATCHES)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
