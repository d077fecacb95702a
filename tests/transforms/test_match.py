import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to
from media_factory import music

from transforms.match import MatchMedia, as_match_pattern


def test_folders_match_recursively_and_literal_names_are_not_globs(tmp_path, test_pipeline):
    a = music(tmp_path / "lib" / "a.wav", 1.0)
    b = music(tmp_path / "lib" / "sub" / "song [live].wav", 1.0)
    missing = str(tmp_path / "nope.mp3")
    with test_pipeline as p:
        out = p | MatchMedia([str(tmp_path / "lib"), str(b), missing], run_id="r1")
        uris = out.media | beam.Map(lambda m: m.source_uri)
        assert_that(uris, equal_to([str(a), str(b)]), label="media")  # b matched once
        failed = out.failures | beam.Map(lambda f: (f["source_uri"], f["stage"]))
        assert_that(failed, equal_to([(missing, "match")]), label="failures")


def test_glob_patterns_pass_through(tmp_path):
    assert as_match_pattern(str(tmp_path / "*.mp3")) == str(tmp_path / "*.mp3")
    assert as_match_pattern("gs://bucket/music/") == "gs://bucket/music/**"
    assert as_match_pattern("gs://bucket/a.mp3") == "gs://bucket/a.mp3"
    assert as_match_pattern(str(tmp_path)).endswith("/**")
