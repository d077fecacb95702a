"""File I/O through Beam FileSystems (local paths and gs:// alike): atomic writes, staging."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

from apache_beam.io.filesystems import FileSystems


def is_local(uri: str) -> bool:
    return FileSystems.get_scheme(uri) is None


def join(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts)


def makedirs(uri: str) -> None:
    if is_local(uri):
        os.makedirs(uri, exist_ok=True)  # object stores have no folders to make


def atomic_write_bytes(uri: str, data: bytes) -> None:
    """Write ``data`` so that ``uri`` is either absent/old or complete, never partial.

    The temp name starts with ``.`` so dataset readers (pyarrow, DuckDB) ignore it.
    """
    parent, name = uri.rsplit("/", 1)
    tmp = f"{parent}/.{name}.tmp-{uuid.uuid4().hex[:12]}"
    with FileSystems.create(tmp) as f:
        f.write(data)
    if is_local(uri):
        os.replace(tmp, uri)  # atomic on POSIX, replaces an older version
    else:
        if FileSystems.exists(uri):
            FileSystems.delete([uri])
        FileSystems.rename([tmp], [uri])


def sha256_of(uri: str) -> str:
    h = hashlib.sha256()
    with FileSystems.open(uri, compression_type="uncompressed") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_bytes(uri: str) -> bytes:
    with FileSystems.open(uri, compression_type="uncompressed") as f:
        return f.read()


@contextlib.contextmanager
def local_copy(uri: str) -> Iterator[str]:
    """A local path for ``uri``: the path itself, or a temp copy of a remote object (removed
    afterwards)."""
    if is_local(uri):
        yield uri
        return
    suffix = os.path.splitext(uri.rsplit("/", 1)[-1])[1][:16]
    fd, path = tempfile.mkstemp(prefix="m2p-stage-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out, FileSystems.open(
            uri, compression_type="uncompressed"
        ) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)
