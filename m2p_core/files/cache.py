"""The user's cache folder for derived data (decoded audio, features, filterbanks), and the
identity of an input file in a cache key."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: (absolute path, size, mtime in ns) -> digest, for this process: a file is read once per run
_DIGESTS: dict[tuple[str, int, int], str] = {}


def cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/music2palette/<parts...>`` (``~/.cache`` when unset); not created.

    Everything cached here can be recomputed: deleting the folder is always safe.
    """
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root, "music2palette", *parts)


def file_digest(path: str | os.PathLike) -> str:
    """The identity of a local input file in a cache key: sha256 of its bytes (32 hex digits).

    Keyed on content, not on path, size and mtime, a cache survives the data being copied,
    moved or re-created (a fresh copy of a dataset has new mtimes) and never serves a file
    that changed at the same path and size. Each file is hashed once per process (memoised
    by path, size and mtime); a 30-s Opus clip takes well under a millisecond.
    """
    st = os.stat(path)
    ident = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    digest = _DIGESTS.get(ident)
    if digest is None:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()[:32]
        _DIGESTS[ident] = digest
    return digest
