"""Long-video recolouring split into parallel segments vs one pass (docs/ARCHITECTURE.md
"Recolouring").

Generates the test suite's long video (tests/long_media.py: 9 shots with hard cuts and colour
drifts, moving content, a FLAC tone) at the given size/rate/length, recolours it in one pass
(:func:`m2p_core.recolor.video.recolor_video`) and split into segments on ``--workers`` threads
(:func:`m2p_core.recolor.segments.recolor_video_split`), and reports: wall and CPU times (analysis
pass, segments, join; CPU = all threads of the process, so the split's overhead shows even on a
busy machine, and ``ideal_speedup`` = single CPU / (analysis CPU + rest / workers) is what free
cores would give), whether frame counts / pts / audio packets are identical, and the per-frame
mean |ΔY| between the two outputs at the seams (±5 frames) vs elsewhere.

    python bench/recolor_split.py [--size 640x360] [--fps 25] [--minutes 3] [--segment-s 30]
                                  [--workers 2] [--preset veryfast]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from long_media import long_video  # noqa: E402

from m2p_core.colour.space import hex_to_lab  # noqa: E402
from m2p_core.palette.track import PaletteTrack  # noqa: E402
from m2p_core.recolor.segments import recolor_video_split  # noqa: E402
from m2p_core.recolor.video import RecolorParams, recolor_video  # noqa: E402

OUT = ROOT / "out" / "bench" / "recolor_split"
SUNSET = hex_to_lab(["#1b1f3a", "#53354a", "#a64942", "#ff7844", "#ffd56b"])


def luma_frames(path: Path):
    with av.open(str(path)) as c:
        for f in c.decode(c.streams.video[0]):
            yield f.pts * f.time_base, f.to_ndarray(format="gray").astype(np.int16)


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.dts is not None]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--segment-s", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--preset", default="veryfast")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    OUT.mkdir(parents=True, exist_ok=True)
    src = OUT / f"long-{w}x{h}-{args.fps}-{args.minutes:g}m.mp4"
    if not src.exists():
        t = time.perf_counter()
        long_video(src, (w, h), args.fps, time_scale=args.minutes / 10.0)
        print(f"generated {src.name} in {time.perf_counter() - t:.1f} s")
    track = PaletteTrack.constant(SUNSET)
    params = RecolorParams(preset=args.preset)
    single, split = OUT / "single.mp4", OUT / "split.mp4"
    t, c = time.perf_counter(), time.process_time()
    recolor_video(src, single, track, params)
    single_s, single_cpu = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    st = recolor_video_split(src, split, track, params, args.segment_s, args.workers)
    split_s, split_cpu = time.perf_counter() - t, time.process_time() - c
    analysis_cpu = st.extra.get("analysis_cpu_s", st.analysis_s)
    a, b = list(luma_frames(single)), list(luma_frames(split))
    same_pts = [x for x, _ in a] == [x for x, _ in b]
    diff = np.array([np.abs(x - y).mean() for (_, x), (_, y) in zip(a, b, strict=True)])
    near = np.zeros(len(diff), bool)
    for s in st.boundaries[1:]:
        near[max(0, s - 5):s + 5] = True
    report = {
        "video": {"size": args.size, "fps": args.fps, "minutes": args.minutes,
                  "frames": len(a), "preset": args.preset},
        "single_s": round(single_s, 2), "split_s": round(split_s, 2),
        "speedup": round(single_s / split_s, 2), "workers": args.workers,
        "single_cpu_s": round(single_cpu, 2), "split_cpu_s": round(split_cpu, 2),
        "analysis_cpu_s": round(analysis_cpu, 2),
        "ideal_speedup": round(single_cpu / (analysis_cpu + (split_cpu - analysis_cpu)
                                             / args.workers), 2),
        "analysis_s": round(st.analysis_s, 2), "join_s": round(st.join_s, 2),
        "segments_s": [round(s.total_s, 2) for s in st.segments],
        "boundaries": st.boundaries,
        "frames_equal": len(a) == len(b), "pts_equal": same_pts,
        "audio_packets_equal": audio_packets(single) == audio_packets(split),
        "mean_abs_dY": {"seams_max": round(float(diff[near].max()), 3) if near.any() else None,
                        "elsewhere_max": round(float(diff[~near].max()), 3),
                        "mean": round(float(diff.mean()), 3)},
    }
    print(json.dumps(report, indent=1))
    (OUT / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
