"""Issue #7: one run over a hostile corpus mixed with good music, then a rerun.

No crash, exit status 3 (finished, some inputs failed); every bad file a failures row with a
clear message (partly decodable ones: flagged rows plus a ``PartialDecode`` failures row); every
good file complete; nothing written outside the output folder; no duplicate rows after the
rerun.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from corpus import build_corpus  # noqa: E402

from commands import main as cli  # noqa: E402
from m2p_core.outputs.timeline import safe_text  # noqa: E402


def _uri(case) -> str:
    return safe_text(os.path.normpath(os.path.abspath(case.path)))


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, tiny_checkpoint):
    root = tmp_path_factory.mktemp("corpus")
    cases = build_corpus(root)
    assert len({c.kind for c in cases}) >= 20
    out = root / "out"
    inputs = [str(root / "good"), str(root / "hostile")]
    inputs += [c.input_arg for c in cases if c.input_arg]
    before = {p for p in root.rglob("*") if p != out and out not in p.parents}
    cwd = os.getcwd()
    os.chdir(root)  # a shell would have run "$(touch pwned)" here
    try:
        argv = ["timeline", *inputs, "--output", str(out), "--model", tiny_checkpoint,
                "--hop", "120"]  # 10-s windows every 2 min: the 3-hour file gives 90
        first = cli.main(argv)
        rows1 = ds.dataset(str(out / "timelines")).to_table().to_pylist()
        second = cli.main(argv)
    finally:
        os.chdir(cwd)
    after = {p for p in root.rglob("*") if p != out and out not in p.parents}
    return cases, out, first, second, rows1, before, after


def _failures(out):
    return ds.dataset(str(out / "failures")).to_table().to_pylist()


def test_exit_3_and_nothing_written_outside_the_output(corpus_run):
    cases, out, first, second, _rows, before, after = corpus_run
    assert first == 3 and second == 3  # finished; the bad files are listed as failed
    assert after == before  # no stray file (e.g. "pwned"), no temp file, inputs untouched
    for p in out.rglob("*"):
        assert p.resolve().is_relative_to(out.resolve())
        if p.is_file():
            assert p.parent.name in ("timelines", "failures") and not p.name.startswith(".")


def test_every_case_has_its_outcome(corpus_run):
    cases, out, _first, _second, rows, _before, _after = corpus_run
    failures = [f for f in _failures(out) if f["run_id"] == min(f["run_id"] for f in
                                                                _failures(out))]
    rows_by_uri: dict[str, list] = {}
    for r in rows:
        rows_by_uri.setdefault(r["source_uri"], []).append(r)
    fails_by_uri: dict[str, list] = {}
    for f in failures:
        fails_by_uri.setdefault(f["source_uri"], []).append(f)
        assert f["message"] and len(f["message"]) > 20, f  # a message a person can act on
        assert f["error_type"] and f["stage"] in {"match", "read", "decode", "inference",
                                                  "write"}
    problems = []
    for c in cases:
        uri = _uri(c)
        got_rows, got_fail = rows_by_uri.get(uri, []), fails_by_uri.get(uri, [])
        if c.expect == "ok":
            idx = sorted(r["window_index"] for r in got_rows)
            ok = (idx and idx == list(range(len(idx))) and not got_fail
                  and all(r["decode_warnings"] is None for r in got_rows))
        elif c.expect == "flagged":
            ok = (got_rows and all(r["decode_warnings"] for r in got_rows)
                  and [(f["stage"], f["error_type"]) for f in got_fail]
                  == [("decode", "PartialDecode")])
        else:
            ok = (not got_rows and len(got_fail) == 1 and got_fail[0]["stage"] == c.stage
                  and c.needle in got_fail[0]["message"].lower())
        if not ok:
            problems.append((c.kind, c.expect, len(got_rows), got_fail))
    assert not problems
    assert set(rows_by_uri) | set(fails_by_uri) == {_uri(c) for c in cases}


def test_specific_cases(corpus_run):
    cases, _out, _first, _second, rows, _before, _after = corpus_run
    by_kind = {c.kind: c for c in cases}
    n = Counter(r["source_uri"] for r in rows)
    assert n[_uri(by_kind["3-hour file (sparse silence)"])] == 90  # streamed to the end
    three_h = [r for r in rows if r["source_uri"] == _uri(by_kind["3-hour file (sparse silence)"])]
    assert max(r["end_s"] for r in three_h) == pytest.approx(10690.0)
    dups = [r for r in rows if r["source_uri"] in {_uri(by_kind["identical file, name 1"]),
                                                    _uri(by_kind["identical file, name 2"])}]
    assert len({r["source_uri"] for r in dups}) == 2 and len({r["media_id"] for r in dups}) == 1
    dotdot = by_kind["input path with ../ segments"]
    assert n[_uri(dotdot)] == 1 and not any("/../" in r["source_uri"] for r in rows)
    latin = _uri(by_kind["file name that is not UTF-8"])
    assert "\\xe9" in latin and n[latin] == 1


def test_rerun_skips_done_work_and_adds_no_duplicates(corpus_run, capsys):
    cases, out, _first, _second, rows1, _before, _after = corpus_run
    rows = ds.dataset(str(out / "timelines")).to_table().to_pylist()
    keys = [(r["source_uri"], r["window_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == len(rows1)
    failures = _failures(out)
    runs = sorted({f["run_id"] for f in failures})
    assert len(runs) == 2
    first = Counter((f["source_uri"], f["stage"]) for f in failures if f["run_id"] == runs[0])
    second = Counter((f["source_uri"], f["stage"]) for f in failures if f["run_id"] == runs[1])
    # bad inputs are tried again (they may have been fixed); flagged ones were written: skipped
    flagged = {(_uri(c), "decode") for c in cases if c.expect == "flagged"}
    assert set(second) == set(first) - flagged
