"""End to end: `m2p recolor` / `m2p recolor-image` on small generated media."""

import os

import pyarrow.dataset as ds
import pytest
from media_factory import music, video
from PIL import Image
from recolor_media import frames_video, natural_frames

from commands import main as cli
from m2p_core.video.transcode import probe_video
from pipelines import recolor


def failures(out):
    if not os.listdir(out / "failures"):
        return []
    rows = ds.dataset(str(out / "failures"), format="parquet").to_table().to_pylist()
    return sorted((os.path.basename(r["source_uri"]), r["stage"]) for r in rows)


def media(out):
    return sorted(n for n in os.listdir(out / "media") if not n.endswith(".json"))


def test_own_soundtrack_failures_and_rerun(tmp_path, tiny_checkpoint):
    lib = tmp_path / "lib"
    video(lib / "clip.mp4", 3.0)
    video(lib / "silent.mp4", 1.0, with_audio=False)
    music(lib / "song.wav", 2.0)
    out = tmp_path / "out"
    args = [str(lib), "--output", str(out), "--model", tiny_checkpoint, "--preset", "ultrafast"]
    s = recolor.run(args)
    assert s.recolored == 1 and s.frames == 30
    assert s.inputs == 2 and s.timeline.ignored == 1  # videos; song.wav is not one
    assert "2 videos: 1 recoloured, 0 skipped (already done), 1 failed" in s.text()
    assert [m.split("-")[0] for m in media(out)] == ["clip"]
    assert failures(out) == [("silent.mp4", "decode"), ("silent.mp4", "recolor")]
    info = probe_video(out / "media" / media(out)[0])
    assert info["audio_codec"] == "aac" and (info["width"], info["height"]) == (160, 120)
    timelines = ds.dataset(str(out / "timelines"), format="parquet").to_table()
    assert set(os.path.basename(u) for u in timelines.column("source_uri").to_pylist()) == {
        "clip.mp4"}  # song.wav in the folder is not a video: not analysed
    again = recolor.run(args)
    assert again.recolored == 0 and again.skipped == 1
    forced = recolor.run([*args, "--force", "--strength", "0.5"])
    assert forced.recolored == 1


def test_music_drives_silent_odd_and_rotated_videos(tmp_path, tiny_checkpoint):
    lib = tmp_path / "lib"
    video(lib / "silent.mp4", 1.0, with_audio=False)
    frames_video(lib / "odd.mkv", natural_frames(853, 481, 5), codec="libvpx-vp9")
    frames_video(lib / "phone.mp4", natural_frames(90, 160, 8), rotation=270)
    song = music(tmp_path / "song.mp3", 3.0, "angry")
    out = tmp_path / "out"
    code = cli.main(["recolor", str(lib), "--music", str(song), "--output", str(out),
                     "--model", tiny_checkpoint, "--preset", "ultrafast", "--crf", "30"])
    assert code == 0
    assert failures(out) == []
    names = {m.split("-")[0]: m for m in media(out)}
    assert set(names) == {"silent", "odd", "phone"}
    assert all("--song-" in n for n in names.values())  # named after the palette source too
    silent = probe_video(out / "media" / names["silent"])
    assert silent["audio_codec"] is not None  # the music became its soundtrack
    odd = probe_video(out / "media" / names["odd"])
    assert (odd["width"], odd["height"]) == (852, 480)
    rotation = probe_video(out / "media" / names["phone"])["rotation"]
    assert rotation % 360 == probe_video(lib / "phone.mp4")["rotation"] % 360 == 270
    assert os.listdir(out / "timelines") == [n for n in os.listdir(out / "timelines")
                                             if n.startswith("song-")]


def test_two_musics_give_two_videos_and_own_sound_is_kept(tmp_path, tiny_checkpoint, capsys):
    clip = video(tmp_path / "clip.mp4", 2.0)
    out = tmp_path / "out"
    base = ["--output", str(out), "--model", tiny_checkpoint, "--preset", "ultrafast"]
    for preset in ("angry", "sad"):
        song = music(tmp_path / f"{preset}.mp3", 3.0, preset)
        assert cli.main(["recolor", str(clip), "--music", str(song), *base]) == 0
    names = media(out)
    assert [n.split("--")[1].split("-")[0] for n in names] == ["angry", "sad"]
    for n in names:  # the video has its own sound: it keeps it
        assert probe_video(out / "media" / n)["audio_codec"] == "aac"
    capsys.readouterr()
    assert cli.main(["recolor", str(clip), "--music", str(tmp_path / "nope.mp3"), *base]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"m2p recolor: --music {tmp_path / 'nope.mp3'}: no such file"


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp"])
def test_recolor_image(tmp_path, tiny_checkpoint, ext):
    img = tmp_path / f"pic{ext}"
    Image.fromarray(natural_frames(120, 80, 1)[0]).save(img)
    song = music(tmp_path / "song.wav", 2.0, "sad")
    out = tmp_path / "out"
    s = recolor.run_images([str(img), "--music", str(song), "--output", str(out),
                            "--model", tiny_checkpoint])
    assert s.recolored == 1
    (name,) = media(out)
    assert name.endswith(ext)
    with Image.open(out / "media" / name) as im:
        assert im.size == (120, 80)


def _recolor_one_clip(tmp_path, checkpoint, seconds, *flags):
    """(summary, output folder) of `m2p recolor` on one generated clip with ``flags``."""
    video(tmp_path / "lib" / "clip.mp4", seconds)
    out = tmp_path / "out"
    return recolor.run([str(tmp_path / "lib"), "--output", str(out), "--model", checkpoint,
                        "--preset", "ultrafast", *flags]), out


def test_recolor_honours_max_duration(tmp_path, tiny_checkpoint):
    """--max-duration reaches the recolour's own timeline stage (it was accepted and dropped)."""
    s, out = _recolor_one_clip(tmp_path, tiny_checkpoint, 3.0, "--max-duration", "1")
    assert s.recolored == 0
    assert ("clip.mp4", "decode") in failures(out)


def test_recolor_look_flag_reaches_the_grade(tmp_path, tiny_checkpoint):
    import json

    s, out = _recolor_one_clip(tmp_path, tiny_checkpoint, 2.0, "--look", "grade")
    assert s.recolored == 1
    (sidecar,) = [n for n in os.listdir(out / "media") if n.endswith(".json")]
    assert json.loads((out / "media" / sidecar).read_text())["look"] == "grade"
    with pytest.raises(SystemExit):
        recolor.run([str(tmp_path / "lib"), "--output", str(out), "--look", "sepia"])
