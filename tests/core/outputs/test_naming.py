"""m2p_core.outputs.naming.output_stem: safe, unique, deterministic output names."""

from __future__ import annotations

import hashlib
import re

import pytest

from m2p_core.outputs.naming import output_stem

STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{12}$")

HOSTILE = [
    "../../etc/passwd",
    "/../..",
    "..",
    "...",
    ".",
    "",
    "/",
    "-rf.mp3",
    "--help",
    "-",
    ".hidden.wav",
    "..hidden..mp3",
    "a..b.mp3",
    "a....b....c.flac",
    "song.tar.gz",
    "Sigur Rós – Hoppípolla.mp3",
    "日本語の歌.flac",
    "my song (live) [2019].m4a",
    "  spaces  around  .ogg",
    "x" * 500 + ".mp3",
    "é" * 300,
    "gs://bucket/dir/",
    "gs://bucket/",
    "gs://",
    "s3://b/k/track.opus",
    "C:\\Users\\me\\Music\\song.mp3",
    "file\x00name.mp3",
    "new\nline.wav",
    "tab\there.wav",
    "semi;colon|pipe&amp$(cmd)`x`.mp3",
    "bad\udcffsurrogate.mp3",
    "/abs/path/to/clip.MP4",
]


@pytest.mark.parametrize("uri", HOSTILE)
def test_hostile_names_give_safe_stems(uri):
    stem = output_stem(uri)
    assert STEM_RE.match(stem), stem
    assert "/" not in stem and "\\" not in stem
    assert ".." not in stem
    assert not stem.startswith((".", "-"))
    assert len(stem) <= 48 + 13
    assert stem.isascii()


@pytest.mark.parametrize("uri", HOSTILE)
def test_digest_is_sha256_of_full_uri(uri):
    digest = hashlib.sha256(uri.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    assert output_stem(uri).endswith("-" + digest)


@pytest.mark.parametrize(
    ("uri", "readable"),
    [
        ("music/song.mp3", "song"),
        ("../../etc/passwd", "passwd"),
        ("-rf.mp3", "rf"),
        (".hidden.wav", "hidden"),
        ("Sigur Rós – Hoppípolla.mp3", "Sigur_R_s_Hopp_polla"),
        ("my song.wav", "my_song"),
        ("song.tar.gz", "song.tar"),
        ("gs://bucket/dir/", "dir"),
        ("", "media"),
        ("..", "media"),
        ("gs://bucket/album/01 - Intro.flac", "01_-_Intro"),
    ],
)
def test_readable_part(uri, readable):
    assert output_stem(uri).rsplit("-", 1)[0] == readable


def test_long_names_truncated():
    stem = output_stem("/music/" + "a" * 500 + ".mp3")
    assert stem.startswith("a" * 48 + "-")
    assert len(stem) == 48 + 13
    assert len(output_stem("b" * 100, max_len=10)) == 10 + 13


def test_same_base_name_in_different_folders_differ():
    uris = [
        "/music/a/song.mp3",
        "/music/b/song.mp3",
        "gs://bucket/a/song.mp3",
        "song.mp3",
        "./song.mp3",
        "/music/a/song.wav",
    ]
    stems = [output_stem(u) for u in uris]
    assert len(set(stems)) == len(stems)
    assert all(s.startswith("song-") for s in stems)


def test_deterministic():
    for uri in HOSTILE:
        assert output_stem(uri) == output_stem(uri)
    # pinned: the stem must not change between runs or releases (incremental reruns rely on it)
    digest = hashlib.sha256(b"/music/song.mp3").hexdigest()[:12]
    assert output_stem("/music/song.mp3") == f"song-{digest}"
