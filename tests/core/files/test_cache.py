import os
import shutil

from m2p_core.files import cache_dir, file_digest


def test_cache_dir_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir("audio") == tmp_path / "music2palette" / "audio"


def test_file_digest_is_the_content_not_the_path_or_mtime(tmp_path):
    a = tmp_path / "a.opus"
    a.write_bytes(b"music" * 1000)
    copy = tmp_path / "elsewhere" / "b.opus"
    copy.parent.mkdir()
    shutil.copyfile(a, copy)
    os.utime(copy, (1, 1))  # a fresh copy of a dataset: other path, other mtime
    assert file_digest(a) == file_digest(copy)
    assert len(file_digest(a)) == 32

    # the same size, rewritten at the same path: a new identity (not served from a cache)
    before = file_digest(a)
    a.write_bytes(b"MUSIC" * 1000)
    os.utime(a, ns=(os.stat(a).st_atime_ns, os.stat(a).st_mtime_ns + 1))
    assert file_digest(a) != before
