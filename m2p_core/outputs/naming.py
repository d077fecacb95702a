"""Output file names derived from input URIs: readable, unique, and confined to one folder."""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+|\.{2,}")  # runs of dots too: no ".." anywhere


def output_stem(source_uri: str, max_len: int = 48) -> str:
    """A safe file stem for outputs of ``source_uri``.

    Keeps a readable part of the base name (letters, digits, ``._-``; never starting with ``.``
    or ``-``, so no hidden files, no option-like names, no ``..``) and appends 12 hex of the
    sha256 of the full URI, so two inputs with the same base name never collide.
    """
    base = source_uri.rstrip("/").rsplit("/", 1)[-1]
    base = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    readable = _UNSAFE.sub("_", base).strip("._-")[:max_len] or "media"
    digest = hashlib.sha256(source_uri.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{readable}-{digest}"
