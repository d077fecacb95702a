"""Sections and palette exports, each read back by an independent reader."""

import json
import struct
from fractions import Fraction

import av
import matplotlib
import numpy as np
import pytest

from m2p_core.outputs.exports import (
    NamedPalette,
    apply_lut_trilinear,
    ase_bytes,
    bake_lut,
    css_text,
    cube_text,
    export_json,
    gpl_text,
    load_mpl_colormap,
    mpl_json,
    neutral_source,
    read_cube,
)
from m2p_core.outputs.timeline import timeline_row
from m2p_core.palette.sections import find_sections, whole_media

WARM = [[25, 20, 25], [45, 35, 40], [60, 30, 50], [75, 10, 60], [88, 5, 30]]
COOL = [[20, 5, -30], [40, 0, -35], [55, -10, -30], [70, -15, -20], [90, -5, -10]]


def _rows(palettes):
    return [timeline_row(media_id="m", source_uri="/in/x.mp3", window_index=i, start_s=5.0 * i,
                         end_s=5.0 * i + 10, valence_arousal=[0.2, -0.4],
                         palette_lab=np.array(p, dtype=float),
                         weights=np.array([0.4, 0.25, 0.15, 0.1, 0.1]), model_version="t",
                         padded=False, duration_s=5.0 * len(palettes) + 5)
            for i, p in enumerate(palettes)]


def _pal(lab, name="s01"):
    return NamedPalette(name, np.array(lab, dtype=float), np.array([0.4, 0.25, 0.15, 0.1, 0.1]),
                        10.0, 20.0, 0.2, -0.4, {"section": 1})


def test_sections_merge_similar_windows_and_tile_time():
    jitter = [[c[0] + 1, c[1], c[2] - 1] for c in WARM]
    secs = find_sections(_rows([WARM, jitter, WARM, COOL, COOL]))
    assert [s.window_indices for s in secs] == [(0, 1, 2), (3, 4)]
    assert secs[0].start_s == 0 and secs[0].end_s == secs[1].start_s == pytest.approx(17.5)
    assert secs[1].end_s == pytest.approx(30.0)
    assert secs[1].palette_hex[0].startswith("#") and secs[1].quadrant == "Q4"
    assert whole_media(_rows([WARM])).window_indices == (0,)
    assert find_sections([]) == []


def _parse_ase(data: bytes):
    """An independent ASE reader (published layout: 'ASEF', u16 major/minor, u32 blocks;
    block = u16 type, u32 length, body)."""
    assert data[:4] == b"ASEF"
    major, minor, count = struct.unpack(">HHI", data[4:12])
    pos, groups, current = 12, [], None
    for _ in range(count):
        kind, length = struct.unpack(">HI", data[pos:pos + 6])
        body = data[pos + 6:pos + 6 + length]
        pos += 6 + length
        if kind in (0xC001, 0x0001):
            n = struct.unpack(">H", body[:2])[0]
            name = body[2:2 + 2 * n].decode("utf-16-be")
            assert name.endswith("\0")
            rest = body[2 + 2 * n:]
        if kind == 0xC001:
            current = (name[:-1], [])
            groups.append(current)
        elif kind == 0x0001:
            model = rest[:4]
            assert model == b"RGB "
            rgb = struct.unpack(">3f", rest[4:16])
            colour_type = struct.unpack(">H", rest[16:18])[0]
            assert colour_type in (0, 1, 2) and len(rest) == 18
            current[1].append((name[:-1], rgb))
        elif kind == 0xC002:
            assert length == 0
            current = None
    assert pos == len(data)
    return (major, minor), groups


def test_ase_parses_back_with_an_independent_reader():
    media, sec = _pal(WARM, "media"), _pal(COOL, "s01 ü ✓")
    version, groups = _parse_ase(ase_bytes([media, sec]))
    assert version == (1, 0)
    assert [g[0].split(" (")[0] for g in groups] == ["media", "s01 ü ✓"]
    assert len(groups[1][1]) == 5
    for (name, rgb), hx in zip(groups[1][1], sec.hex, strict=True):
        assert hx in name
        assert "#{:02x}{:02x}{:02x}".format(*(round(v * 255) for v in rgb)) == hx


