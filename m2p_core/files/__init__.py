"""Local files the library writes: atomic replacement and the user's cache folder.

- :func:`atomic_path`, :func:`atomic_write_bytes` — write a file so that readers (and a run
  killed half-way) only ever see the old file or the complete new one; temp names match
  :data:`TEMP_NAME`, so a later run can recognise and remove what a killed run left.
- :func:`cache_dir` — ``$XDG_CACHE_HOME/music2palette/<part>`` (default ``~/.cache``), never
  inside the repository; :func:`file_digest` — an input file's identity in a cache key (its
  content's sha256), so caches survive copies of the data and never serve a changed file.
"""

from m2p_core.files.atomic import TEMP_NAME, atomic_path, atomic_write_bytes, temp_path_for
from m2p_core.files.cache import cache_dir, file_digest

__all__ = ["TEMP_NAME", "atomic_path", "atomic_write_bytes", "cache_dir", "file_digest",
           "temp_path_for"]
