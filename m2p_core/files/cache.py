"""The user's cache folder for derived data (decoded audio, features, filterbanks)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/music2palette/<parts...>`` (``~/.cache`` when unset); not created.

    Everything cached here can be recomputed: deleting the folder is always safe.
    """
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root, "music2palette", *parts)