def test_gpl_is_a_gimp_palette():
    text = gpl_text([_pal(WARM, "media"), _pal(COOL)], "x.mp3\n(media)")
    lines = text.splitlines()
    assert lines[0] == "GIMP Palette" and lines[1] == "Name: x.mp3 (media)"
    assert lines[2].startswith("Columns: ")
    colours = [ln for ln in lines[3:] if ln and not ln.startswith("#")]
    assert len(colours) == 10
    for ln, hx in zip(colours, _pal(WARM).hex + _pal(COOL).hex, strict=True):
        r, g, b = (int(v) for v in ln.split("\t")[0].split())
        assert f"#{r:02x}{g:02x}{b:02x}" == hx


def test_css_json_and_matplotlib_colormap(tmp_path):
    media, sec = _pal(WARM, "media"), _pal(COOL)
    css = css_text(media, [sec], "x */ y")
    assert ":root {" in css and '[data-m2p-section="1"] {' in css
    assert f"--m2p-color-1: {media.hex[0]};" in css and "--m2p-weight-5: 0.1000;" in css
    assert css.count("*/") == css.count("/*")  # the title cannot close a comment early
    doc = json.loads(export_json(media, [sec], {"source_uri": "/in/x.mp3"}))
    assert doc["media"]["hex"] == media.hex and doc["sections"][0]["section"] == 1
    path = tmp_path / "x.mpl.json"
    path.write_text(mpl_json(media, [sec], "m2p_test_cmap"))
    cmap = load_mpl_colormap(str(path))
    matplotlib.colormaps.register(cmap, force=True)
    darkest = media.hex[int(np.argmin(media.palette_lab[:, 0]))]
    assert matplotlib.colormaps["m2p_test_cmap"](0.0)[:3] == pytest.approx(
        tuple(int(darkest[i:i + 2], 16) / 255 for i in (1, 3, 5)), abs=1e-6)
    listed = load_mpl_colormap(str(path), section=1, continuous=False)
    assert listed.N == 5 and listed.name == "m2p_test_cmap_s01"


def test_neutral_source_is_grey_and_ordered_like_the_target():
    src = neutral_source(np.array(WARM, dtype=float)[::-1], np.full(5, 0.2))
    assert np.allclose(src[:, 1:], 0) and np.all(np.diff(src[::-1, 0]) > 0)


def _ffmpeg_lut3d(image: np.ndarray, cube_path: str) -> np.ndarray:
    h, w, _ = image.shape
    graph = av.filter.Graph()
    src = graph.add_buffer(width=w, height=h, format="rgb24", time_base=Fraction(1, 25))
    escaped = cube_path.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")
    lut = graph.add("lut3d", f"file={escaped}:interp=trilinear")
    sink = graph.add("buffersink")
    src.link_to(lut)
    lut.link_to(sink)
    graph.configure()
    frame = av.VideoFrame.from_ndarray(image, format="rgb24")
    frame.pts = 0
    graph.push(frame)
    return graph.pull().to_ndarray(format="rgb24")


def test_cube_loaded_by_ffmpeg_lut3d_matches_our_lut_application(tmp_path):
    lut = bake_lut(np.array(WARM, dtype=float), np.array([0.4, 0.25, 0.15, 0.1, 0.1]), size=17)
    path = tmp_path / "grade.cube"
    path.write_text(cube_text(lut, 'warm "grade"'))
    assert np.allclose(read_cube(path.read_text()), lut, atol=1e-6)
    rng = np.random.default_rng(0)
    ramp = np.broadcast_to(np.arange(256, dtype=np.uint8)[None, :, None], (32, 256, 3))
    image = np.ascontiguousarray(np.concatenate(
        [rng.integers(0, 256, (96, 256, 3), dtype=np.uint8), ramp]))
    ours = apply_lut_trilinear(image, lut)
    ffmpeg = _ffmpeg_lut3d(image, str(path))
    assert np.abs(ours.astype(int) - image).mean() > 5  # the grade does something
    assert np.abs(ffmpeg.astype(int) - ours).mean() <= 1.0  # ≤ 1/255 on average
    assert np.abs(ffmpeg.astype(int) - ours).max() <= 2
