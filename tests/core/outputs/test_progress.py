import io

from m2p_core.outputs.progress import Progress


def test_progress_is_throttled():
    now = [0.0]
    out = io.StringIO()
    p = Progress(interval_s=5.0, stream=out, clock=lambda: now[0])
    for i in range(1000):  # a burst: no lines before the interval has passed
        now[0] = i * 0.004
        p.add("frames", 1)
    assert out.getvalue() == ""
    now[0] = 5.0
    p.add("windows", 3)
    now[0] = 6.0
    p.add("frames", 1)  # within the next interval: quiet
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "1000 frames" in lines[0] and "3 windows" in lines[0]
    off = Progress(interval_s=0, stream=out, clock=lambda: now[0])
    now[0] = 100.0
    off.add("frames")
    assert off.lines == 0
