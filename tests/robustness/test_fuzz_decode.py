"""Issue #7: time-bounded fuzzing of the decode entry points (hypothesis).

Property: ``probe``/``iter_audio`` on any bytes either raise a typed ``MediaError`` or give
float32 mono chunks (and finish quickly) -- never another exception, never a hang.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m2p_core.audio.decode import DecodeStats, MediaError, iter_audio, probe
from m2p_core.synth.writers import write_audio

SR = 8000
FUZZ = settings(max_examples=60, deadline=3000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    d = tmp_path_factory.mktemp("seeds")
    x = (0.4 * np.sin(2 * np.pi * 330 * np.arange(SR) / SR)).astype(np.float32)
    out = []
    for ext in (".wav", ".mp3", ".flac", ".ogg", ".m4a"):
        write_audio(d / f"s{ext}", x, SR)
        out.append((d / f"s{ext}").read_bytes())
    return out


def _decode(data: bytes) -> None:
    try:
        probe(io.BytesIO(data))
    except MediaError:
        pass
    stats = DecodeStats()
    try:
        for chunk in iter_audio(io.BytesIO(data), 16000, stats=stats, time_budget_s=2.0,
                                max_duration_s=600.0):
            assert chunk.dtype == np.float32 and chunk.ndim == 1
            assert np.isfinite(chunk).all()
    except MediaError:
        return
    assert stats.samples_out > 0


@FUZZ
@given(st.binary(min_size=0, max_size=4096))
def test_random_bytes(data):
    _decode(data)


@FUZZ
@given(st.data())
def test_mutated_media(seeds, data):
    seed = bytearray(data.draw(st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(0, 12))):
        i = data.draw(st.integers(0, len(seed) - 1))
        seed[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(seed)))
    _decode(bytes(seed[:cut] if data.draw(st.booleans()) else seed))
