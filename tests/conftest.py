"""Shared fixtures: an in-process Beam runner and a small checkpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # tests/media_factory.py


@pytest.fixture()
def test_pipeline():
    """A TestPipeline on Beam's in-process runner (never the Prism download)."""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from apache_beam.testing.test_pipeline import TestPipeline

    return TestPipeline(runner=FnApiRunner())


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> str:
    """An untrained but valid checkpoint (mechanics tests; the shipped one is tested apart)."""
    from m2p_core.model.checkpoint import save_checkpoint
    from m2p_core.model.network import Music2Palette

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    model = Music2Palette()
    model.eval()
    save_checkpoint(model, path, "tiny")
    return str(path)
