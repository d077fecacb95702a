"""transforms.media_fn: the shared steps of every media DoFn."""

import hashlib
import os

import pytest

from m2p_core.recolor.video import RecolorParams
from transforms.match import to_media
from transforms.recolor import RecolorVideo


@pytest.mark.skipif(os.name != "posix", reason="non-UTF-8 file names are a POSIX matter")
def test_recolor_hashes_the_path_to_open_not_the_display_name(tmp_path):
    """A video whose name is not UTF-8 is read by its real path (recolour hashed the escaped
    display name once, and failed at "read")."""
    raw = os.path.join(os.fsencode(tmp_path), b"clip-\xff.mp4")
    with open(raw, "wb") as f:
        f.write(b"not really a video")
    media = to_media(os.fsdecode(raw), 18)
    assert media.source_uri != media.open_path
    fn = RecolorVideo(None, str(tmp_path / "media"), str(tmp_path / "timelines"),
                      RecolorParams(), "v", "run", False)._fn
    out = list(fn.process(media))
    assert len(out) == 1
    row = out[0].value
    assert row["stage"] == "recolor"  # got past reading: no timeline for it
    assert row["media_id"] == hashlib.sha256(b"not really a video").hexdigest()
