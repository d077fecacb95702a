"""m2p_core.training.manifest.read_manifest and m2p_core.model.russell.quadrant_of."""

from __future__ import annotations

from pathlib import Path

import pytest

from m2p_core.model.russell import QUADRANT_NAMES, QUADRANT_SIGNS, QUADRANTS, quadrant_of
from m2p_core.training.manifest import ManifestError, ManifestRow, read_manifest


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- russell -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v", "a", "q"),
    [
        (0.5, 0.5, "Q1"),
        (-0.5, 0.5, "Q2"),
        (-0.5, -0.5, "Q3"),
        (0.5, -0.5, "Q4"),
        (1.0, 1.0, "Q1"),
        (-1.0, -1.0, "Q3"),
        (0.0, 0.0, "Q1"),
        (0.0, -0.1, "Q4"),
        (-0.1, 0.0, "Q2"),
        (0.1, 0.0, "Q1"),
        (-0.0, -0.0, "Q1"),
        (1e-12, -1e-12, "Q4"),
    ],
)
def test_quadrant_of(v, a, q):
    assert quadrant_of(v, a) == q


def test_quadrant_tables_consistent():
    assert set(QUADRANTS) == set(QUADRANT_SIGNS) == set(QUADRANT_NAMES)
    for q, (sv, sa) in QUADRANT_SIGNS.items():
        assert quadrant_of(float(sv), float(sa)) == q
        assert quadrant_of(0.3 * sv, 0.7 * sa) == q
    assert QUADRANT_NAMES["Q1"] == "happy" and QUADRANT_NAMES["Q3"] == "sad"


# --- manifest ----------------------------------------------------------------------------------


def test_quadrant_form(tmp_path):
    m = _write(
        tmp_path / "data" / "labels.csv",
        "clip_id,path,quadrant,artist\n"
        "c1,audio/a.mp3,Q1,Alice\n"
        "c2,audio/b.mp3,q2,Bob\n"
        "c3,audio/c.mp3, Q3 ,Alice\n"
        "c4,audio/d.mp3,Q4,Carol\n",
    )
    rows = read_manifest(m)
    assert [r.clip_id for r in rows] == ["c1", "c2", "c3", "c4"]
    assert [(r.valence, r.arousal) for r in rows] == [(1, 1), (-1, 1), (-1, -1), (1, -1)]
    assert [r.quadrant for r in rows] == ["Q1", "Q2", "Q3", "Q4"]
    assert all(isinstance(r, ManifestRow) for r in rows)
    assert all(isinstance(r.valence, float) for r in rows)
    assert [r.artist for r in rows] == ["Alice", "Bob", "Alice", "Carol"]
    assert all(r.weight == 1.0 for r in rows)


def test_valence_arousal_form(tmp_path):
    m = _write(
        tmp_path / "m.csv",
        "path,valence,arousal\nx.wav,0.25,-0.5\ny.wav,-1,1\nz.wav,0,0\n",
    )
    rows = read_manifest(m)
    assert [(r.valence, r.arousal) for r in rows] == [(0.25, -0.5), (-1.0, 1.0), (0.0, 0.0)]
    assert [r.quadrant for r in rows] == ["Q4", "Q2", "Q1"]
    assert [r.clip_id for r in rows] == ["row0", "row1", "row2"]


def test_quadrant_column_with_empty_cells_falls_back_to_valence_arousal(tmp_path):
    m = _write(
        tmp_path / "m.csv",
        "path,quadrant,valence,arousal\na.wav,Q3,,\nb.wav,,0.4,0.6\n",
    )
    rows = read_manifest(m)
    assert (rows[0].valence, rows[0].arousal) == (-1.0, -1.0)
    assert (rows[1].valence, rows[1].arousal) == (0.4, 0.6)


