"""Failure rows in words: per failed input, the stage, a one-line reason and the fix where
there is one. Used by the console after a run and by the report's failures table.

A failures row (:data:`m2p_core.outputs.timeline.FAILURE_SCHEMA`) keeps the full message; this
module only shortens and explains it. Rows of one input (a video whose soundtrack could not be
analysed is also a video that could not be recoloured) become one :class:`FailedInput`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: the order in which an input meets the stages: the first failed one is the cause
STAGE_ORDER = ("match", "read", "decode", "inference", "write", "recolor", "encode", "generate")
#: a row of this type means "written, but from partly decodable audio" (a warning)
PARTIAL = "PartialDecode"
REASON_MAX = 160


@dataclass(frozen=True)
class FailedInput:
    source_uri: str
    stage: str
    reason: str  # one line
    fix: str | None  # what to do about it, where there is something
    partial: bool = False  # only a partial decode: its rows were written (flagged)

    def line(self, name: str | None = None) -> str:
        fix = f" -> {self.fix}" if self.fix else ""
        return f"{name or self.source_uri} ({self.stage}): {self.reason}{fix}"


def _one_line(text: str, uri: str) -> str:
    text = " ".join(str(text or "").split())
    head, sep, detail = text.partition(" (")
    if sep and len(head) >= 20 and ("Error" in detail or "Errno" in detail):
        text = head  # the decoder's own words stay in the failures row
    if uri:
        text = text.replace(uri, os.path.basename(uri.rstrip("/")) or uri)
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def explain(row: Mapping[str, Any], command: str = "") -> tuple[str, str | None]:
    """(one-line reason, fix or None) for one failures row; ``command``: the m2p command
    that ran (the fix for a video without sound depends on it)."""
    stage, kind = row.get("stage") or "", row.get("error_type") or ""
    uri = row.get("source_uri") or ""
    message = str(row.get("message") or "")
    low = message.lower()
    if stage == "match":
        return ("no file matches this input",
                "check the path; quote glob patterns, e.g. 'clips/*.mp4'")
    if kind == "NoAudioStreamError" or "no palette timeline (no audio stream" in low:
        if command == "recolor":
            return "video has no audio", "pass --music AUDIO"
        return "has no audio to analyse", None
    if "no palette timeline for the --music track" in low:
        return "the --music track could not be analysed (see its own failure)", None
    if kind == "NotARegularFileError":
        return "not a regular file (a FIFO, socket or device): not read", None
    if kind == "PermissionError":
        return "cannot be read: permission denied", "check the file's permissions"
    if kind == "DecodeTimeoutError":
        return _one_line(message, uri), "raise --decode-timeout SECONDS"
    if kind == "MediaTooLongError":
        return _one_line(message, uri), "raise --max-duration SECONDS"
    if kind == PARTIAL:
        return _one_line(message, uri), None
    if stage == "decode" and kind in ("UndecodableMediaError", "EmptyMediaError"):
        return _one_line(message, uri), "check that the file is audio or video and plays"
    if stage == "write":
        return _one_line(f"{kind}: {message}", uri), "check that the --output folder is writable"
    reason = message if kind in ("Error", "") else f"{kind}: {message}"
    return _one_line(reason, uri), None


def _stage_rank(row: Mapping[str, Any]) -> int:
    stage = row.get("stage") or ""
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


def by_input(rows: Iterable[Mapping[str, Any]], command: str = "") -> list[FailedInput]:
    """One :class:`FailedInput` per input, named by its first failed stage (a partial
    decode only when it is all there is), in input order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row.get("source_uri") or "", []).append(row)
    out = []
    for uri in sorted(groups):
        group = sorted(groups[uri], key=_stage_rank)
        hard = [r for r in group if r.get("error_type") != PARTIAL]
        first = (hard or group)[0]
        reason, fix = explain(first, command)
        if fix is None:  # a later row of the same input may know the fix
            fix = next((f for r in group for f in [explain(r, command)[1]] if f), None)
        out.append(FailedInput(uri, first.get("stage") or "", reason, fix, partial=not hard))
    return out


def display_name(uri: str, cwd: str | None = None) -> str:
    """A local path relative to the working folder when it lies below it; else as it is."""
    if "://" in uri or not os.path.isabs(uri):
        return uri
    rel = os.path.relpath(uri, cwd or os.getcwd())
    return uri if rel.startswith("..") else rel


def console_lines(failed: list[FailedInput], where: str, cap: int = 20) -> list[str]:
    """The console's account of a run's failures: up to ``cap`` inputs, then a pointer to
    the full rows in ``where`` (the failures Parquet)."""
    hard = [f for f in failed if not f.partial]
    partial = [f for f in failed if f.partial]
    lines = []
    for items, title in (
            (hard, "failed"),
            (partial, "decoded only in part (rows written, see the decode_warnings column)")):
        if not items:
            continue
        n = len(items)
        lines.append(f"{n} input{'s' if n != 1 else ''} {title}:")
        lines += [f"  {f.line(display_name(f.source_uri))}" for f in items[:cap]]
        if n > cap:
            lines.append(f"  ... and {n - cap} more")
    if lines:
        lines.append(f"all failure rows: {where}")
    return lines
