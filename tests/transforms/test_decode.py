import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to
from media_factory import music

from m2p_core.outputs.timeline import TimelineParams
from transforms.decode import DecodeWindows
from transforms.match import MatchedMedia

PARAMS = TimelineParams("test-000000000000", 10.0, 5.0)


def test_windows_done_and_failures(tmp_path, test_pipeline):
    good = music(tmp_path / "good.flac", 12.0)
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"this is not audio" * 10)
    media = [MatchedMedia(str(good), good.stat().st_size), MatchedMedia(str(bad), 170)]
    with test_pipeline as p:
        out = (
            p
            | beam.Create(media)
            | DecodeWindows(10.0, 5.0, 16000, str(tmp_path / "timelines"), PARAMS, "run1")
        )
        keys = out.windows | beam.Map(
            lambda kv: (kv[0].window_index, kv[0].start_s, round(kv[0].end_s, 2), kv[0].padded,
                        tuple(kv[1].shape))
        )
        assert_that(keys, equal_to([(0, 0.0, 10.0, False, (160000,)),
                                    (1, 2.0, 12.0, False, (160000,))]), label="windows")
        done = out.done | beam.Map(lambda kv: (kv[0], kv[1].n_windows, round(kv[1].duration_s, 2)))
        assert_that(done, equal_to([(str(good), 2, 12.0)]), label="done")
        failed = out.failures | beam.Map(lambda f: (f["source_uri"], f["stage"], f["error_type"]))
        assert_that(failed, equal_to([(str(bad), "decode", "UndecodableMediaError")]),
                    label="failures")
