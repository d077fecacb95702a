"""File I/O through Beam FileSystems (local paths and gs:// alike): atomic writes, staging."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator

from apache_beam.io.filesystems import FileSystems

from m2p_core.files import TEMP_NAME, temp_path_for


def is_local(uri: str) -> bool:
    return FileSystems.get_scheme(uri) is None


def join(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts)


def makedirs(uri: str) -> None:
    if is_local(uri):
        os.makedirs(uri, exist_ok=True)  # object stores have no folders to make


def temp_path(uri: str, suffix: str = "") -> str:
    """A temp name beside ``uri`` (any filesystem: ``/``-separated), matching TEMP_NAME."""
    return temp_path_for(uri, suffix)


@contextlib.contextmanager
def staged_output(out_uri: str, suffix: str = "") -> Iterator[str]:
    """A local path to write an output file at, later published with :func:`publish_file`:
    a hidden temp file beside a local output (same filesystem, so the rename is atomic), or a
    temp file to upload for a remote one. Removed afterwards if still there."""
    if is_local(out_uri):
        path = temp_path(out_uri, suffix)
    else:
        fd, path = tempfile.mkstemp(prefix="m2p-out-", suffix=suffix)
        os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)


def publish_file(local: str, uri: str) -> None:
    """Make a finished local file visible at ``uri`` in one step (rename, or upload + rename)."""
    if is_local(uri):
        os.replace(local, uri)
        return
    tmp = temp_path(uri)
    with open(local, "rb") as src, FileSystems.create(tmp) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    _rename_over(tmp, uri)


def _rename_over(tmp: str, uri: str) -> None:
    try:
        FileSystems.rename([tmp], [uri])  # gs://: copy over the old object, then delete tmp
    except Exception:
        if not FileSystems.exists(uri):
            raise
        FileSystems.delete([uri])  # filesystems whose rename refuses to overwrite
        FileSystems.rename([tmp], [uri])


def atomic_write_bytes(uri: str, data: bytes) -> None:
    """Write ``data`` so that ``uri`` is either absent/old or complete, never partial.

    The temp name starts with ``.`` so dataset readers (pyarrow, DuckDB) ignore it; a killed
    writer can leave one behind, which :func:`remove_stale_temps` deletes on the next run.
    Local files are fsynced before the rename; object stores (gs://) publish an object only
    when its upload completes, and the rename (copy) replaces the old object in one step.
    """
    tmp = temp_path(uri)
    try:
        if is_local(uri):
            os.makedirs(os.path.dirname(tmp) or ".", exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, uri)  # atomic on POSIX, replaces an older version
            return
        with FileSystems.create(tmp) as f:
            f.write(data)
        _rename_over(tmp, uri)
    except BaseException:
        with contextlib.suppress(Exception):
            if FileSystems.exists(tmp):
                FileSystems.delete([tmp])
        raise


def remove_stale_temps(folder: str, older_than: float | None = None) -> int:
    """Delete our own temp files (``TEMP_NAME``) directly in ``folder`` last modified before
    ``older_than`` (epoch seconds; default: now), left by killed runs. Returns how many."""
    older_than = time.time() if older_than is None else older_than
    removed = 0
    try:
        if is_local(folder):
            if not os.path.isdir(folder):
                return 0
            for entry in os.scandir(folder):
                if (TEMP_NAME.match(entry.name) and entry.is_file(follow_symlinks=False)
                        and entry.stat(follow_symlinks=False).st_mtime < older_than):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(entry.path)
                        removed += 1
            return removed
        found = FileSystems.match([join(folder, ".*.tmp-*")])[0].metadata_list
        stale = [m.path for m in found
                 if TEMP_NAME.match(m.path.rsplit("/", 1)[-1])
                 and m.path.rsplit("/", 1)[0].rstrip("/") == folder.rstrip("/")
                 and (m.last_updated_in_seconds or 0) < older_than]
        if stale:
            FileSystems.delete(stale)
        return len(stale)
    except Exception as e:  # cleaning up is best effort; never stops a run
        logging.getLogger(__name__).warning("could not clean temp files in %s: %s", folder, e)
        return removed


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
