"""m2p_core.model.checkpoint: save/verify/load, model_version, refusal of foreign or tampered
files."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
import torch

from m2p_core.model.checkpoint import (
    FORMAT,
    CheckpointError,
    checkpoint_stem,
    default_checkpoint_path,
    load_checkpoint,
    model_version_of_bytes,
    save_checkpoint,
    sha256_of_file,
)
from m2p_core.model.network import ModelConfig, Music2Palette

SMALL = ModelConfig(window_s=1.0, channels=(4, 8), embedding_dim=8)
VERSION_RE = r"-[0-9a-f]{12}"


class _Arbitrary:
    """Not a tensor, not a primitive: weights_only loading must refuse it."""

    def __init__(self) -> None:
        self.payload = "anything"


def _model(seed: int = 0, config: ModelConfig = SMALL) -> Music2Palette:
    torch.manual_seed(seed)
    m = Music2Palette(config)
    # give BatchNorm non-trivial running statistics so that they are part of the round trip
    m.train()
    with torch.no_grad():
        m(0.3 * torch.randn(4, config.window_samples))
    return m.eval()


def _inputs(config: ModelConfig = SMALL) -> torch.Tensor:
    g = torch.Generator().manual_seed(42)
    return 0.2 * torch.randn(3, config.window_samples, generator=g)


@pytest.fixture()
def saved(tmp_path) -> tuple[Music2Palette, Path, str]:
    model = _model()
    path = tmp_path / "small.pt"
    version = save_checkpoint(model, path, "small", train_info={"epochs": 3, "note": "t"})
    return model, path, version


def test_round_trip_identical_outputs(saved):
    model, path, version = saved
    loaded = load_checkpoint(path)
    assert loaded.model_version == version
    assert loaded.train_info == {"epochs": 3, "note": "t"}
    assert loaded.model.config == model.config
    assert not loaded.model.training
    assert not any(p.requires_grad for p in loaded.model.parameters())
    x = _inputs()
    # same conditions for both: torch's transformer layers take a fused inference path only when
    # no parameter requires grad, which changes the last float bits
    model.requires_grad_(False)
    with torch.no_grad():
        a, b = model(x), loaded.model(x)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    sd_a, sd_b = model.state_dict(), loaded.model.state_dict()
    assert sd_a.keys() == sd_b.keys()
    for k in sd_a:
        assert torch.equal(sd_a[k], sd_b[k]), k


def test_sidecar_written_and_matches(saved):
    _, path, version = saved
    side = Path(str(path) + ".sha256")
    assert side.is_file()
    digest, name = side.read_text().split()
    assert name == path.name
    assert digest == sha256_of_file(path)
    assert version == f"small-{digest[:12]}"
    assert not list(path.parent.glob("*.tmp"))


def test_model_version_format_and_changes_with_weights(tmp_path):
    p1 = tmp_path / "a" / "m2p-test.pt"  # parent folder is created
    v1 = save_checkpoint(_model(0), p1, "m2p-test")
    assert re.fullmatch(r"m2p-test" + VERSION_RE, v1)
    assert v1 == model_version_of_bytes(p1, p1.read_bytes())
    # same weights, same bytes -> same version (deterministic serialisation)
    p1b = tmp_path / "b" / "m2p-test.pt"
    assert save_checkpoint(_model(0), p1b, "m2p-test") == v1
    # different weights -> different version
    p2 = tmp_path / "c" / "m2p-test.pt"
    v2 = save_checkpoint(_model(1), p2, "m2p-test")
    assert re.fullmatch(r"m2p-test" + VERSION_RE, v2)
    assert v2 != v1
    # one weight nudged -> different version
    m = _model(0)
    with torch.no_grad():
        next(m.parameters()).view(-1)[0] += 1e-3
    p3 = tmp_path / "d" / "m2p-test.pt"
    assert save_checkpoint(m, p3, "m2p-test") != v1


def test_checkpoint_stem():
    assert checkpoint_stem("/x/y/m2p-v0.pt") == "m2p-v0"
    assert checkpoint_stem("gs://b/ckpt/model.pt") == "model"
    assert checkpoint_stem("weights.bin") == "weights.bin"


def test_tampered_file_with_sidecar_raises(saved):
    _, path, _ = saved
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path)


def test_sidecar_mismatch_raises_even_if_file_is_valid(saved, tmp_path):
    _, path, _ = saved
    Path(str(path) + ".sha256").write_text("0" * 64 + "  small.pt\n")
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_corrupt_file_without_sidecar_raises(saved):
    _, path, _ = saved
    os.remove(str(path) + ".sha256")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 3])  # truncated
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_non_checkpoint_file_raises(tmp_path):
    p = tmp_path / "notes.pt"
    p.write_text("this is not a checkpoint\n")
    with pytest.raises(CheckpointError):
        load_checkpoint(p)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError):
        load_checkpoint(empty)


def test_missing_file_raises(tmp_path):
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "nope.pt")


def test_foreign_torch_file_raises(tmp_path):
    p = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, p)  # loadable, but no format tag
    with pytest.raises(CheckpointError, match="not a music2palette checkpoint"):
        load_checkpoint(p)
    p2 = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), p2)
    with pytest.raises(CheckpointError):
        load_checkpoint(p2)


def test_arbitrary_pickled_object_is_refused(tmp_path):
    p = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "name": "evil", "config": {}, "obj": _Arbitrary()}, p)
    with pytest.raises(CheckpointError):
        load_checkpoint(p)
    # also when the bytes come in through ``data=``
    with pytest.raises(CheckpointError):
        load_checkpoint("gs://bucket/evil.pt", data=p.read_bytes())


def test_load_from_bytes(saved):
    model, path, version = saved
    data = path.read_bytes()
    loaded = load_checkpoint("gs://bucket/models/small.pt", data=data)
    assert loaded.model_version == version  # same stem, same content
    x = _inputs()
    with torch.no_grad():
        assert torch.equal(model(x)["va_logits"], loaded.model(x)["va_logits"])


def test_load_from_bytes_skips_local_sidecar(saved):
    """``data=`` carries bytes read elsewhere: there is no local sidecar to check them against."""
    _, path, _ = saved
    Path(str(path) + ".sha256").write_text("0" * 64 + "  small.pt\n")
    loaded = load_checkpoint(path, data=path.read_bytes())
    assert loaded.model_version.startswith("small-")


def test_load_from_file_object(saved):
    from m2p_core.model.checkpoint import read_checkpoint_bytes

    _, path, _ = saved
    assert read_checkpoint_bytes(io.BytesIO(path.read_bytes())) == path.read_bytes()


def test_conftest_tiny_checkpoint_loads(tiny_checkpoint):
    loaded = load_checkpoint(tiny_checkpoint)
    assert re.fullmatch(r"tiny" + VERSION_RE, loaded.model_version)


def test_shipped_checkpoint():
    path = default_checkpoint_path()
    if not os.path.isfile(path):
        pytest.skip(f"no shipped checkpoint at {path} yet")
    side = Path(path + ".sha256")
    assert side.is_file(), "the shipped checkpoint must have a .sha256 sidecar"
    digest = side.read_text().split()[0].lower()
    assert digest == sha256_of_file(path)
    loaded = load_checkpoint()  # default path
    assert loaded.model_version == f"{checkpoint_stem(path)}-{digest[:12]}"
    cfg = loaded.model.config
    g = torch.Generator().manual_seed(0)
    noise = 0.2 * torch.randn(cfg.window_samples, generator=g)
    x = torch.stack([torch.zeros(cfg.window_samples), noise])
    with torch.no_grad():
        out = loaded.model(x)
    assert out["palette_lab"].shape == (2, cfg.n_colours, 3)
    for v in out.values():
        assert torch.isfinite(v).all()
    va = out["valence_arousal"]
    assert (va.abs() <= 1.0).all()
