"""A process-local in-memory Beam FileSystem (``mem://``): a stand-in for an object store
(gs://) in tests. Beam 2.77 registers no such scheme itself; subclassing ``FileSystem``
registers this one for the in-process runner. Objects appear only when their writer closes
(like GCS uploads); there are no folders."""

from __future__ import annotations

import io
import threading
import time

from apache_beam.io.filesystem import BeamIOError, CompressionTypes, FileMetadata, FileSystem

_OBJECTS: dict[str, tuple[bytes, float]] = {}
_LOCK = threading.Lock()


class _Writer(io.BytesIO):
    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def close(self) -> None:
        if not self.closed:
            with _LOCK:
                _OBJECTS[self._path] = (self.getvalue(), time.time())
        super().close()


class InMemoryFileSystem(FileSystem):
    @classmethod
    def scheme(cls):
        return "mem"

    def join(self, basepath, *paths):
        return "/".join([basepath.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path):
        head, _, tail = path.rpartition("/")
        return head, tail

    def mkdirs(self, path):
        pass

    def has_dirs(self):
        return False

    def _list(self, dir_or_prefix):
        with _LOCK:
            items = list(_OBJECTS.items())
        for path, (data, mtime) in items:
            if path.startswith(dir_or_prefix):
                yield FileMetadata(path, len(data), mtime)

    def create(self, path, mime_type="application/octet-stream",
               compression_type=CompressionTypes.AUTO):
        return _Writer(path)

    def open(self, path, mime_type="application/octet-stream",
             compression_type=CompressionTypes.AUTO):
        with _LOCK:
            if path not in _OBJECTS:
                raise BeamIOError(f"no such object {path}")
            return io.BytesIO(_OBJECTS[path][0])

    def copy(self, source_file_names, destination_file_names):
        with _LOCK:
            for s, d in zip(source_file_names, destination_file_names, strict=True):
                _OBJECTS[d] = _OBJECTS[s]

    def rename(self, source_file_names, destination_file_names):
        with _LOCK:
            for s, d in zip(source_file_names, destination_file_names, strict=True):
                _OBJECTS[d] = _OBJECTS.pop(s)

    def exists(self, path):
        return path in _OBJECTS

    def size(self, path):
        return len(_OBJECTS[path][0])

    def last_updated(self, path):
        return _OBJECTS[path][1]

    def checksum(self, path):
        return str(hash(_OBJECTS[path][0]))

    def metadata(self, path):
        data, mtime = _OBJECTS[path]
        return FileMetadata(path, len(data), mtime)

    def delete(self, paths):
        with _LOCK:
            for p in paths:
                _OBJECTS.pop(p, None)


def objects(prefix: str = "mem://") -> dict[str, bytes]:
    with _LOCK:
        return {k: v[0] for k, v in _OBJECTS.items() if k.startswith(prefix)}


def put(path: str, data: bytes, mtime: float | None = None) -> None:
    with _LOCK:
        _OBJECTS[path] = (data, time.time() if mtime is None else mtime)
