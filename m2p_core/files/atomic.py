"""Atomic file writes: a hidden temp file beside the target, renamed over it when complete."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator

#: Temp names: ``.<final name>.tmp-<12 hex>[.<ext>]`` next to the final file (the optional
#: extension keeps writers that choose a format by file name — numpy, encoders — happy).
TEMP_NAME = re.compile(r"^\..+\.tmp-[0-9a-f]{12}(\.[A-Za-z0-9]{1,5})?$")


def temp_path_for(path: str | os.PathLike, suffix: str = "") -> str:
    """A fresh hidden temp path in ``path``'s folder, matching :data:`TEMP_NAME`.

    Parameters
    ----------
    path : the final file's path (local; ``/``-separated URIs work too)
    suffix : appended after the token, e.g. ``".npz"`` (at most 5 letters/digits after the dot)
    """
    path = os.fspath(path)
    parent, name = os.path.split(path)
    return os.path.join(parent, f".{name}.tmp-{uuid.uuid4().hex[:12]}{suffix}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[str]:
    """Yield a temp path to write; on normal exit it replaces ``path`` in one rename.

    ``suffix`` defaults to ``path``'s own extension. On an exception (or when nothing was
    written) the temp file is removed and ``path`` is left as it was.
    """
    path = os.fspath(path)
    if suffix is None:
        suffix = os.path.splitext(path)[1]
        if not re.fullmatch(r"\.[A-Za-z0-9]{1,5}", suffix):
            suffix = ""
    tmp = temp_path_for(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to the local file ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