def test_relative_paths_resolved_against_manifest_folder(tmp_path, monkeypatch):
    abs_audio = tmp_path / "elsewhere" / "abs.wav"
    _write(
        tmp_path / "sets" / "one" / "labels.csv",
        f"path,quadrant\nclips/a.mp3,Q1\n../b.mp3,Q2\n{abs_audio},Q3\n",
    )
    monkeypatch.chdir(tmp_path / "sets")  # a relative manifest path, cwd not its folder
    rows = read_manifest(Path("one") / "labels.csv")
    folder = (tmp_path / "sets" / "one").resolve()
    assert Path(rows[0].path) == folder / "clips" / "a.mp3"
    assert Path(rows[0].path).is_absolute()
    assert Path(rows[1].path).resolve() == (tmp_path / "sets" / "b.mp3").resolve()
    assert Path(rows[2].path) == abs_audio


def test_weight_columns(tmp_path):
    m = _write(
        tmp_path / "w.csv",
        "path,quadrant,weight,quadrant_tag_ratio\n"
        "a.wav,Q1,0.5,0.9\n"  # weight wins
        "b.wav,Q1,,0.75\n"  # falls back to quadrant_tag_ratio
        "c.wav,Q1,,\n",  # default 1
    )
    assert [r.weight for r in read_manifest(m)] == [0.5, 0.75, 1.0]
    m2 = _write(tmp_path / "w2.csv", "path,quadrant,quadrant_tag_ratio\na.wav,Q2,0.6\n")
    assert read_manifest(m2)[0].weight == 0.6


def test_missing_artist_gives_unique_groups(tmp_path):
    m = _write(
        tmp_path / "a.csv",
        "path,quadrant,artist\na.wav,Q1,\nb.wav,Q1,  \nc.wav,Q2,Dave\nd.wav,Q2,\n",
    )
    rows = read_manifest(m)
    assert rows[2].artist == "Dave"
    anonymous = [rows[0].artist, rows[1].artist, rows[3].artist]
    assert len(set(anonymous)) == 3
    assert "Dave" not in anonymous and "" not in anonymous
    # no artist column at all
    m2 = _write(tmp_path / "b.csv", "path,quadrant\na.wav,Q1\nb.wav,Q1\n")
    rows2 = read_manifest(m2)
    assert rows2[0].artist != rows2[1].artist


def test_utf8_and_extra_columns(tmp_path):
    m = _write(
        tmp_path / "u.csv",
        "path,quadrant,artist,comment\nSigur Rós – Hoppípolla.mp3,Q4,Sigur Rós,\"a, b\"\n",
    )
    (row,) = read_manifest(m)
    assert row.artist == "Sigur Rós"
    assert row.path.endswith("Sigur Rós – Hoppípolla.mp3")


@pytest.mark.parametrize(
    "text",
    [
        "file,quadrant\na.wav,Q1\n",  # no path column
        "path,artist\na.wav,x\n",  # no labels
        "path,valence\na.wav,0.5\n",  # arousal missing
        "path,arousal\na.wav,0.5\n",  # valence missing
    ],
)
def test_missing_columns(tmp_path, text):
    with pytest.raises(ManifestError):
        read_manifest(_write(tmp_path / "m.csv", text))


@pytest.mark.parametrize("q", ["Q5", "Q0", "happy", "1", "Q1Q2"])
def test_bad_quadrant(tmp_path, q):
    m = _write(tmp_path / "m.csv", f"path,quadrant\na.wav,Q1\nb.wav,{q}\n")
    with pytest.raises(ManifestError, match="row 3"):
        read_manifest(m)


def test_empty_quadrant_without_valence_arousal_is_a_manifest_error(tmp_path):
    m = _write(tmp_path / "m.csv", "path,quadrant\na.wav,Q1\nb.wav,\n")
    with pytest.raises(ManifestError):
        read_manifest(m)


@pytest.mark.parametrize("text", ["", "path,quadrant\n", "path,valence,arousal\n"])
def test_empty_file(tmp_path, text):
    with pytest.raises(ManifestError):
        read_manifest(_write(tmp_path / "m.csv", text))


def test_manifest_error_is_value_error():
    assert issubclass(ManifestError, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_manifest(tmp_path / "missing.csv")
