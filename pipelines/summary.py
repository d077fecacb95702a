"""The printed run summary, from Beam metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from apache_beam.metrics.metric import MetricsFilter


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

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio processed per second of wall time."""
        return self.audio_s / self.wall_s if self.wall_s > 0 else 0.0

    def text(self) -> str:
        by_stage = ", ".join(f"{k} {v}" for k, v in sorted(self.failures_by_stage.items()))
        flagged = f" ({self.media_flagged} partly decodable, flagged)" if self.media_flagged else ""
        return (
            f"run {self.run_id}: {self.inputs} inputs, {self.media_written} written{flagged}, "
            f"{self.media_skipped} skipped (already done), {self.failures} failures"
            f"{f' ({by_stage})' if by_stage else ''}, "
            f"{self.windows} windows, {self.audio_s:.1f} s of audio in {self.wall_s:.1f} s "
            f"({self.realtime_factor:.0f}x realtime) -> {self.output}"
        )


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
              temp_files_removed: int = 0) -> RunSummary:
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
    )
