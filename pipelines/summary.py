"""The printed run summary (from Beam metrics), the run's failures in words, and the exit
status (pipelines/args.py: 0 done, 3 some inputs failed, 4 nothing could be done)."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import TypeVar

from apache_beam.metrics.metric import MetricsFilter

from m2p_core.outputs.failures import FailedInput, by_input, console_lines
from pipelines.args import EXIT_NOTHING_DONE, EXIT_OK, EXIT_SOME_FAILED


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    output: str
    inputs: int
    media_written: int
    media_skipped: int
    windows: int
    failures: int
    audio_s: float
    wall_s: float
    failures_by_stage: dict[str, int] = field(default_factory=dict)  # stage -> failure rows
    media_flagged: int = 0  # written from partly decodable (damaged/truncated) media
    temp_files_removed: int = 0  # stale temp files of killed runs cleaned up at the start
    ignored: int = 0  # files in scanned folders that are not media (by extension)
    dry_run: bool = False  # --dry_run=True: the job was only built

    @property
    def failures_dir(self) -> str:
        return f"{self.output.rstrip('/')}/failures"

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio processed per second of wall time."""
        return self.audio_s / self.wall_s if self.wall_s > 0 else 0.0

    def text(self, what: str = "inputs", run_prefix: bool = True) -> str:
        by_stage = ", ".join(f"{k} {v}" for k, v in sorted(self.failures_by_stage.items()))
        flagged = f" ({self.media_flagged} partly decodable, flagged)" if self.media_flagged else ""
        ignored = f", {self.ignored} ignored (not media)" if self.ignored else ""
        work = (f"{self.windows} windows, {self.audio_s:.1f} s of audio in {self.wall_s:.1f} s "
                f"({self.realtime_factor:.0f}x realtime)" if self.media_written
                else f"nothing new to analyse, {self.wall_s:.1f} s")
        prefix = f"run {self.run_id}: " if run_prefix else ""
        return (
            f"{prefix}{self.inputs} {what}, {self.media_written} written{flagged}, "
            f"{self.media_skipped} skipped (already done){ignored}, {self.failures} failures"
            f"{f' ({by_stage})' if by_stage else ''}, {work} -> {self.output}"
        )


S = TypeVar("S")


def merge_summaries(a: S, b: S) -> S:
    """Two summaries of the same kind (RunSummary, or a command's summary around one) added up,
    for a run made of chunks: counts, seconds and per-stage counts are summed; the rest (run
    id, output) is ``a``'s."""
    values = {}
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if dataclasses.is_dataclass(x):
            values[f.name] = merge_summaries(x, y)
        elif isinstance(x, dict):
            values[f.name] = {k: x.get(k, 0) + y.get(k, 0) for k in sorted({*x, *y})}
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            values[f.name] = x + y
        else:
            values[f.name] = x
    return dataclasses.replace(a, **values)


def metric_count(result, name: str) -> int:
    try:
        found = result.metrics().query(MetricsFilter().with_namespace("m2p").with_name(name))
    except Exception:  # a runner without metrics support
        return 0
    total = 0
    for c in found.get("counters", []):
        value = c.committed if c.committed is not None else c.attempted
        total += int(value or 0)
    return total


def _counters_with_prefix(result, prefix: str) -> dict[str, int]:
    try:
        found = result.metrics().query(MetricsFilter().with_namespace("m2p"))
    except Exception:
        return {}
    out: dict[str, int] = {}
    for c in found.get("counters", []):
        name = c.key.metric.name
        if name.startswith(prefix):
            value = c.committed if c.committed is not None else c.attempted
            out[name[len(prefix):]] = out.get(name[len(prefix):], 0) + int(value or 0)
    return {k: v for k, v in out.items() if v}


def summarise(result, run_id: str, output: str, wall_s: float,
              temp_files_removed: int = 0, dry_run: bool = False) -> RunSummary:
    return RunSummary(
        run_id=run_id,
        output=output,
        inputs=metric_count(result, "inputs"),
        media_written=metric_count(result, "media_written"),
        media_skipped=metric_count(result, "media_skipped"),
        windows=metric_count(result, "windows"),
        failures=metric_count(result, "failures"),
        audio_s=metric_count(result, "audio_ms") / 1000.0,
        wall_s=wall_s,
        failures_by_stage=_counters_with_prefix(result, "failures."),
        media_flagged=metric_count(result, "media_flagged"),
        temp_files_removed=temp_files_removed,
        ignored=metric_count(result, "ignored"),
        dry_run=dry_run,
    )


def read_run_failures(failures_dir: str, run_id: str) -> list[dict]:
    """This run's failure rows (``failures/run-<run_id>*.parquet``, on any filesystem)."""
    import pyarrow.parquet as pq

    from transforms import fsio

    try:
        found = fsio.FileSystems.match([fsio.join(failures_dir, f"run-{run_id}*.parquet")])
        paths = sorted(m.path for r in found for m in r.metadata_list)
    except Exception:  # noqa: BLE001 - no failures folder: no failures
        return []
    rows: list[dict] = []
    for path in paths:
        with fsio.FileSystems.open(path, compression_type="uncompressed") as f:
            rows += pq.read_table(f).to_pylist()
    return rows


def exit_status(done: int, failed: list[FailedInput]) -> int:
    """0 when every input was done or already done; 3 when some failed; 4 when none was done
    (no input matched, all failed, only files that are not media)."""
    if done == 0:
        return EXIT_NOTHING_DONE
    return EXIT_SOME_FAILED if any(not f.partial for f in failed) else EXIT_OK


def finish(command: str, summary_text: str, done: int, run: RunSummary, cap: int = 20) -> int:
    """Print the summary and, on stderr, the failed inputs (up to ``cap``, with the reason and
    the fix, then where all rows are); return the exit status. ``done``: inputs done or
    already done (what counts as an input is the command's: videos for recolor)."""
    if run.dry_run:
        print(f"dry run: the job was built and translated, nothing ran -> {run.output}")
        return EXIT_OK
    print(summary_text, flush=True)
    failed = by_input(read_run_failures(run.failures_dir, run.run_id), command)
    lines = console_lines(failed, f"{run.failures_dir}/run-{run.run_id}.parquet", cap)
    if done == 0 and not failed:
        ignored = (f" ({run.ignored} file{'s' if run.ignored != 1 else ''} ignored: not media "
                   "by their extension)" if run.ignored else "")
        lines.append(f"nothing to do: no media file found{ignored}")
    elif done == 0:
        lines.append("nothing could be done: every input failed")
    if lines:
        print("\n".join(lines), file=sys.stderr, flush=True)
    return exit_status(done, failed)
