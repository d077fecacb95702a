"""Fixtures shared by the core tests."""

import pytest
import torch

from m2p_core.model.network import Music2Palette


@pytest.fixture(scope="module")
def untrained_model() -> Music2Palette:
    """A freshly initialised model (seed 0) in eval mode; one per test module."""
    torch.manual_seed(0)
    m = Music2Palette()
    m.eval()
    return m
