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


def test_a_task_shows_done_of_total_and_an_eta():
    now = [0.0]
    out = io.StringIO()
    p = Progress(interval_s=5.0, stream=out, clock=lambda: now[0])
    task = p.begin("clip.mp4", total=900, what="frames")
    now[0] = 10.0
    task.add(300)  # 300 frames in 10 s: 600 more take 20 s
    assert out.getvalue().splitlines() == [
        "[m2p     10 s] 300 frames | clip.mp4 300/900 frames, ETA 20 s"]
    task.finish()
    now[0] = 100.0
    p.add("frames", 600)
    assert out.getvalue().splitlines()[-1] == "[m2p    100 s] 900 frames"  # as before tasks


def test_a_task_past_its_estimated_total_shows_no_eta():
    now = [0.0]
    p = Progress(interval_s=0, clock=lambda: now[0])
    task = p.begin("report", total=2, what="tracks")
    now[0] = 130.0
    task.add(3)
    assert p.text() == "[m2p    130 s] 3 tracks | report 3/3 tracks"
