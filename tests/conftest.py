"""Fixtures shared by the test modules."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A float64 random generator with a fixed seed: every test sees the same draws."""
    return np.random.default_rng(20240611)
