"""Music features, the palette track, the frame styles and the streamed video writer."""

from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import music

from m2p_core.audio.decode import iter_audio
from m2p_core.colour.space import hex_to_srgb01
from m2p_core.generate.drive import analyse, frame_drive
from m2p_core.generate.render import VideoSpec, read_video_metadata, render_still, render_video
from m2p_core.generate.styles import STYLES, FrameRenderer, FrameState, internal_size
from m2p_core.outputs.timeline import timeline_row
from m2p_core.palette.track import PaletteTrack

RED, BLUE = [53.2, 80.1, 67.2], [32.3, 79.2, -107.9]


def _rows(palettes, hop=5.0, window=10.0):
    rows = []
    for i, lab in enumerate(palettes):
        rows.append(timeline_row(
            media_id="m", source_uri="x", window_index=i, start_s=i * hop,
            end_s=i * hop + window, valence_arousal=[0.5, 0.5], palette_lab=np.array(lab),
            weights=np.full(len(lab), 1.0 / len(lab)), model_version="t", padded=False,
            duration_s=20.0))
    return rows


def _palette(base):
    return [[20 + 15 * k, base[1] * 0.4, base[2] * 0.4] for k in range(5)]


def test_palette_track_matches_colour_order_and_interpolates():
    a = np.array(_rows([_palette(RED)])[0]["palette_lab"], dtype=np.float64)  # gamut-mapped
    b = a[::-1].copy()  # same colours, other order: nothing should move
    track = PaletteTrack.of_windows(_rows([a, b]))
    for t in (0.0, 6.0, 7.5, 9.0, 20.0):
        lab, w, v, ar = track.at(t)
        assert np.allclose(np.sort(lab[:, 0]), np.sort(a[:, 0]), atol=1e-3)
        assert np.allclose(lab, a, atol=1e-3)  # slot order kept across windows
        assert w.sum() == pytest.approx(1.0)
    c = np.array(_rows([_palette(BLUE)])[0]["palette_lab"], dtype=np.float64)
    track = PaletteTrack.of_windows(_rows([a, c]))
    start, end = track.at(0.0)[0], track.at(100.0)[0]
    mid = track.at(7.5)[0]  # halfway between the window centres 5 and 10
    assert np.allclose(start, a, atol=0.05) and np.allclose(np.sort(end, 0), np.sort(c, 0),
                                                            atol=0.05)
    assert np.allclose(np.sort(mid[:, 1]), np.sort(0.5 * (a[:, 1] + c[:, 1])), atol=0.5)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_styles_draw_the_palette_and_react_to_the_music(style):
    rows = _rows([_palette(RED)])
    quiet = render_still(rows, 1.0, style, (160, 90), energy=0.0, onset=0.0, beat=0.0)
    loud = render_still(rows, 1.0, style, (160, 90), energy=1.0, onset=1.0, beat=1.0)
    assert quiet.shape == (90, 160, 3) and quiet.dtype == np.uint8
    assert np.abs(quiet.astype(int) - loud).mean() > 2.0  # the music moves the picture
    assert quiet.std() > 5  # not a flat colour
    # the picture's colours come from the palette: reddish, not blue or green
    r, g, b = quiet.reshape(-1, 3).astype(float).mean(0)
    assert r > g and r > b


def test_renderer_rejects_unknown_style_and_sizes_are_even():
    with pytest.raises(ValueError):
        FrameRenderer("nope", 16, 16)
    w, h = internal_size(1920, 1080)
    assert w % 2 == 0 and h % 2 == 0 and w * h <= 320 * 180 * 1.05
    with pytest.raises(ValueError):
        VideoSpec(width=641)
    assert FrameState.__dataclass_fields__  # a plain dataclass, cheap to build per frame


def test_features_from_streamed_chunks(tmp_path):
    path = music(tmp_path / "happy.wav", 6.0, "happy")
    f = analyse(iter_audio(str(path), 22050), 22050)
    assert f.duration_s == pytest.approx(6.0, abs=0.05)
    assert len(f.rms) == pytest.approx(6.0 * 22050 / 512, abs=2)
    assert len(f.beats_s) >= 4 and 60 <= f.tempo_bpm <= 240  # the synth has a steady beat
    d = frame_drive(f, 25)
    assert len(d) == 150
    for sig in (d.energy, d.onset, d.beat, d.phase):
        assert sig.min() >= 0 and sig.max() <= 1
    assert d.onset.max() > 0.5 and d.beat.max() > 0.5


def test_render_video_has_h264_aac_soundtrack_and_record(tmp_path):
    src = music(tmp_path / "song.mp3", 3.0, "angry")
    out = tmp_path / "out.mp4"
    stats = render_video(str(src), _rows([_palette(RED), _palette(BLUE)], hop=1.0, window=2.0),
                         str(out), VideoSpec(96, 64, 10, "orbs"), metadata='{"m2p": {"a": 1}}')
    assert stats.frames == 30
    with av.open(str(out)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert v.codec_context.name == "h264" and a.codec_context.name == "aac"
        assert (v.width, v.height) == (96, 64) and v.format.name == "yuv420p"
        assert float(a.duration * a.time_base) == pytest.approx(3.0, abs=0.1)
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 30
    assert read_video_metadata(str(out)) == {"a": 1}
    assert read_video_metadata(str(Path(tmp_path / "missing.mp4"))) is None
    # the palette moves from red to blue over the clip
    first, last = frames[2].reshape(-1, 3).mean(0), frames[-1].reshape(-1, 3).mean(0)
    assert first[0] > first[2] and last[2] > last[0]
    assert hex_to_srgb01(["#ff0000"]).shape == (1, 3)
